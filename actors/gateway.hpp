// The gateway actor: the flow's front door. Walks the graph of deployment
// heads in order, joins `needs` fan-in by document id, answers the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caflow/messages.hpp"
#include "cluster/protocol.hpp"
#include "config/flow_graph.hpp"
#include "runtime/doc_filter.hpp"

namespace caflow::actors {

/// One deployment as the gateway sees it.
struct gateway_deployment {
  std::string name;
  head_actor head;
  /// Indices of the deployments whose output this one takes; empty means
  /// the request itself (Jina's `needs: gateway`).
  std::vector<size_t> needs;
  /// Its `when`: the documents it takes (nullopt: all).
  std::optional<detail::DocFilter> when{};
};

/// Counters the gateway reports through `status`.
struct gateway_counters {
  uint64_t received = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t rejected = 0;  // over max_in_flight
};

struct gateway_state {
  std::vector<gateway_deployment> deployments;
  detail::FlowGraph graph;                                // the walk's graph over `deployments`
  detail::FlowGraph single;                               // one node: a targetExecutor request
  std::vector<std::optional<detail::DocFilter>> filters;  // per deployment, its `when`
  cluster_actor cluster;  // the flow's cluster actor (invalid: none)
  uint32_t max_in_flight = 1000;
  uint32_t in_flight = 0;
  gateway_counters counters;

  static inline const char* name = "caflow.gateway";
};

/// The gateway's behavior over `deployments` (in the flow's order). `status`
/// includes every head's status and, with a `cluster` actor, its nodes.
gateway_actor::behavior_type gateway(gateway_actor::stateful_pointer<gateway_state> self,
                                     std::vector<gateway_deployment> deployments,
                                     uint32_t max_in_flight, cluster_actor cluster);

}  // namespace caflow::actors
