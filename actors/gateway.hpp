// The gateway actor: the flow's front door. Walks the graph of deployment
// heads in order, joins `needs` fan-in by document id, answers the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caflow/messages.hpp"

namespace caflow::actors {

/// One deployment as the gateway sees it.
struct gateway_node {
  std::string name;
  head_actor head;
  /// Indices of the deployments whose output this one takes; empty means
  /// the request itself (Jina's `needs: gateway`).
  std::vector<size_t> needs;
};

/// Counters the gateway reports through `status`.
struct gateway_counters {
  uint64_t received = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t rejected = 0;  // over max_in_flight
};

struct gateway_state {
  std::vector<gateway_node> nodes;
  std::vector<std::vector<size_t>> dependents;  // node -> nodes that need it
  std::vector<size_t> starts;                   // nodes fed by the request
  std::vector<size_t> leaves;                   // nodes nobody needs: the output
  uint32_t max_in_flight = 1000;
  uint32_t in_flight = 0;
  gateway_counters counters;

  static inline const char* name = "caflow.gateway";
};

/// The gateway's behavior over `nodes` (in the flow's order).
gateway_actor::behavior_type gateway(gateway_actor::stateful_pointer<gateway_state> self,
                                     std::vector<gateway_node> nodes, uint32_t max_in_flight);

}  // namespace caflow::actors
