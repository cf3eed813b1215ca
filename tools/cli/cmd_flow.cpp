// caflow flow CONFIG.yml — run a flow as a daemon behind its HTTP gateway.
//
// SIGINT/SIGTERM: stop accepting, answer the requests in flight, stop the
// flow (executors close and flush their storage), exit 0.
#include <chrono>
#include <csignal>
#include <iostream>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/plugin.hpp"
#include "caflow/server.hpp"
#include "cli/banner.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/signals.hpp"

namespace caflow::cli {

namespace {

constexpr const char* flow_usage
  = "usage: caflow flow CONFIG.yml [--port N] [--host ADDR] [--plugin LIB.so]...\n"
    "                              [--cluster-port N] [--tls-cert F --tls-key F --tls-ca F]\n"
    "\n"
    "Runs the flow described by CONFIG.yml (Jina's Flow YAML) with an HTTP\n"
    "gateway until SIGINT or SIGTERM. Prints a banner once every replica is\n"
    "ready. --port and --host override the config's `with: {port, host}`\n"
    "(default 127.0.0.1:8080).";

}  // namespace

int run_flow(int argc, char** argv) {
  std::string config;
  int port = -1;
  std::string host;
  std::vector<std::string> plugins;
  size_t body_limit_mb = 0;
  int cluster_port = -1;
  TlsOptions tls;
  po::options_description options{"options"};
  options.add_options()("config", po::value(&config)->required(), "the flow's YAML file")(
    "port,p", po::value(&port), "gateway port (0: any free port)")(
    "host", po::value(&host), "gateway bind address (default 127.0.0.1)")(
    "plugin", po::value(&plugins)->composing(), "load executors from this shared library")(
    "body-limit-mb", po::value(&body_limit_mb)->default_value(64),
    "largest request body accepted (413 above)")(
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

  auto signals = block_stop_signals();
  auto started = std::chrono::steady_clock::now();
  auto flow = Flow::load(config);
  if (!flow) {
    std::cerr << "caflow flow: " << error_message(flow.error()) << '\n';
    return 1;
  }
  if (port > 65535) {
    std::cerr << "caflow flow: --port " << port << " is not a port\n";
    return 2;
  }
  if (port >= 0)
    flow->options().port = static_cast<uint16_t>(port);
  if (!host.empty())
    flow->options().host = host;
  if (cluster_port > 65535) {
    std::cerr << "caflow flow: --cluster-port " << cluster_port << " is not a port\n";
    return 2;
  }
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
  server_options.body_limit = body_limit_mb << 20;
  auto server = HttpServer::start(*running, server_options);
  if (!server) {
    std::cerr << "caflow flow: " << error_message(server.error()) << '\n';
    return 1;
  }
  double startup_s
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_banner(std::cout, *running, (*server)->address(), startup_s);

  std::cout << "caflow flow: " << wait_for_stop_signal(signals) << ": draining requests in flight"
            << std::endl;
  (*server)->stop();
  running->stop();
  std::cout << "caflow flow: stopped" << std::endl;
  return 0;
}

}  // namespace caflow::cli
