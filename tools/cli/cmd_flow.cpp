// caflow flow CONFIG.yml — run a flow as a daemon behind its HTTP gateway.
//
// SIGINT/SIGTERM: stop accepting, answer the requests in flight, stop the
// flow (executors close and flush their storage), exit 0.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/grpc_server.hpp"
#include "caflow/plugin.hpp"
#include "caflow/server.hpp"
#include "cli/banner.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/signals.hpp"

namespace caflow::cli {

namespace {

constexpr const char* flow_usage
  = "usage: caflow flow CONFIG.yml [--protocol P]... [--port N] [--host ADDR] [--plugin "
    "LIB.so]...\n"
    "                              [--cluster-port N] [--tls-cert F --tls-key F --tls-ca F]\n"
    "\n"
    "Runs the flow described by CONFIG.yml (Jina's Flow YAML) with an HTTP\n"
    "gateway until SIGINT or SIGTERM. Prints a banner once every replica is\n"
    "ready. --port and --host override the config's `with: {port, host}`\n"
    "(default 127.0.0.1:8080). --protocol http|grpc|websocket (several, or\n"
    "grpc,http) overrides `with: {protocol}`: Jina's gRPC gateway beside or\n"
    "instead of HTTP; an http or websocket gateway serves both (WebSocket on\n"
    "/); --port sets the first one's port, the others keep the config's\n"
    "ports or take the next ones.";

// --protocol grpc --protocol http, or grpc,http: replaces the config's
// protocols; ports stay where the config gives one per protocol, else the
// first port and the ones after it.
caf::error set_protocols(FlowOptions& o, const std::vector<std::string>& args) {
  std::vector<std::string> list;
  for (const auto& a : args) {
    size_t start = 0;
    for (;;) {
      auto comma = a.find(',', start);
      auto p = a.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      std::transform(p.begin(), p.end(), p.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (p != "http" && p != "grpc" && p != "websocket")
        return make_error(errc::invalid_argument, "--protocol " + p
                                                    + ": unsupported protocol (known: http, grpc, "
                                                      "websocket)");
      if (std::find(list.begin(), list.end(), p) != list.end())
        return make_error(errc::invalid_argument, "--protocol " + p + " is given twice");
      list.push_back(p);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  }
  // A protocol the config names keeps its port; a new one takes the first
  // port plus its position.
  auto old = o.gateways();
  auto port_of = [&](const std::string& p, size_t i) {
    for (const auto& g : old)
      if (g.protocol == p)
        return g.port;
    return static_cast<uint16_t>(old[0].port + i);
  };
  std::vector<GatewayOptions> next;
  for (size_t i = 0; i < list.size(); ++i)
    next.push_back({list[i], port_of(list[i], i)});
  o.protocol = next[0].protocol;
  o.port = next[0].port;
  o.more_gateways.assign(next.begin() + 1, next.end());
  return {};
}

}  // namespace

int run_flow(int argc, char** argv) {
  std::string config;
  int64_t port = -1;
  std::string host;
  std::vector<std::string> plugins;
  std::vector<std::string> protocols;
  int64_t body_limit_mb = 0;
  int64_t cluster_port = -1;
  ServerOptions defaults;
  int64_t max_connections = 0;
  double idle_timeout_s = static_cast<double>(defaults.idle_timeout.count()) / 1000;
  int64_t max_docs = static_cast<int64_t>(defaults.max_docs);
  int64_t max_top_k = defaults.max_top_k;
  int64_t max_matches = static_cast<int64_t>(defaults.max_matches);
  int64_t max_response_mb = static_cast<int64_t>(defaults.max_response_bytes >> 20);
  double stop_timeout = 10;
  TlsOptions tls;
  po::options_description options{"options"};
  options.add_options()("config", po::value(&config)->required(), "the flow's YAML file")(
    "port,p", po::value(&port), "gateway port (0: any free port)")(
    "host", po::value(&host), "gateway bind address (default 127.0.0.1)")(
    "protocol", po::value(&protocols)->composing()->multitoken(),
    "gateway protocols: http, grpc (default: the config's, else http)")(
    "plugin", po::value(&plugins)->composing(), "load executors from this shared library")(
    "body-limit-mb", po::value(&body_limit_mb)->default_value(64),
    "largest request body accepted (413 above)")(
    "max-connections", po::value(&max_connections)->default_value(0),
    "connections open at once; more are answered 503 (0: half the file descriptor limit)")(
    "idle-timeout", po::value(&idle_timeout_s)->default_value(idle_timeout_s),
    "seconds a connection may stay silent before it is closed (0: never)")(
    "max-docs", po::value(&max_docs)->default_value(max_docs),
    "documents per request (413 above; 0: no limit)")(
    "max-top-k", po::value(&max_top_k)->default_value(max_top_k),
    "largest top_k of a request (400 above; 0: no limit)")(
    "max-matches", po::value(&max_matches)->default_value(max_matches),
    "documents x top_k of a request (400 above; 0: no limit)")(
    "max-response-mb", po::value(&max_response_mb)->default_value(max_response_mb),
    "largest response body (400 instead; 0: no limit)")(
    "stop-timeout", po::value(&stop_timeout)->default_value(stop_timeout),
    "seconds after SIGTERM/SIGINT within which the flow exits, drained or not")(
    "cluster-port", po::value(&cluster_port),
    "port where nodes join and `caflow scale` talks (default: the config's, else off)")(
    "tls-cert", po::value(&tls.cert), "certificate (PEM) towards nodes and on the cluster port")(
    "tls-key", po::value(&tls.key), "its private key (PEM)")(
    "tls-ca", po::value(&tls.ca), "CA (PEM) that nodes' certificates must be signed by");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, flow_usage, options, positional, vm); rc >= 0)
    return rc;

  if (!in_range("flow", "--port", port, -1, 65535)
      || !in_range("flow", "--cluster-port", cluster_port, -1, 65535)
      || !in_range("flow", "--body-limit-mb", body_limit_mb, 1, 1 << 20)
      || !in_range("flow", "--max-connections", max_connections, 0, 1000000)
      || !in_range("flow", "--idle-timeout", idle_timeout_s, 0.0, 86400.0)
      || !in_range("flow", "--max-docs", max_docs, 0, INT32_MAX)
      || !in_range("flow", "--max-top-k", max_top_k, 0, INT32_MAX)
      || !in_range("flow", "--max-matches", max_matches, 0, INT64_MAX / 2)
      || !in_range("flow", "--max-response-mb", max_response_mb, 0, 1 << 20)
      || !in_range("flow", "--stop-timeout", stop_timeout, 0.1, 3600.0))
    return 2;
  auto signals = block_stop_signals();
  auto started = std::chrono::steady_clock::now();
  auto flow = Flow::load(config);
  if (!flow) {
    std::cerr << "caflow flow: " << error_message(flow.error()) << '\n';
    return 1;
  }
  if (!protocols.empty()) {
    if (auto err = set_protocols(flow->options(), protocols)) {
      std::cerr << "caflow flow: " << error_message(err) << '\n';
      return 2;
    }
  }
  if (port >= 0)
    flow->options().port = static_cast<uint16_t>(port);
  if (!host.empty())
    flow->options().host = host;
  if (cluster_port >= 0)
    flow->options().cluster_port = static_cast<uint16_t>(cluster_port);
  if (tls.enabled())
    flow->options().tls = tls;
  if (auto err = load_plugins(plugins)) {
    std::cerr << "caflow flow: " << error_message(err) << '\n';
    return 1;
  }
  auto running = flow->start();
  if (!running) {
    std::cerr << "caflow flow: " << error_message(running.error()) << '\n';
    return 1;
  }
  ServerOptions server_options;
  server_options.host = flow->options().host;
  server_options.port = flow->options().port;
  server_options.body_limit = static_cast<size_t>(body_limit_mb) << 20;
  server_options.max_connections = static_cast<size_t>(max_connections);
  server_options.idle_timeout = std::chrono::milliseconds{
    static_cast<int64_t>(idle_timeout_s * 1000)};
  server_options.max_docs = static_cast<size_t>(max_docs);
  server_options.max_top_k = max_top_k;
  server_options.max_matches = static_cast<size_t>(max_matches);
  server_options.max_response_bytes = static_cast<size_t>(max_response_mb) << 20;
  // Answering the requests in flight takes at most 60% of the stop's
  // bound; the rest is for the executors to close (storage flushed).
  server_options.drain_timeout = std::chrono::milliseconds{
    static_cast<int64_t>(stop_timeout * 600)};
  std::vector<std::unique_ptr<HttpServer>> http_servers;
  std::vector<std::unique_ptr<GrpcServer>> grpc_servers;
  std::vector<std::pair<std::string, std::string>> addresses;
  for (const auto& gw : flow->options().gateways()) {
    if (gw.protocol == "grpc") {
      GrpcServerOptions grpc_options;
      grpc_options.host = flow->options().host;
      grpc_options.port = gw.port;
      grpc_options.max_message_size = server_options.body_limit;
      grpc_options.drain_timeout = server_options.drain_timeout;
      auto server = GrpcServer::start(*running, grpc_options);
      if (!server) {
        std::cerr << "caflow flow: " << error_message(server.error()) << '\n';
        return 1;
      }
      addresses.emplace_back("grpc", (*server)->address());
      grpc_servers.push_back(std::move(*server));
    } else {
      auto opts = server_options;
      opts.port = gw.port;
      auto server = HttpServer::start(*running, opts);
      if (!server) {
        std::cerr << "caflow flow: " << error_message(server.error()) << '\n';
        return 1;
      }
      // One server speaks both: HTTP, and WebSocket on / (Jina's route).
      addresses.emplace_back(gw.protocol, (*server)->address());
      http_servers.push_back(std::move(*server));
    }
  }
  double startup_s
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_banner(std::cout, *running, addresses, startup_s);

  std::cout << "caflow flow: " << wait_for_stop_signal(signals) << ": draining requests in flight"
            << std::endl;
  bound_stop(signals, stop_timeout, "flow");
  for (auto& server : grpc_servers)
    server->stop();
  for (auto& server : http_servers)
    server->stop();
  running->stop();
  std::cout << "caflow flow: stopped" << std::endl;
  return 0;
}

}  // namespace caflow::cli
