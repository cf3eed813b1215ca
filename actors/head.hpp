// The head actor: one per deployment. Its decisions (slots, calls, retries,
// joins, scaling, node loss) are made by detail::ReplicaSet; the actor turns
// messages into its inputs and carries out the effects it returns.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"
#include "cluster/protocol.hpp"
#include "runtime/replica_set.hpp"

namespace caflow::actors {

/// Spawns a replica in this process for `ctx` on behalf of the head `self`.
/// Default (unset): a detached replica actor. Tests hand in one that spawns
/// replicas the test coordinator schedules.
using local_spawner = std::function<replica_actor(caf::local_actor* self, ExecutorContext ctx)>;

/// Where the flow put each replica at start, [shard][replica]: the node and
/// the replica already spawned there (invalid handle: spawn it locally).
struct head_setup {
  cluster_actor cluster;  ///< the flow's cluster actor (invalid: no cluster)
  std::vector<std::vector<std::pair<std::string, replica_actor>>> placed;
  local_spawner spawn;                   ///< Default: detached replicas
  std::function<void(std::string)> log;  ///< Default: standard error
};

struct head_stages;  // uses_before / uses_after (actors/head_stages.hpp)

struct head_state {
  DeploymentOptions spec;
  cluster_actor cluster;
  std::unique_ptr<detail::ReplicaSet> set;
  local_spawner spawn;
  std::function<void(std::string)> log;
  std::map<std::pair<uint32_t, uint32_t>, std::pair<std::string, replica_actor>> preplaced;
  std::map<detail::SlotId, replica_actor> handles;  // replicas by slot
  std::map<caf::actor_addr, detail::SlotId> slots;  // and back
  uint64_t next_op = 0;
  std::unordered_map<uint64_t, caf::typed_response_promise<Response>> ops;
  uint64_t next_scale = 0;
  std::unordered_map<uint64_t, caf::typed_response_promise<ok_atom>> scales;
  std::vector<caf::typed_response_promise<ok_atom>> stop_waiters;
  std::unique_ptr<head_stages> stages;  // nullptr: neither configured

  head_state();  // out of line: head_stages is complete there
  ~head_state();

  static inline const char* name = "caflow.head";
};

/// The head's behavior for deployment `spec` (its workspace already resolved).
head_actor::behavior_type head(head_actor::stateful_pointer<head_state> self,
                               DeploymentOptions spec, head_setup setup = {});

/// The context of replica `replica` of shard `shard` of `spec`.
ExecutorContext make_context(const DeploymentOptions& spec, uint32_t shard, uint32_t replica);

}  // namespace caflow::actors
