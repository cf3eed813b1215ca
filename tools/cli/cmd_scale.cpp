// caflow scale FLOW_HOST:CLUSTER_PORT EXECUTOR --replicas N — changes the
// replicas per shard of a running flow's deployment, over CAF to the flow's
// cluster actor (its `cluster_port`).
#include <iostream>

#include <caf/scoped_actor.hpp>

#include "caflow/errors.hpp"
#include "caflow/type_ids.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cluster/placement.hpp"
#include "cluster/protocol.hpp"
#include "cluster/transport.hpp"
#include "runtime/scale_bounds.hpp"

namespace caflow::cli {

namespace {

constexpr const char* scale_usage
  = "usage: caflow scale FLOW_HOST:CLUSTER_PORT EXECUTOR --replicas N\n"
    "                    [--tls-cert F --tls-key F --tls-ca F]\n"
    "\n"
    "Sets the replicas per shard of EXECUTOR in the running flow whose\n"
    "cluster port is FLOW_HOST:CLUSTER_PORT. New replicas go to the least\n"
    "loaded nodes; removed ones finish their requests first.";

}  // namespace

int run_scale(int argc, char** argv) {
  std::string flow_address;
  std::string executor;
  int64_t replicas = 0;
  TlsOptions tls;
  po::options_description desc{"options"};
  desc.add_options()("flow", po::value(&flow_address)->required(),
                     "the flow's cluster port, HOST:PORT")(
    "executor", po::value(&executor)->required(), "the deployment to scale")(
    "replicas,r", po::value(&replicas)->required(), "replicas per shard")(
    "tls-cert", po::value(&tls.cert), "PEM certificate")(
    "tls-key", po::value(&tls.key), "PEM private key")("tls-ca", po::value(&tls.ca),
                                                       "PEM certificate of the cluster's CA");
  po::positional_options_description positional;
  positional.add("flow", 1).add("executor", 1);
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, scale_usage, desc, positional, vm); rc >= 0)
    return rc;
  if (!in_range("scale", "--replicas", replicas, 1, detail::max_scale_replicas))
    return 2;
  auto addr = detail::parse_node_address(flow_address);
  if (!addr) {
    std::cerr << "caflow scale: " << error_message(addr.error()) << '\n';
    return 2;
  }
  caf::actor_system_config cfg;
  add_types(cfg);
  if (auto err = detail::configure_network(cfg, tls)) {
    std::cerr << "caflow scale: " << error_message(err) << '\n';
    return 2;
  }
  caf::actor_system sys{cfg};
  auto flow = detail::connect<cluster_actor>(sys, addr->host, addr->port);
  if (!flow) {
    std::cerr << "caflow scale: cannot reach the flow at " << flow_address << ": "
              << detail::describe_connect_error(sys, flow.error()) << '\n';
    return 1;
  }
  int rc = 0;
  caf::scoped_actor self{sys};
  self
    ->request(*flow, std::chrono::minutes(2), scale_atom::value, executor,
              static_cast<uint32_t>(replicas))
    .receive(
      [&](Value& status) {
        std::cout << executor << ": " << replicas << " replica(s) per shard" << std::endl;
        // Where each replica runs now, and in which state.
        if (const Value* placed = status.find("placement"); placed && placed->is_array())
          for (const auto& p : placed->as_array()) {
            std::cout << "  shard-" << p.get_int("shard", 0) << "/replica-"
                      << p.get_int("replica", 0) << "  " << p.get_string("node", "local") << "  "
                      << p.get_string("state", "");
            if (auto lost = p.get_string("lost", ""); !lost.empty())
              std::cout << " (" << lost << ")";
            std::cout << '\n';
          }
        std::cout << std::flush;
      },
      [&](caf::error& err) {
        std::cerr << "caflow scale: " << describe(err) << '\n';
        rc = 1;
      });
  return rc;
}

}  // namespace caflow::cli
