// ReplicaSet: requests routed by polling, calls in flight, retries, joins.
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "runtime/fan_out_error.hpp"
#include "runtime/reduce.hpp"
#include "runtime/replica_set.hpp"

namespace caflow::detail {

bool replica_gone(const caf::error& err) {
  return err == caf::sec::request_receiver_down || err == caf::exit_reason::kill
         || err == caf::exit_reason::user_shutdown
         || err == caf::exit_reason::remote_link_unreachable || is(err, errc::unavailable);
}

std::string ReplicaSet::shard_name(uint32_t shard) const {
  return options_.name + "/shard-" + std::to_string(shard);
}

// Turns CAF's own errors into caflow errors that name the shard.
caf::error ReplicaSet::shard_error(uint32_t shard, const caf::error& err) const {
  auto who = shard_name(shard);
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout,
                      who + ": timed out after " + std::to_string(options_.timeout_ms) + " ms");
  if (err.category() == error_category)
    return err;  // the replica's message already names it
  if (replica_gone(err))
    return make_error(errc::unavailable, who + ": replica went away (" + caf::to_string(err) + ")");
  return make_error(errc::executor_failed, who + ": " + caf::to_string(err));
}

// A retry goes to another replica of the same shard, so it needs one; with a
// single replica per shard no copy of the request is kept (a copy of every
// document per hop, about a third of a no-op flow's cost).
uint32_t ReplicaSet::retry_budget() const noexcept {
  return options_.replicas > 1 ? options_.retries : 0;
}

std::optional<size_t> ReplicaSet::top_k_for(const Params& params) const {
  auto read = [](const Params& p) -> std::optional<std::optional<size_t>> {
    const Value* v = p.is_object() ? p.find("top_k") : nullptr;
    if (!v || v->is_null())
      return std::nullopt;  // not given: the default applies
    try {
      auto k = p.get_int("top_k", -1);
      if (k >= 0)
        return std::optional<size_t>{static_cast<size_t>(k)};
    } catch (const Error&) {
      // A malformed top_k is the executor's business to report.
    }
    return std::optional<size_t>{};
  };
  if (auto given = read(params))
    return *given;
  if (auto fallback = read(options_.default_params))
    return *fallback;
  return std::nullopt;
}

Effects ReplicaSet::on_request(uint64_t op, Request req) {
  Effects out;
  ++counters_.received;
  route(out, op, std::move(req));
  return out;
}

void ReplicaSet::route(Effects& out, uint64_t op, Request req) {
  if (options_.replicated)
    for (const auto& q : seqs_)
      if (!q.established) {
        // The shards' numbers come from their copies (flow start): wait.
        held_.emplace_back(op, std::move(req));
        return;
      }
  const bool write = is_write(req.endpoint);
  auto n = static_cast<uint32_t>(shards_.size());
  auto mode = n == 1 ? PollingMode::any : options_.polling.mode_for(req.endpoint);
  Op o;
  o.mode = mode;
  o.id = req.id;
  o.start_us = options_.clock();
  o.packed = options_.keep_shard_answers && options_.keep_shard_answers(req.endpoint);
  if (mode == PollingMode::any) {
    o.answers.resize(1);
    o.pending = 1;
    ops_.emplace(op, std::move(o));
    if (n == 1) {
      if (write)
        send_write(out, op, 0, 0, std::move(req));
      else
        send_to_shard(out, op, 0, 0, std::move(req), retry_budget(), std::nullopt);
      return;
    }
    // Any shard: the least busy replica over all of them.
    std::vector<ReplicaLoad> loads;
    for (const auto& shard : shards_)
      for (const auto& s : shard)
        loads.push_back({s.in_flight, serves(s)});
    auto pick = any_picker_.pick(loads);
    if (!pick) {
      settle_part(out, op, 0,
                  make_error(errc::unavailable, options_.name + ": no replica available"));
      return;
    }
    uint32_t shard = 0;
    size_t index = *pick;
    while (index >= shards_[shard].size())
      index -= shards_[shard++].size();
    auto i = static_cast<uint32_t>(index);
    if (write)
      send_write(out, op, 0, shard, std::move(req));
    else
      send_to_slot(out, op, 0, {shard, i, shards_[shard][i].gen}, std::move(req), retry_budget());
    return;
  }
  o.answers.resize(n);
  if (mode == PollingMode::all) {
    o.top_k = top_k_for(req.parameters);
    o.order = req.docs.ids();
    o.pending = n;
    ops_.emplace(op, std::move(o));
    for (uint32_t k = 0; k < n; ++k) {
      // Every shard but the last gets its own copy of the request.
      Request shard_req = k + 1 < n ? req : std::move(req);
      if (write)
        send_write(out, op, k, k, std::move(shard_req));
      else
        send_to_shard(out, op, k, k, std::move(shard_req), retry_budget(), std::nullopt);
    }
    return;
  }
  o.plan = partition(std::move(req.docs), n);
  auto parts = std::move(o.plan.parts);
  for (uint32_t k = 0; k < n; ++k) {
    if (parts[k].empty())
      o.answers[k] = Response{};  // nothing to do for this shard
    else
      ++o.pending;
  }
  ops_.emplace(op, std::move(o));
  if (ops_.at(op).pending == 0) {
    finish(out, op);
    return;
  }
  size_t used = 0;
  for (const auto& p : parts)
    used += p.empty() ? 0 : 1;
  if (write && used > 1) {
    // Checked whole before any shard commits (a bad document on one shard
    // must not leave the others' parts written).
    auto& staged = ops_.at(op).staged;
    staged.resize(n);
    for (uint32_t k = 0; k < n; ++k)
      if (!parts[k].empty())
        staged[k] = with_docs(req, std::move(parts[k]));
    send_checks(out, op);
    return;
  }
  for (uint32_t k = 0; k < n; ++k) {
    if (parts[k].empty())
      continue;
    if (write)
      send_write(out, op, k, k, with_docs(req, std::move(parts[k])));
    else
      send_to_shard(out, op, k, k, with_docs(req, std::move(parts[k])), retry_budget(),
                    std::nullopt);
  }
}

void ReplicaSet::send_to_shard(Effects& out, uint64_t op, uint32_t part, uint32_t shard,
                               Request req, uint32_t retries, std::optional<uint32_t> exclude) {
  std::vector<ReplicaLoad> loads;
  for (const auto& s : shards_[shard])
    loads.push_back({s.in_flight, serves(s)});
  std::optional<size_t> ex;
  if (exclude)
    ex = *exclude;
  auto pick = pickers_[shard].pick(loads, ex);
  if (!pick) {
    // Name why: a shard whose only replicas went with their node says which.
    std::string why = "no replica available";
    for (const auto& s : shards_[shard])
      if (s.state != SlotState::retired && !s.lost.empty()) {
        why = s.lost;
        break;
      }
    settle_part(out, op, part,
                make_error(errc::unavailable, shard_name(shard) + ": unavailable: " + why));
    return;
  }
  auto i = static_cast<uint32_t>(*pick);
  send_to_slot(out, op, part, {shard, i, shards_[shard][i].gen}, std::move(req), retries);
}

void ReplicaSet::send_to_slot(Effects& out, uint64_t op, uint32_t part, SlotId to, Request req,
                              uint32_t retries) {
  ++shards_[to.shard][to.index].in_flight;
  auto id = ++next_call_;
  Call call{op, part, to, retries, std::nullopt, 0, false};
  // Keep the request for a retry only when one may follow.
  if (retries > 0)
    call.kept = req;
  calls_.emplace(id, std::move(call));
  out.push_back(effect::SendCall{id, to, std::move(req), 0});
}

void ReplicaSet::release(Effects& out, const Call& call) {
  auto* s = find(call.slot);
  if (!s || s->in_flight == 0)
    return;
  --s->in_flight;
  maybe_stop_idle(out, call.slot.shard, call.slot.index);
}

Effects ReplicaSet::on_reply(uint64_t id, Response resp) {
  Effects out;
  auto i = calls_.find(id);
  if (i == calls_.end())
    return out;  // settled already (its replica was presumed lost) or a duplicate
  auto call = std::move(i->second);
  calls_.erase(i);
  release(out, call);
  if (call.check) {
    check_answered(out, call, {});
  } else if (call.write != 0) {
    write_answered(out, call, std::move(resp));  // packed once it is acknowledged
  } else {
    pack_any(call.op, call.slot.shard, resp);
    settle_part(out, call.op, call.part, std::move(resp));
  }
  return out;
}

Effects ReplicaSet::on_error(uint64_t id, const caf::error& err) {
  Effects out;
  auto i = calls_.find(id);
  if (i == calls_.end())
    return out;
  auto call = std::move(i->second);
  calls_.erase(i);
  fail_call(out, id, std::move(call), err);
  return out;
}

void ReplicaSet::fail_call(Effects& out, uint64_t, Call call, const caf::error& err) {
  release(out, call);
  if (call.check) {
    check_answered(out, call, err);
    return;
  }
  if (call.write != 0) {
    // Never retried: every in-sync copy has it already.
    write_answered(out, call, err);
    return;
  }
  if (call.retries_left > 0 && call.kept && replica_gone(err) && !stopping_) {
    ++counters_.retries;
    // Not to the replica that just failed: its down message may not have
    // arrived yet (a lost node's replicas all fail at once).
    send_to_shard(out, call.op, call.part, call.slot.shard, std::move(*call.kept),
                  call.retries_left - 1, call.slot.index);
    return;
  }
  settle_part(out, call.op, call.part, shard_error(call.slot.shard, err));
}

void ReplicaSet::fail_calls_on(Effects& out, SlotId slot, const caf::error& err) {
  std::vector<std::pair<uint64_t, Call>> failed;
  for (auto i = calls_.begin(); i != calls_.end();) {
    if (i->second.slot == slot) {
      failed.emplace_back(i->first, std::move(i->second));
      i = calls_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& [id, call] : failed)
    fail_call(out, id, std::move(call), err);
}

void ReplicaSet::settle_part(Effects& out, uint64_t op, uint32_t part,
                             caf::expected<Response> result) {
  auto i = ops_.find(op);
  if (i == ops_.end())
    return;
  auto& o = i->second;
  if (o.mode == PollingMode::any) {
    if (result) {
      ++counters_.succeeded;
      result->routes.push_back({options_.name, o.start_us, options_.clock(), ""});
    } else {
      ++counters_.failed;
    }
    out.push_back(effect::Deliver{op, std::move(result)});
    ops_.erase(i);
    return;
  }
  if (result) {
    o.answers[part] = std::move(*result);
  } else {
    o.errors.push_back(result.error());
    o.failures.push_back(describe(result.error()));
    o.failed_parts.push_back(part);
  }
  if (--o.pending == 0)
    finish(out, op);
}

// Finishes a fan-out: partial results with the failed-shard count (Jina's
// behaviour), or an error naming every shard when none answered.
void ReplicaSet::finish(Effects& out, uint64_t op) {
  auto node = ops_.extract(op);
  auto& o = node.mapped();
  if (o.packed) {
    finish_packed(out, op, o);
    return;
  }
  auto fail = [&](caf::error err) { fail_op(out, op, std::move(err)); };
  std::vector<DocumentArray> docs;
  std::vector<Params> params;
  std::vector<bool> answered(o.answers.size(), false);
  size_t count = 0;
  for (size_t k = 0; k < o.answers.size(); ++k) {
    auto& a = o.answers[k];
    if (o.mode == PollingMode::partition)
      docs.emplace_back();
    if (!a)
      continue;
    answered[k] = true;
    ++count;
    if (o.mode == PollingMode::partition)
      docs[k] = std::move(a->docs);
    else
      docs.push_back(std::move(a->docs));
    params.push_back(std::move(a->parameters));
    for (auto& f : a->failures)
      o.failures.push_back(std::move(f));
  }
  Response resp;
  if (o.mode == PollingMode::partition) {
    // A write that reached only some shards must not look acknowledged. A
    // shard that rejected its documents (wrong dimension, bad value) is the
    // client's to fix, not to retry: its input error's code (HTTP 400), else
    // unavailable (503).
    if (!o.failures.empty()) {
      fail(make_error(fan_out_code(o.errors, errc::unavailable),
                      options_.name + ": " + std::to_string(o.failures.size())
                        + " shard(s) failed: " + join_failures(o.failures)));
      return;
    }
    resp.docs = reassemble(o.plan, std::move(docs), answered);
    // Each shard was asked about its own part of the documents.
    resp.parameters = reduce_parameters(params, NotFound::join);
  } else {
    if (count == 0) {
      // Every shard refusing the same bad input is the client's error (400).
      fail(make_error(fan_out_code(o.errors, errc::all_shards_failed),
                      options_.name + ": every shard failed: " + join_failures(o.failures)));
      return;
    }
    resp.docs = order_like(o.order, reduce_shard_answers(std::move(docs), o.top_k));
    // Every shard was asked about the same documents.
    resp.parameters = reduce_parameters(params, NotFound::intersect);
  }
  if (count == 0) {
    fail(make_error(errc::all_shards_failed,
                    options_.name + ": every shard failed: " + join_failures(o.failures)));
    return;
  }
  deliver_joined(out, op, o, std::move(resp), count);
}

void ReplicaSet::fail_op(Effects& out, uint64_t op, caf::error err) {
  ++counters_.failed;
  out.push_back(effect::Deliver{op, std::move(err)});
}

void ReplicaSet::deliver_joined(Effects& out, uint64_t op, Op& o, Response resp, size_t count) {
  ++counters_.succeeded;
  resp.id = std::move(o.id);
  resp.shards_answered = static_cast<uint32_t>(count);
  resp.shards_failed = static_cast<uint32_t>(o.failures.size());
  resp.failures = std::move(o.failures);
  resp.routes.push_back(
    {options_.name, o.start_us, options_.clock(), resp.failures.empty() ? "" : "partial"});
  out.push_back(effect::Deliver{op, std::move(resp)});
}

}  // namespace caflow::detail
