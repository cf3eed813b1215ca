#include "actors/replica.hpp"

#include <new>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "runtime/discovery.hpp"
#include "runtime/op_record.hpp"

namespace caflow::actors {

Response answer(Request& req, Params params) {
  Response resp;
  resp.id = std::move(req.id);
  resp.docs = std::move(req.docs);
  resp.parameters = std::move(params);
  resp.shards_answered = 1;
  return resp;
}

caf::expected<Params> call_executor(replica_state& st, const std::string& endpoint,
                                    DocumentArray& docs, const Params& params,
                                    const WriteStamp* stamp) {
  try {
    if (stamp)
      return st.executor->handle(endpoint, docs, params, *stamp);
    return st.executor->handle(endpoint, docs, params);
  } catch (const Error& e) {
    return make_error(e.code(), st.label + ": " + e.what());
  } catch (const std::bad_alloc&) {
    // The request's own allocations are gone with the stack: the replica
    // serves on, and the message says what happened instead of "std::bad_alloc".
    return make_error(errc::executor_failed,
                      st.label + ": out of memory while handling " + endpoint);
  } catch (const std::exception& e) {
    return make_error(errc::executor_failed, st.label + ": " + e.what());
  } catch (...) {
    return make_error(errc::executor_failed, st.label + ": unknown exception");
  }
}

namespace {

// One executor call for the whole batch, its documents split back to the
// requests; a failure goes to every request of this batch and no other.
void run_batch(replica_pointer self, detail::Batch batch) {
  auto& st = self->state;
  auto docs = std::move(batch.docs);
  auto params = call_executor(st, batch.endpoint, docs, batch.parameters);
  caf::expected<std::vector<DocumentArray>> parts{caf::error{}};
  if (params)
    parts = detail::split_batch(batch, std::move(docs));
  if (params && !parts)
    params = make_error(errc::executor_failed, st.label + ": " + error_message(parts.error()));
  for (size_t i = 0; i < batch.tickets.size(); ++i) {
    auto waiting = st.waiting.find(batch.tickets[i]);
    if (waiting == st.waiting.end())
      continue;
    auto promise = std::move(waiting->second);
    st.waiting.erase(waiting);
    if (!params) {
      promise.deliver(params.error());
      continue;
    }
    Response resp;
    resp.id = std::move(batch.requests[i].id);
    resp.docs = std::move((*parts)[i]);
    resp.parameters = *params;
    resp.shards_answered = 1;
    promise.deliver(std::move(resp));
  }
}

}  // namespace

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

replica_actor::behavior_type replica(replica_pointer self, ExecutorContext ctx) {
  self->state.label = replica_label(ctx);
  self->state.batcher = detail::Batcher{ctx.dynamic_batching};
  if (auto ex = ExecutorRegistry::instance().create(std::move(ctx))) {
    self->state.executor = std::move(*ex);
    self->state.replicated = dynamic_cast<Replicated*>(self->state.executor.get());
  } else
    self->state.start_error = std::move(ex.error());
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      if (st.start_error)
        return st.start_error;
      if (req.endpoint.rfind(detail::check_endpoint_prefix, 0) == 0) {
        // Would this copy take the write? Nothing is written.
        if (st.replicated) {
          auto endpoint = req.endpoint.substr(detail::check_endpoint_prefix.size());
          try {
            st.replicated->check_write(endpoint, req.docs);
          } catch (const Error& e) {
            return make_error(e.code(), st.label + ": " + e.what());
          } catch (const std::exception& e) {
            return make_error(errc::executor_failed, st.label + ": " + e.what());
          }
        }
        Response resp;
        resp.id = std::move(req.id);
        resp.shards_answered = 1;
        return resp;
      }
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
      if (st.batcher.batches(req.endpoint)) {
        auto ticket = st.next_ticket++;
        auto promise = self->make_response_promise<Response>();
        st.waiting.emplace(ticket, promise);
        auto added = st.batcher.add(ticket, std::move(req));
        if (added.timer)
          self->delayed_send(self, added.timer->timeout, batch_atom::value,
                             std::move(added.timer->group), added.timer->generation);
        for (auto& batch : added.ready)
          run_batch(self, std::move(batch));
        return promise;
      }
      // An exception fails this request only; the replica lives on.
      auto params = call_executor(st, req.endpoint, req.docs, req.parameters);
      if (!params)
        return std::move(params.error());
      return answer(req, std::move(*params));
    },
    [self](batch_atom, const std::string& group, uint64_t generation) {
      if (auto batch = self->state.batcher.expire(group, generation))
        run_batch(self, std::move(*batch));
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      if (self->state.start_error)
        return self->state.start_error;
      return ok_atom::value;
    },
    [self](write_atom, uint64_t seq, Request& req) { return on_write(self, seq, req); },
    [self](write_atom, uint64_t seq, std::string& record, bool docs) {
      return on_write_record(self, seq, record, docs);
    },
    [self](seq_atom) { return on_seq(self); },
    [self](log_atom, uint64_t after, uint64_t max_bytes) { return on_log(self, after, max_bytes); },
    [self](snap_atom, const std::string& after, uint32_t max_docs) {
      return on_snap(self, after, max_docs);
    },
    [self](recover_atom, caf::actor& source, uint64_t upto) {
      return on_recover(self, std::move(source), upto);
    },
    [self](recover_atom) { recover_step(self); },
  };
}

}  // namespace caflow::actors
