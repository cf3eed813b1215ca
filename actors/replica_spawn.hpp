// Where a replica runs: on a thread of its own (detached), or as a scheduled
// actor on the CAF workers when its executor declared
// `runs_on_scheduler` (caflow/executor.hpp) and the flow did not say
// otherwise. Every place that spawns a replica (head, head stages, node)
// goes through spawn_replica, so the choice is made once.
#pragma once

#include <caf/fwd.hpp>

#include "caflow/executor.hpp"
#include "caflow/messages.hpp"

namespace caflow::actors {

/// The metas key that overrides an executor type's declaration per
/// deployment (`uses_metas: {runs_on_scheduler: false}`).
inline constexpr const char* runs_on_scheduler_key = "runs_on_scheduler";

/// True when the replica for `ctx` runs on the scheduler: `ctx.uses_metas`'
/// boolean `runs_on_scheduler` when present, else what `ctx.uses` declared.
/// Default: false (a thread of its own).
[[nodiscard]] bool replica_on_scheduler(const ExecutorContext& ctx);

/// Spawns the replica for `ctx` as a child of `self`: scheduled when
/// replica_on_scheduler(ctx), detached otherwise.
replica_actor spawn_replica(caf::local_actor* self, ExecutorContext ctx);

}  // namespace caflow::actors
