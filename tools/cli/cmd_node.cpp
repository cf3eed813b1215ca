// caflow node --port P --workspace DIR — a node daemon that hosts replicas
// for flows (see caflow/node.hpp).
//
// Prints "node ready on HOST:PORT" once it listens (with --port 0 the kernel
// picks the port; scripts and tests read it from that line), then one line
// per replica it starts or stops. SIGINT/SIGTERM stop it and its replicas.
#include <csignal>
#include <cstdint>
#include <iostream>
#include <mutex>

#include "caflow/errors.hpp"
#include "caflow/node.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/signals.hpp"

namespace caflow::cli {

namespace {

constexpr const char* node_usage
  = "usage: caflow node --port N --workspace DIR [--host ADDR [--advertise HOST]]\n"
    "                   [--plugin LIB.so]...\n"
    "                   [--join FLOW_HOST:CLUSTER_PORT]\n"
    "                   [--tls-cert F --tls-key F --tls-ca F]\n"
    "\n"
    "Hosts replicas that flows place on this machine (their `hosts:` or\n"
    "`with: {nodes: [...]}` name HOST:PORT). Their data goes under DIR.\n"
    "--join registers the node with a running flow (its `cluster_port`).\n"
    "With TLS, only peers whose certificate the CA signed may connect.";

}  // namespace

int run_node(int argc, char** argv) {
  int64_t port = -1;
  double stop_timeout = 5;
  NodeOptions options;
  std::string join;
  po::options_description desc{"options"};
  desc.add_options()("port,p", po::value(&port)->required(),
                     "port to listen on (0: any free port)")(
    "workspace,w", po::value(&options.workspace)->required(),
    "workspace root of the replicas hosted here")(
    "host", po::value(&options.host)->default_value("127.0.0.1"), "bind address")(
    "advertise", po::value(&options.advertise),
    "host that flows use to reach this node (default: --host; give it with 0.0.0.0)")(
    "plugin", po::value(&options.plugins)->composing(), "load executors from this shared library")(
    "join", po::value(&join), "register with the flow at FLOW_HOST:CLUSTER_PORT")(
    "stop-timeout", po::value(&stop_timeout)->default_value(5.0),
    "seconds after SIGTERM/SIGINT within which the node exits, stopped or not")(
    "tls-cert", po::value(&options.tls.cert), "PEM certificate of this node")(
    "tls-key", po::value(&options.tls.key), "PEM private key of the certificate")(
    "tls-ca", po::value(&options.tls.ca), "PEM certificate of the cluster's CA");
  po::positional_options_description positional;
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, node_usage, desc, positional, vm); rc >= 0)
    return rc;
  if (!in_range("node", "--port", port, 0, 65535)
      || !in_range("node", "--stop-timeout", stop_timeout, 0.1, 3600.0))
    return 2;
  options.port = static_cast<uint16_t>(port);
  auto mtx = std::make_shared<std::mutex>();
  options.log = [mtx](const std::string& line) {
    std::lock_guard<std::mutex> guard{*mtx};
    std::cout << line << std::endl;
  };

  auto signals = block_stop_signals();
  auto node = Node::start(options);
  if (!node) {
    std::cerr << "caflow node: " << describe(node.error()) << std::endl;
    return 1;
  }
  options.log("node ready on " + node->address() + (options.tls.enabled() ? " (tls)" : ""));
  if (!join.empty()) {
    if (auto err = node->join(join)) {
      std::cerr << "caflow node: " << error_message(err) << std::endl;
      return 1;
    }
    options.log("joined the flow at " + join);
  }
  options.log(std::string{"caflow node: "} + wait_for_stop_signal(signals) + ": stopping");
  bound_stop(signals, stop_timeout, "node");
  node->stop();
  return 0;
}

}  // namespace caflow::cli
