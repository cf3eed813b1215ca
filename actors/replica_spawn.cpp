#include "actors/replica_spawn.hpp"

#include <utility>

#include <caf/local_actor.hpp>

#include "actors/replica.hpp"

namespace caflow::actors {

bool replica_on_scheduler(const ExecutorContext& ctx) {
  if (ctx.uses_metas.is_object())
    if (const Value* v = ctx.uses_metas.find(runs_on_scheduler_key); v && v->is_bool())
      return v->as_bool();
  return ExecutorRegistry::instance().runs_on_scheduler(ctx.uses);
}

replica_actor spawn_replica(caf::local_actor* self, ExecutorContext ctx) {
  // Scheduled: a request reaches it as the sending worker's next job
  // (runtime/affine_sharing.hpp), no thread woken. Detached: executor code
  // that blocks or computes for long never starves the heads and the gateway.
  if (replica_on_scheduler(ctx))
    return self->spawn(actors::replica, std::move(ctx));
  return self->spawn<caf::detached>(actors::replica, std::move(ctx));
}

}  // namespace caflow::actors
