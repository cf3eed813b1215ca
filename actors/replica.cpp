#include "actors/replica.hpp"

#include <new>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "runtime/discovery.hpp"

namespace caflow::actors {

std::string replica_label(const ExecutorContext& ctx) {
  return ctx.name + "/shard-" + std::to_string(ctx.shard_id) + "/replica-"
         + std::to_string(ctx.replica_id);
}

replica_state::~replica_state() {
  // Flush executor state (storage) whatever the reason the actor stops.
  if (executor) {
    try {
      executor->close();
    } catch (...) {
      // Nothing to report to: the actor is gone. close() should not throw.
    }
  }
}

replica_actor::behavior_type replica(replica_actor::stateful_pointer<replica_state> self,
                                     ExecutorContext ctx) {
  self->state.label = replica_label(ctx);
  if (auto ex = ExecutorRegistry::instance().create(std::move(ctx)))
    self->state.executor = std::move(*ex);
  else
    self->state.start_error = std::move(ex.error());
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      if (st.start_error)
        return st.start_error;
      if (req.endpoint == detail::discovery_endpoint) {
        Response resp;
        resp.id = std::move(req.id);
        Value::Array names;
        for (auto& e : st.executor->endpoints())
          names.emplace_back(std::move(e));
        resp.parameters[std::string{detail::discovery_key_prefix} + st.executor->context().name]
          = std::move(names);
        resp.shards_answered = 1;
        return resp;
      }
      // An exception fails this request only; the replica lives on.
      try {
        auto params = st.executor->handle(req.endpoint, req.docs, req.parameters);
        Response resp;
        resp.id = std::move(req.id);
        resp.docs = std::move(req.docs);
        resp.parameters = std::move(params);
        resp.shards_answered = 1;
        return resp;
      } catch (const Error& e) {
        return make_error(e.code(), st.label + ": " + e.what());
      } catch (const std::bad_alloc&) {
        // The request's own allocations are gone with the stack: the replica
        // serves on, and the message says what happened instead of "std::bad_alloc".
        return make_error(errc::executor_failed,
                          st.label + ": out of memory while handling " + req.endpoint);
      } catch (const std::exception& e) {
        return make_error(errc::executor_failed, st.label + ": " + e.what());
      } catch (...) {
        return make_error(errc::executor_failed, st.label + ": unknown exception");
      }
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      if (self->state.start_error)
        return self->state.start_error;
      return ok_atom::value;
    },
  };
}

}  // namespace caflow::actors
