// One request served by a replica or by its read lane (read_lane.hpp): at
// once, or gathered into a dynamic batch first. Both actors' states hold the
// same members (executor, label, batcher, waiting, next_ticket), so the code
// is written once over either.
#pragma once

#include <utility>

#include <caf/result.hpp>

#include "actors/replica.hpp"
#include "caflow/messages.hpp"
#include "runtime/batcher.hpp"

namespace caflow::actors {

/// One executor call for the whole batch, its documents split back to the
/// requests; a failure goes to every request of this batch and no other.
template <class State>
void run_batch(State& st, detail::Batch batch) {
  auto docs = std::move(batch.docs);
  auto params = call_executor(*st.executor, st.label, batch.endpoint, docs, batch.parameters);
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

/// Runs `req` on `self`'s executor, or adds it to its endpoint's dynamic
/// batch (the batch's timer is a `batch` message to `self`). An exception
/// fails this request only; the actor lives on.
template <class Self>
caf::result<Response> serve(Self self, Request& req) {
  auto& st = self->state;
  if (st.batcher.batches(req.endpoint)) {
    auto ticket = st.next_ticket++;
    auto promise = self->template make_response_promise<Response>();
    st.waiting.emplace(ticket, promise);
    auto added = st.batcher.add(ticket, std::move(req));
    if (added.timer)
      self->delayed_send(self, added.timer->timeout, batch_atom::value,
                         std::move(added.timer->group), added.timer->generation);
    for (auto& batch : added.ready)
      run_batch(st, std::move(batch));
    return promise;
  }
  auto params = call_executor(*st.executor, st.label, req.endpoint, req.docs, req.parameters);
  if (!params)
    return std::move(params.error());
  return answer(req, std::move(*params));
}

/// The `batch` message: the timer of a dynamic batch fired.
template <class Self>
void expire_batch(Self self, const std::string& group, uint64_t generation) {
  if (auto batch = self->state.batcher.expire(group, generation))
    run_batch(self->state, std::move(*batch));
}

}  // namespace caflow::actors
