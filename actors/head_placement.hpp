// A head's replicas over their lifetime: spawning locally or on nodes,
// restarting after a crash, re-placing after node loss, scaling.
#pragma once

#include <cstdint>
#include <string>

#include <caf/result.hpp>

#include "actors/head_routing.hpp"

namespace caflow::actors {

/// Spawns replica `r` of shard `k` in this process (detached, monitored).
void spawn_local(head_pointer self, uint32_t k, uint32_t r);

/// Makes `replica` (running on `node`) the live replica of slot [k][r].
void adopt(head_pointer self, uint32_t k, uint32_t r, std::string node, caf::actor replica);

/// Asks the cluster actor for a replica for slot [k][r] on `node` ("" = the
/// least-loaded node other than `exclude`, or locally when there is none).
/// On failure a stateful slot tries its node again after a backoff.
void place(head_pointer self, uint32_t k, uint32_t r, std::string node, std::string exclude);

/// A monitored replica went down: restart, re-place or mark lost.
void on_replica_down(head_pointer self, const caf::down_msg& dm);

/// Changes the replicas per shard to `n`; answers once new ones are placed.
caf::result<ok_atom> scale(head_pointer self, uint32_t n);

/// Replicas alive, over every shard.
size_t alive_replicas(const head_state& st);

}  // namespace caflow::actors
