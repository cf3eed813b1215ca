#include "actors/flow_cluster.hpp"

#include <caf/scoped_actor.hpp>

#include "actors/head.hpp"
#include "caflow/errors.hpp"
#include "cluster/placement.hpp"

namespace caflow::detail {

std::vector<std::string> hosts_of(const DeploymentOptions& d, const FlowOptions& options) {
  std::vector<std::string> out;
  const Value* hosts = d.uses_metas.is_object() ? d.uses_metas.find("hosts") : nullptr;
  if (hosts) {
    if (hosts->is_array())
      for (const auto& h : hosts->as_array())
        if (h.is_string())
          out.push_back(h.as_string());
    return out;
  }
  return options.nodes;
}

bool needs_cluster(const Flow& flow) {
  if (flow.options().cluster_port != 0)
    return true;
  for (const auto& d : flow.deployments())
    for (const auto& h : hosts_of(d, flow.options()))
      if (!is_local(h))
        return true;
  return false;
}

caf::expected<placed_replicas> place_deployment(caf::actor_system& sys,
                                                const cluster_actor& cluster,
                                                const DeploymentOptions& spec,
                                                const FlowOptions& options) {
  auto hosts = hosts_of(spec, options);
  for (const auto& h : hosts)
    if (!is_local(h))
      if (auto addr = parse_node_address(h); !addr)
        return make_error(errc::invalid_config,
                          spec.name + ": hosts: " + error_message(addr.error()));
  auto nodes = place_replicas(hosts, spec.shards, spec.replicas);
  placed_replicas out(spec.shards);
  caf::scoped_actor self{sys};
  for (uint32_t k = 0; k < spec.shards; ++k)
    for (uint32_t r = 0; r < spec.replicas; ++r) {
      const auto& node = nodes[k][r];
      out[k].emplace_back(local_host, replica_actor{});
      if (is_local(node))
        continue;
      caf::error failed;
      self
        ->request(cluster, caf::infinite, place_atom::value, node, std::string{},
                  actors::make_context(spec, k, r))
        .receive(
          [&](replica_actor& replica, std::string& where) {
            out[k].back() = {std::move(where), std::move(replica)};
          },
          [&](caf::error& err) { failed = std::move(err); });
      if (failed)
        return make_error(
          is(failed, errc::unavailable) ? errc::unavailable : errc::executor_start_failed,
          spec.name + ": "
            + (error_message(failed).empty() ? describe(failed) : error_message(failed)));
    }
  return out;
}

}  // namespace caflow::detail
