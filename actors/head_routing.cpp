#include "actors/head_routing.hpp"

#include <chrono>

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "actors/shard_join.hpp"
#include "caflow/errors.hpp"
#include "runtime/fan_out_error.hpp"
#include "runtime/partition.hpp"
#include "runtime/reduce.hpp"

namespace caflow::actors {

namespace {

// The shards' errors of one fan-out, for the code it fails with.
using shard_errors = std::shared_ptr<std::vector<caf::error>>;

std::string shard_name(const head_state& st, uint32_t shard) {
  return st.spec.name + "/shard-" + std::to_string(shard);
}

// True when the replica went away before answering: worth a retry elsewhere.
bool replica_gone(const caf::error& err) {
  return err == caf::sec::request_receiver_down || err == caf::exit_reason::kill
         || err == caf::exit_reason::user_shutdown
         || err == caf::exit_reason::remote_link_unreachable || is(err, errc::unavailable);
}

// Turns CAF's own errors into caflow errors that name the shard.
caf::error shard_error(const head_state& st, uint32_t shard, const caf::error& err) {
  auto who = shard_name(st, shard);
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout,
                      who + ": timed out after " + std::to_string(st.spec.timeout.count()) + " ms");
  if (err.category() == error_category)
    return err;  // the replica's message already names it
  if (replica_gone(err))
    return make_error(errc::unavailable, who + ": replica went away (" + caf::to_string(err) + ")");
  return make_error(errc::executor_failed, who + ": " + caf::to_string(err));
}

caf::duration request_timeout(const head_state& st) {
  if (st.spec.timeout.count() <= 0)
    return caf::infinite;
  return caf::duration{st.spec.timeout};
}

// A retry goes to another replica of the same shard, so it needs one; with a
// single replica per shard the head keeps no copy of the request (a copy of
// every document per hop, about a third of a no-op flow's cost).
uint32_t retry_budget(const head_state& st) {
  return st.spec.replicas > 1 ? st.spec.retries : 0;
}

// What the replica picker needs to know of each slot.
void append_loads(const std::vector<replica_slot>& slots, std::vector<detail::ReplicaLoad>& out) {
  for (const auto& s : slots)
    out.push_back({s.in_flight, s.available()});
}

std::optional<size_t> top_k_of(const Params& params) {
  try {
    auto k = params.get_int("top_k", -1);
    if (k >= 0)
      return static_cast<size_t>(k);
  } catch (const Error&) {
    // A malformed top_k is the executor's business to report; don't cut.
  }
  return std::nullopt;
}

}  // namespace

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void send_to_replica(head_pointer self, uint32_t shard, size_t replica,
                     std::shared_ptr<Request> req, uint32_t retries, shard_reply done) {
  auto& slot = self->state.shards[shard][replica];
  ++slot.in_flight;
  auto addr = slot.addr;
  // Keep the request for a retry only when one may follow; otherwise move it
  // into the message and save a copy of every document.
  Request msg = retries > 0 ? *req : std::move(*req);
  // The head keeps every call until it is answered: when a replica's node
  // is lost, CAF 0.17 never answers the requests that were on the wire to
  // it, so on_replica_down settles them from here (see fail_calls_on).
  auto& st = self->state;
  auto id = ++st.next_call;
  st.calls.emplace(id, pending_call{shard, replica, addr, req, retries, std::move(done)});
  self->request(slot.handle, request_timeout(st), std::move(msg))
    .then(
      [self, id](Response& resp) {
        auto call = take_call(self->state, id);
        if (!call)
          return;  // already settled by on_replica_down
        release(self->state, *call);
        call->done(std::move(resp));
      },
      [self, id](caf::error& err) {
        auto call = take_call(self->state, id);
        if (call)
          fail_call(self, std::move(*call), err);
      });
}

std::optional<pending_call> take_call(head_state& st, uint64_t id) {
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return std::nullopt;
  auto call = std::move(i->second);
  st.calls.erase(i);
  return call;
}

void release(head_state& st, const pending_call& call) {
  auto& s = st.shards[call.shard][call.replica];
  if (s.addr == call.addr && s.in_flight > 0) {
    --s.in_flight;
    finish_drain(s);
  }
}

void fail_call(head_pointer self, pending_call call, const caf::error& err) {
  release(self->state, call);
  if (call.retries > 0 && replica_gone(err) && !self->state.stopping) {
    ++self->state.counters.retries;
    // Not to the replica that just failed: its down message may not have
    // arrived yet (a lost node's replicas all fail at once).
    send_to_shard(self, call.shard, std::move(call.req), call.retries - 1, std::move(call.done),
                  call.replica);
    return;
  }
  call.done(shard_error(self->state, call.shard, err));
}

void fail_calls_on(head_pointer self, const caf::actor_addr& replica, const caf::error& err) {
  std::vector<pending_call> failed;
  auto& calls = self->state.calls;
  for (auto i = calls.begin(); i != calls.end();) {
    if (i->second.addr == replica) {
      failed.push_back(std::move(i->second));
      i = calls.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& call : failed)
    fail_call(self, std::move(call), err);
}

void send_to_shard(head_pointer self, uint32_t shard, std::shared_ptr<Request> req,
                   uint32_t retries, shard_reply done, std::optional<size_t> exclude) {
  std::vector<detail::ReplicaLoad> loads;
  append_loads(self->state.shards[shard], loads);
  auto pick = self->state.pickers[shard].pick(loads, exclude);
  if (!pick) {
    // Name why: a shard whose only replicas went with their node says which.
    std::string why = "no replica available";
    for (const auto& s : self->state.shards[shard])
      if (!s.retired && !s.lost.empty()) {
        why = s.lost;
        break;
      }
    done(make_error(errc::unavailable, shard_name(self->state, shard) + ": unavailable: " + why));
    return;
  }
  send_to_replica(self, shard, *pick, std::move(req), retries, std::move(done));
}

namespace {

void route_any(head_pointer self, std::shared_ptr<Request> req,
               caf::typed_response_promise<Response> rp, int64_t start) {
  auto& st = self->state;
  std::vector<detail::ReplicaLoad> loads;
  for (const auto& shard : st.shards)
    append_loads(shard, loads);
  auto pick = st.any_picker.pick(loads);
  // Shards may hold different numbers of slots while a scale is underway.
  uint32_t shard = 0;
  size_t index = pick ? *pick : 0;
  while (pick && index >= st.shards[shard].size())
    index -= st.shards[shard++].size();
  if (!pick) {
    ++st.counters.failed;
    rp.deliver(make_error(errc::unavailable, st.spec.name + ": no replica available"));
    return;
  }
  send_to_replica(self, shard, index, std::move(req), retry_budget(st),
                  [self, rp, start](caf::expected<Response> resp) mutable {
                    auto& st = self->state;
                    if (!resp) {
                      ++st.counters.failed;
                      rp.deliver(std::move(resp.error()));
                      return;
                    }
                    ++st.counters.succeeded;
                    resp->routes.push_back({st.spec.name, start, now_us(), ""});
                    rp.deliver(std::move(*resp));
                  });
}

// Finishes a fan-out: partial results with the failed-shard count (Jina's
// behaviour), or an error naming every shard when none answered.
void finish_fan_out(head_pointer self, caf::typed_response_promise<Response>& rp, std::string id,
                    DocumentArray docs, Params params, size_t answered,
                    std::vector<std::string> failures, int64_t start, const shard_errors& errors) {
  auto& st = self->state;
  if (answered == 0) {
    ++st.counters.failed;
    std::string why;
    for (const auto& f : failures)
      why += (why.empty() ? "" : "; ") + f;
    // Every shard refusing the same bad input is the client's error (400).
    rp.deliver(make_error(detail::fan_out_code(*errors, errc::all_shards_failed),
                          st.spec.name + ": every shard failed: " + why));
    return;
  }
  ++st.counters.succeeded;
  Response out;
  out.id = std::move(id);
  out.docs = std::move(docs);
  out.parameters = std::move(params);
  out.shards_answered = static_cast<uint32_t>(answered);
  out.shards_failed = static_cast<uint32_t>(failures.size());
  out.failures = std::move(failures);
  out.routes.push_back({st.spec.name, start, now_us(), out.failures.empty() ? "" : "partial"});
  rp.deliver(std::move(out));
}

// Reports shard k's answer or failure to a join.
shard_reply to_join(std::shared_ptr<ShardJoin> join, size_t k, shard_errors errors) {
  return [join = std::move(join), k, errors = std::move(errors)](caf::expected<Response> resp) {
    if (resp) {
      join->answer(k, std::move(*resp));
    } else {
      errors->push_back(resp.error());
      join->fail(k, describe(resp.error()));
    }
  };
}

void route_all(head_pointer self, std::shared_ptr<Request> req,
               caf::typed_response_promise<Response> rp, int64_t start) {
  auto& st = self->state;
  auto n = static_cast<uint32_t>(st.shards.size());
  auto top_k = top_k_of(req->parameters);
  auto order = req->docs.ids();
  auto errors = std::make_shared<std::vector<caf::error>>();
  auto join = std::make_shared<ShardJoin>(
    n, [self, rp, start, top_k, errors, order = std::move(order), id = req->id](
         std::vector<std::optional<Response>> answers, std::vector<std::string> failures) mutable {
      std::vector<DocumentArray> docs;
      std::vector<Params> params;
      for (auto& a : answers)
        if (a) {
          docs.push_back(std::move(a->docs));
          params.push_back(std::move(a->parameters));
          for (auto& f : a->failures)
            failures.push_back(std::move(f));
        }
      auto answered = docs.size();
      auto merged = detail::order_like(order, detail::reduce_shard_answers(std::move(docs), top_k));
      // Every shard was asked about the same documents.
      auto reduced = detail::reduce_parameters(params, detail::NotFound::intersect);
      finish_fan_out(self, rp, std::move(id), std::move(merged), std::move(reduced), answered,
                     std::move(failures), start, errors);
    });
  for (uint32_t k = 0; k < n; ++k) {
    // Every shard but the last gets its own copy of the request.
    auto shard_req = k + 1 < n ? std::make_shared<Request>(*req) : req;
    send_to_shard(self, k, shard_req, retry_budget(st), to_join(join, k, errors));
  }
}

void route_partition(head_pointer self, std::shared_ptr<Request> req,
                     caf::typed_response_promise<Response> rp, int64_t start) {
  auto& st = self->state;
  auto n = static_cast<uint32_t>(st.shards.size());
  auto plan = std::make_shared<detail::Partition>(detail::partition(std::move(req->docs), n));
  auto errors = std::make_shared<std::vector<caf::error>>();
  auto join = std::make_shared<ShardJoin>(
    n, [self, rp, start, plan, errors, id = req->id](std::vector<std::optional<Response>> answers,
                                                     std::vector<std::string> failures) mutable {
      std::vector<DocumentArray> docs(answers.size());
      std::vector<bool> answered(answers.size(), false);
      std::vector<Params> params;
      size_t count = 0;
      for (size_t k = 0; k < answers.size(); ++k)
        if (answers[k]) {
          answered[k] = true;
          ++count;
          docs[k] = std::move(answers[k]->docs);
          params.push_back(std::move(answers[k]->parameters));
        }
      // A write that reached only some shards must not look acknowledged.
      if (!failures.empty()) {
        ++self->state.counters.failed;
        std::string why;
        for (const auto& f : failures)
          why += (why.empty() ? "" : "; ") + f;
        // A shard refusing bad input is the client's error (400), not "retry".
        rp.deliver(make_error(detail::fan_out_code(*errors, errc::unavailable),
                              self->state.spec.name + ": " + std::to_string(failures.size())
                                + " shard(s) failed: " + why));
        return;
      }
      auto merged = detail::reassemble(*plan, std::move(docs), answered);
      // Each shard was asked about its own part of the documents.
      finish_fan_out(self, rp, std::move(id), std::move(merged),
                     detail::reduce_parameters(params, detail::NotFound::join), count,
                     std::move(failures), start, errors);
    });
  for (uint32_t k = 0; k < n; ++k) {
    if (plan->parts[k].empty()) {
      join->skip(k);
      continue;
    }
    auto shard_req = std::make_shared<Request>(with_docs(*req, std::move(plan->parts[k])));
    send_to_shard(self, k, shard_req, retry_budget(st), to_join(join, k, errors));
  }
}

}  // namespace

void route(head_pointer self, Request req, caf::typed_response_promise<Response> rp) {
  auto start = now_us();
  auto& st = self->state;
  ++st.counters.received;
  auto mode = st.shards.size() == 1 ? PollingMode::any : st.spec.polling.mode_for(req.endpoint);
  auto shared = std::make_shared<Request>(std::move(req));
  switch (mode) {
    case PollingMode::any:
      route_any(self, std::move(shared), std::move(rp), start);
      break;
    case PollingMode::all:
      route_all(self, std::move(shared), std::move(rp), start);
      break;
    case PollingMode::partition:
      route_partition(self, std::move(shared), std::move(rp), start);
      break;
  }
}

}  // namespace caflow::actors
