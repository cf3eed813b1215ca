// A flow's side of the cluster at start: which deployments go where, and
// spawning their remote replicas before the heads start.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "caflow/flow.hpp"
#include "cluster/protocol.hpp"

namespace caflow::detail {

/// The hosts of deployment `d`: its `hosts:` (uses_metas.hosts), else the
/// flow's `nodes`. Empty: everything local.
std::vector<std::string> hosts_of(const DeploymentOptions& d, const FlowOptions& options);

/// True when the flow needs the network: remote hosts, nodes or a cluster
/// port.
bool needs_cluster(const Flow& flow);

/// [shard][replica]: the node and the replica spawned there (invalid handle
/// for local slots).
using placed_replicas = std::vector<std::vector<std::pair<std::string, replica_actor>>>;

/// Spawns the remote replicas of `spec` through the cluster actor (blocking
/// the caller). Errors name the deployment and the node: "indexer: node
/// 127.0.0.1:4242 unreachable: ...".
caf::expected<placed_replicas> place_deployment(caf::actor_system& sys,
                                                const cluster_actor& cluster,
                                                const DeploymentOptions& spec,
                                                const FlowOptions& options);

}  // namespace caflow::detail
