// The flow's cluster actor: knows the nodes (configured or joined), connects
// to them, places replicas on them, and forwards `scale` to the heads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cluster/heartbeat.hpp"
#include "cluster/protocol.hpp"

namespace caflow::actors {

/// A node as the flow sees it.
struct cluster_node {
  std::string address;          // HOST:PORT
  node_actor handle;            // invalid while not connected (never, or lost)
  size_t hosted = 0;            // replicas of this flow on it
  std::set<std::string> types;  // executor types it reported it can host
  size_t reserved = 0;          // placements chosen for it and not yet answered
  detail::NodeHealth health;
};

/// How the cluster actor watches its nodes.
struct cluster_options {
  /// Between heartbeats. Default: 1000 ms; 0 turns them off.
  std::chrono::milliseconds heartbeat_interval{1000};
  /// Heartbeats left unanswered before a node counts as hung. Default: 3
  uint32_t heartbeat_misses = 3;
  /// Where log lines go. Default: standard error.
  std::function<void(std::string)> log{};
};

struct cluster_state {
  std::vector<cluster_node> nodes;                      // registration order
  std::map<caf::actor_addr, std::string> replica_node;  // remote replica -> node
  std::map<std::string, head_actor> heads;              // deployment -> head
  caf::io::middleman_actor connector;                   // plain or TLS
  cluster_options options;

  static inline const char* name = "caflow.cluster";
};

/// The cluster actor's behavior; `connector` is the transport's middleman
/// actor (see cluster/transport.hpp).
cluster_actor::behavior_type cluster(cluster_actor::stateful_pointer<cluster_state> self,
                                     caf::io::middleman_actor connector,
                                     cluster_options options = {});

}  // namespace caflow::actors
