#include "actors/flow_cluster.hpp"

#include <algorithm>

#include <caf/scoped_actor.hpp>

#include "actors/head.hpp"
#include "caflow/errors.hpp"
#include "cluster/placement.hpp"
#include "cluster/transport.hpp"

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

namespace {

// "; node B holds shard-0's data (300 documents, write 12)" for each host
// but `refused` that holds data of the shard `ctx` names, asked directly.
std::string holders(caf::actor_system& sys, const std::vector<std::string>& hosts,
                    const std::string& refused, const ExecutorContext& ctx) {
  std::string out;
  caf::scoped_actor self{sys};
  std::vector<std::string> asked;
  for (const auto& h : hosts) {
    if (is_local(h) || h == refused || std::find(asked.begin(), asked.end(), h) != asked.end())
      continue;
    asked.push_back(h);
    auto addr = parse_node_address(h);
    if (!addr)
      continue;
    auto node = connect<node_actor>(sys, addr->host, addr->port);
    if (!node)
      continue;
    self->request(*node, std::chrono::seconds(10), holds_atom::value, ctx)
      .receive(
        [&](Value& v) {
          if (v.get_bool("holds", false))
            out += "; node " + h + " holds shard-" + std::to_string(ctx.shard_id) + "'s data ("
                   + std::to_string(v.get_int("documents", 0)) + " documents, write "
                   + std::to_string(v.get_int("applied", 0)) + ")";
        },
        [](caf::error&) {});
  }
  return out;
}

}  // namespace

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
      if (failed) {
        auto why = error_message(failed).empty() ? describe(failed) : error_message(failed);
        // A shard whose data is elsewhere (#13): name the node that holds it.
        if (why.find("but not shard") != std::string::npos)
          why += holders(sys, hosts, node, actors::make_context(spec, k, r));
        return make_error(
          is(failed, errc::unavailable) ? errc::unavailable : errc::executor_start_failed,
          spec.name + ": " + why);
      }
    }
  return out;
}

}  // namespace caflow::detail
