// The head actor: one per deployment. Spawns and supervises shards x
// replicas, routes each request by polling, joins and reduces shard answers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/expected.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caflow/executor.hpp"

#include "caflow/flow.hpp"
#include "caflow/messages.hpp"
#include "runtime/replica_picker.hpp"

namespace caflow::actors {

/// A replica as its head sees it.
struct replica_slot {
  replica_actor handle;
  caf::actor_addr addr;
  uint32_t in_flight = 0;
  bool alive = true;
  std::string node = "local";  ///< where it runs: "local" or HOST:PORT
  bool pending = false;        ///< being placed (spawn on a node in progress)
  bool draining = false;       ///< scaled away: takes no new request, stops when idle
  bool retired = false;        ///< scaled away and stopped: the slot may be reused
  std::string lost;            ///< why it is unavailable, e.g. "node 10.0.0.2:4242 lost"

  /// May take a new request.
  [[nodiscard]] bool available() const noexcept { return alive && !draining; }
};

/// Where the flow put each replica at start, [shard][replica]: the node and
/// the replica already spawned there (invalid handle: spawn it locally).
struct head_setup {
  caf::actor cluster;  ///< the flow's cluster actor (invalid: no cluster)
  std::vector<std::vector<std::pair<std::string, caf::actor>>> placed;
};

/// Counters a head reports through `status`.
struct head_counters {
  uint64_t received = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t restarts = 0;
  uint64_t retries = 0;
};

/// Called with a shard's answer or its error.
using shard_reply = std::function<void(caf::expected<Response>)>;

/// A request sent to a replica and not yet answered.
struct pending_call {
  uint32_t shard = 0;
  size_t replica = 0;
  caf::actor_addr addr;          // the replica it went to
  std::shared_ptr<Request> req;  // kept only when a retry may follow
  uint32_t retries = 0;
  shard_reply done;
};

struct head_state {
  DeploymentOptions spec;
  caf::actor cluster;
  bool stateful = false;  // replicas lost with their node come back only there
  std::vector<std::vector<replica_slot>> shards;  // [shard][replica]
  std::vector<detail::ReplicaPicker> pickers;     // one per shard
  detail::ReplicaPicker any_picker;               // across every shard (ANY)
  head_counters counters;
  bool stopping = false;
  std::vector<caf::typed_response_promise<ok_atom>> stop_waiters;
  uint64_t next_call = 0;
  std::unordered_map<uint64_t, pending_call> calls;  // in flight, by call id

  ~head_state();

  static inline const char* name = "caflow.head";
};

/// The head's behavior for deployment `spec` (its workspace already resolved).
head_actor::behavior_type head(head_actor::stateful_pointer<head_state> self,
                               DeploymentOptions spec, head_setup setup = {});

/// Stops `slot`'s replica when it is draining and has nothing in flight.
void finish_drain(replica_slot& slot);

/// The context of replica `replica` of shard `shard` of `spec`.
ExecutorContext make_context(const DeploymentOptions& spec, uint32_t shard, uint32_t replica);

}  // namespace caflow::actors
