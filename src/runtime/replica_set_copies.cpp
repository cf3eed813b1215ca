// ReplicaSet: copies of replicated shards (see the header's second table):
// numbered writes to every in-sync copy, the in-sync set, establishing a
// shard's number at start, catch-up and promotion.
#include <algorithm>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "runtime/discovery.hpp"
#include "runtime/fan_out_error.hpp"
#include "runtime/op_record.hpp"
#include "runtime/replica_set.hpp"

namespace caflow::detail {

const char* to_string(CopyState state) noexcept {
  switch (state) {
    case CopyState::out:
      return "out";
    case CopyState::recovering:
      return "recovering";
    case CopyState::in_sync:
      return "in_sync";
  }
  return "?";
}

bool ReplicaSet::is_write(const std::string& endpoint) const {
  return options_.replicated && endpoint != discovery_endpoint
         && options_.reads.find(endpoint) == options_.reads.end();
}

bool ReplicaSet::serves(const Slot& s) const noexcept {
  return s.state == SlotState::live && (!options_.replicated || s.copy == CopyState::in_sync);
}

std::string ReplicaSet::copy_name(SlotId id) const {
  return shard_name(id.shard) + "/replica-" + std::to_string(id.index) + " ("
         + shards_[id.shard][id.index].node + ")";
}

void ReplicaSet::send_write(Effects& out, uint64_t op, uint32_t part, uint32_t shard, Request req) {
  auto& slots = shards_[shard];
  // One slot per node: the slots of a shard on one node share its store.
  std::vector<uint32_t> chosen;
  std::vector<std::string> nodes;
  auto pick = [&](CopyState want) {
    for (uint32_t i = 0; i < slots.size(); ++i) {
      const auto& s = slots[i];
      if (s.state != SlotState::live || s.copy != want
          || std::find(nodes.begin(), nodes.end(), s.node) != nodes.end())
        continue;
      nodes.push_back(s.node);
      chosen.push_back(i);
    }
  };
  pick(CopyState::in_sync);
  const size_t counted = chosen.size();
  if (counted == 0) {
    std::string why = "no in-sync copy";
    for (const auto& s : slots)
      if (s.state != SlotState::retired && !s.lost.empty()) {
        why = s.lost + " (no in-sync copy left)";
        break;
      }
    settle_part(out, op, part,
                make_error(errc::unavailable, shard_name(shard) + ": unavailable: " + why));
    return;
  }
  pick(CopyState::recovering);
  auto id = ++next_write_;
  Write w;
  w.op = op;
  w.part = part;
  w.shard = shard;
  w.seq = ++seqs_[shard].next;
  // The copies on other nodes get the write encoded once, as the record
  // each stores in its log as it is: the request is neither copied nor
  // serialised once per copy, and no copy encodes it again.
  auto remote = [&](size_t k) { return slots[chosen[k]].node != "local"; };
  if (std::any_of(chosen.begin(), chosen.end(),
                  [&](uint32_t i) { return slots[i].node != "local"; })) {
    try {
      w.record = std::make_shared<const std::string>(encode_op(req));
    } catch (const Error&) {
      // Unencodable (cannot happen to a request that arrived): sent whole.
    }
  }
  // One in-sync copy answers with the documents, the least loaded one; the
  // others on other nodes only say they applied the write, so that the
  // documents cross the network back once.
  size_t answerer = 0;
  for (size_t k = 1; k < counted; ++k)
    if (slots[chosen[k]].in_flight < slots[chosen[answerer]].in_flight)
      answerer = k;
  for (size_t k = 0; k < chosen.size(); ++k)
    w.targets.push_back({{shard, chosen[k], slots[chosen[k]].gen},
                         k < counted,
                         Write::pending,
                         k == answerer || !w.record || !remote(k)});
  auto seq = w.seq;
  auto record = w.record;
  std::vector<bool> docs;
  for (const auto& t : w.targets)
    docs.push_back(t.docs);
  writes_.emplace(id, std::move(w));
  size_t last_local = chosen.size();  // the last target that takes `req` itself
  for (size_t k = 0; k < chosen.size(); ++k)
    if (!record || !remote(k))
      last_local = k;
  for (size_t k = 0; k < chosen.size(); ++k) {
    SlotId to{shard, chosen[k], slots[chosen[k]].gen};
    ++slots[chosen[k]].in_flight;
    auto call = ++next_call_;
    Call c;
    c.op = op;
    c.part = part;
    c.slot = to;
    c.write = id;
    calls_.emplace(call, std::move(c));
    if (record && remote(k))
      out.push_back(effect::SendCall{call, to, Request{}, seq, record, docs[k]});
    else
      out.push_back(effect::SendCall{call, to, k < last_local ? req : std::move(req), seq});
  }
}

void ReplicaSet::send_checks(Effects& out, uint64_t op) {
  auto& o = ops_.at(op);
  std::vector<std::pair<SlotId, Request>> checks;
  for (uint32_t k = 0; k < o.staged.size(); ++k) {
    if (!o.staged[k])
      continue;
    std::vector<ReplicaLoad> loads;
    for (const auto& s : shards_[k])
      loads.push_back({s.in_flight, serves(s)});
    auto pick = pickers_[k].pick(loads);
    if (!pick)
      continue;  // its write fails on its own: no in-sync copy
    Request check;
    check.id = o.staged[k]->id;
    check.endpoint = std::string{check_endpoint_prefix} + o.staged[k]->endpoint;
    // Ids and embeddings are what a check looks at.
    for (const auto& d : o.staged[k]->docs) {
      auto& c = check.docs.emplace_back();
      c.id = d.id;
      c.embedding = d.embedding;
    }
    auto i = static_cast<uint32_t>(*pick);
    checks.emplace_back(SlotId{k, i, shards_[k][i].gen}, std::move(check));
  }
  o.checking = checks.size();
  if (checks.empty()) {
    Call none;
    none.op = op;
    check_answered(out, none, {});
    return;
  }
  for (auto& [to, check] : checks) {
    ++shards_[to.shard][to.index].in_flight;
    auto call = ++next_call_;
    Call c;
    c.op = op;
    c.part = to.shard;
    c.slot = to;
    c.check = true;
    calls_.emplace(call, std::move(c));
    out.push_back(effect::SendCall{call, to, std::move(check), 0});
  }
}

void ReplicaSet::check_answered(Effects& out, const Call& call, const caf::error& err) {
  auto i = ops_.find(call.op);
  if (i == ops_.end())
    return;
  auto& o = i->second;
  // A copy that went away decides nothing: the write finds out on its own.
  if (err && is_input_error(err))
    o.refusals.push_back(err);
  if (o.checking > 0 && --o.checking > 0)
    return;
  if (!o.refusals.empty()) {
    std::string why;
    for (const auto& r : o.refusals)
      why += (why.empty() ? "" : "; ") + describe(r);
    ++counters_.failed;
    auto code = fan_out_code(o.refusals, errc::invalid_argument);
    ops_.erase(i);
    out.push_back(
      effect::Deliver{call.op, make_error(code, options_.name + ": nothing written: " + why)});
    return;
  }
  auto staged = std::move(o.staged);
  for (uint32_t k = 0; k < staged.size(); ++k)
    if (staged[k])
      send_write(out, call.op, k, k, std::move(*staged[k]));
}

void ReplicaSet::write_answered(Effects& out, const Call& call, caf::expected<Response> result) {
  auto wi = writes_.find(call.write);
  if (wi == writes_.end())
    return;
  auto& w = wi->second;
  auto t = std::find_if(w.targets.begin(), w.targets.end(),
                        [&](const Write::Target& x) { return x.slot == call.slot; });
  if (t == w.targets.end())
    return;
  auto* s = find(call.slot);
  if (result || is_input_error(result.error())) {
    // Applied (a refused input is recorded as applied too).
    t->status = Write::applied;
    if (s)
      s->applied = std::max(s->applied, w.seq);
    if (result && t->docs && !w.answer)
      w.answer = std::move(*result);
    else if (result && !t->docs && !w.params)
      w.params = std::move(result->parameters);
    else if (!result && !w.refused)
      w.refused = result.error();
  } else {
    t->status = Write::failed;
    auto why = describe(result.error());
    w.failures.push_back(why);
    // A copy that is only catching up may be slow to answer (it waits for
    // the gap before the write): a timeout there is no failure of the copy.
    bool slow = !t->counted && result.error() == caf::sec::request_timeout;
    if (s && !slow && s->copy != CopyState::out)
      leave_sync(out, call.slot, "write " + std::to_string(w.seq) + " failed: " + why);
  }
  check_write(out, call.write);
  if (s && s->copy == CopyState::recovering)
    maybe_promote(out, call.slot);
}

void ReplicaSet::check_write(Effects& out, uint64_t id) {
  auto wi = writes_.find(id);
  if (wi == writes_.end())
    return;
  auto& w = wi->second;
  if (!w.settled) {
    size_t alive = 0;
    size_t done = 0;
    for (const auto& t : w.targets) {
      if (!t.counted)
        continue;
      const auto* s = find(t.slot);
      if (t.status == Write::applied) {
        ++alive;
        ++done;
      } else if (t.status == Write::pending && s && s->copy == CopyState::in_sync) {
        ++alive;
      }
    }
    size_t need = options_.write_consistency == 0
                    ? alive
                    : std::min<size_t>(options_.write_consistency, alive);
    if (alive == 0) {
      w.settled = true;
      std::string why;
      for (const auto& f : w.failures)
        why += (why.empty() ? "" : "; ") + f;
      settle_part(out, w.op, w.part,
                  make_error(errc::unavailable,
                             shard_name(w.shard) + ": unavailable: no in-sync copy applied write "
                               + std::to_string(w.seq) + (why.empty() ? "" : ": " + why)));
    } else if (done >= need) {
      w.settled = true;
      auto& q = seqs_[w.shard];
      q.max_acked = std::max(q.max_acked, w.seq);
      if (w.refused) {
        settle_part(out, w.op, w.part, w.refused);
      } else {
        auto answer = write_answer(w);
        pack_any(w.op, w.shard, answer);
        settle_part(out, w.op, w.part, std::move(answer));
      }
    }
  }
  if (w.settled && std::none_of(w.targets.begin(), w.targets.end(), [](const Write::Target& t) {
        return t.status == Write::pending;
      }))
    writes_.erase(wi);
}

// The answer of an acknowledged write: the answering copy's; when that
// one has not answered (it failed, or write_consistency needed fewer
// copies), the documents as they were sent with the parameters of a copy
// that applied the write.
Response ReplicaSet::write_answer(Write& w) {
  if (w.answer)
    return std::move(*w.answer);
  Response resp;
  resp.shards_answered = 1;
  if (w.params)
    resp.parameters = std::move(*w.params);
  if (w.record)
    if (auto req = decode_op(*w.record))
      resp.docs = std::move(req->docs);
  return resp;
}

void ReplicaSet::leave_sync(Effects& out, SlotId id, const std::string& why) {
  auto& s = shards_[id.shard][id.index];
  if (s.gen != id.gen)
    return;
  bool was = s.copy == CopyState::in_sync;
  s.copy = CopyState::out;
  s.recovery = 0;
  if (was && !stopping_)
    out.push_back(effect::Log{copy_name(id) + " left the in-sync set: " + why});
  // Writes waiting for it wait no longer.
  std::vector<uint64_t> affected;
  for (const auto& [wid, w] : writes_)
    if (w.shard == id.shard)
      affected.push_back(wid);
  for (auto wid : affected)
    check_write(out, wid);
  if (s.state == SlotState::live && !stopping_)
    out.push_back(effect::QuerySeq{id, options_.recover_backoff});
  establish(out, id.shard);
}

void ReplicaSet::copy_placed(Effects& out, SlotId id) {
  auto& s = shards_[id.shard][id.index];
  s.copy = CopyState::out;
  s.seq_known = false;
  s.seq_failed = false;
  s.seq_waiting = false;
  s.recovery = 0;
  out.push_back(effect::QuerySeq{id, std::chrono::milliseconds{0}});
}

Effects ReplicaSet::on_seq(SlotId id, uint64_t applied) {
  Effects out;
  auto* s = find(id);
  if (!s || s->state != SlotState::live || !options_.replicated || stopping_)
    return out;
  if (s->seq_waiting)
    out.push_back(effect::Log{copy_name(id) + " answered: at write " + std::to_string(applied)});
  s->applied = applied;
  s->seq_known = true;
  s->seq_failed = false;
  s->seq_waiting = false;
  auto& q = seqs_[id.shard];
  if (!q.established) {
    establish(out, id.shard);
    return out;
  }
  if (s->copy != CopyState::out)
    return out;
  if (applied > q.next) {
    // It holds writes the in-sync copies do not: never acknowledged under
    // this head's numbering, or acknowledged before a restart that began
    // without this copy. Not served, not overwritten: an operator decides.
    out.push_back(effect::Log{"WARNING: " + copy_name(id) + " is at write "
                              + std::to_string(applied) + ", ahead of the in-sync copies at "
                              + std::to_string(q.next)
                              + ": it is kept out of the in-sync set (see README, "
                                "\"Replicated stateful shards\")"});
    return out;
  }
  if (applied == q.next) {
    s->copy = CopyState::in_sync;
    out.push_back(effect::Log{copy_name(id) + " is in sync at write " + std::to_string(applied)});
    return out;
  }
  start_recovery(out, id);
  return out;
}

Effects ReplicaSet::on_seq_failed(SlotId id, const caf::error& err) {
  Effects out;
  auto* s = find(id);
  if (!s || s->state != SlotState::live || stopping_)
    return out;
  if (err == caf::sec::request_timeout) {
    // No answer yet, which is not an answer: a replica answers nothing
    // while it builds its executor (a large shard reads its ids and
    // vectors for tens of seconds), and a hung node is found by heartbeats
    // (on_node_lost), not here. Going on without this copy could give the
    // shard a number below writes only it holds, so its number waits for
    // it, as for a copy still being placed; the query waits in its mailbox,
    // and another one follows it.
    if (!s->seq_waiting)
      out.push_back(effect::Log{copy_name(id)
                                + " has not told what it applied yet (still "
                                  "opening its store?): waiting for it"});
    s->seq_waiting = true;
    out.push_back(effect::QuerySeq{id, std::chrono::milliseconds{0}});
    return out;
  }
  s->seq_failed = true;
  s->copy = CopyState::out;
  out.push_back(effect::Log{copy_name(id) + ": cannot tell what it applied: " + describe(err)});
  out.push_back(effect::QuerySeq{id, options_.recover_backoff});
  establish(out, id.shard);
  return out;
}

void ReplicaSet::establish(Effects& out, uint32_t shard) {
  auto& q = seqs_[shard];
  if (q.established || !options_.replicated || stopping_)
    return;
  uint64_t top = 0;
  bool any = false;
  for (const auto& s : shards_[shard]) {
    if (s.state == SlotState::placing)
      return;  // it may hold the highest number
    if (s.state != SlotState::live)
      continue;
    if (!s.seq_known && !s.seq_failed)
      return;
    if (s.seq_known) {
      top = std::max(top, s.applied);
      any = true;
    }
  }
  if (!any)
    return;  // no copy has answered yet: lost ones are placed again
  q.next = top;
  q.max_acked = top;
  q.established = true;
  size_t in_sync = 0;
  for (uint32_t i = 0; i < shards_[shard].size(); ++i) {
    auto& s = shards_[shard][i];
    if (s.state == SlotState::live && s.seq_known && s.applied == top) {
      s.copy = CopyState::in_sync;
      ++in_sync;
    }
  }
  out.push_back(effect::Log{shard_name(shard) + ": " + std::to_string(in_sync)
                            + " copy(ies) in sync at write " + std::to_string(top)});
  for (uint32_t i = 0; i < shards_[shard].size(); ++i) {
    auto& s = shards_[shard][i];
    if (s.state == SlotState::live && s.seq_known && s.applied < top)
      start_recovery(out, {shard, i, s.gen});
  }
  release_held(out);
}

std::optional<SlotId> ReplicaSet::sync_source(uint32_t shard, SlotId except) const {
  std::optional<SlotId> best;
  uint32_t load = 0;
  const auto& slots = shards_[shard];
  for (uint32_t i = 0; i < slots.size(); ++i) {
    const auto& s = slots[i];
    if (i == except.index || !serves(s))
      continue;
    if (!best || s.in_flight < load) {
      best = SlotId{shard, i, s.gen};
      load = s.in_flight;
    }
  }
  return best;
}

void ReplicaSet::start_recovery(Effects& out, SlotId id) {
  auto& s = shards_[id.shard][id.index];
  auto source = sync_source(id.shard, id);
  auto& q = seqs_[id.shard];
  if (!source && s.applied >= q.max_acked) {
    // No copy is in sync, and this one holds every acknowledged write: it
    // serves. The writes after it were never acknowledged (they failed with
    // their copies): it records them as empty, so that no number means two
    // different writes on two copies.
    if (s.applied < q.next)
      out.push_back(effect::Log{copy_name(id) + ": no other copy is in sync; writes "
                                + std::to_string(s.applied + 1) + ".." + std::to_string(q.next)
                                + " were never acknowledged and are dropped"});
    for (auto seq = s.applied + 1; seq <= q.next; ++seq)
      out.push_back(effect::SendCall{++next_call_, id, Request{}, seq});
    s.applied = q.next;
    s.copy = CopyState::in_sync;
    out.push_back(effect::Log{copy_name(id) + " is in sync at write " + std::to_string(q.next)});
    return;
  }
  if (!source) {
    s.copy = CopyState::out;
    out.push_back(effect::Log{copy_name(id) + " is at write " + std::to_string(s.applied) + " of "
                              + std::to_string(seqs_[id.shard].next)
                              + ": no in-sync copy to catch up from yet"});
    out.push_back(effect::QuerySeq{id, options_.recover_backoff});
    return;
  }
  for (const auto& other : shards_[id.shard])
    if (&other != &s && serves(other) && other.node == s.node) {
      // The same node's store: what the other slot applied, this one has.
      s.copy = CopyState::in_sync;
      return;
    }
  s.copy = CopyState::recovering;
  s.upto = seqs_[id.shard].next;
  s.recovery = ++next_recovery_;
  s.snapshot_docs = 0;
  out.push_back(effect::Log{copy_name(id) + " catches up from write " + std::to_string(s.applied)
                            + " to " + std::to_string(s.upto) + " from " + copy_name(*source)});
  out.push_back(effect::Recover{id, *source, s.upto, s.recovery});
}

Effects ReplicaSet::on_recovered(SlotId id, uint64_t recovery, uint64_t applied) {
  Effects out;
  auto* s = find(id);
  if (!s || s->recovery != recovery || recovery == 0)
    return out;
  s->recovery = 0;
  s->applied = std::max(s->applied, applied);
  maybe_promote(out, id);
  return out;
}

Effects ReplicaSet::on_progress(SlotId id, uint64_t applied, uint64_t snapshot_docs) {
  Effects out;
  auto* s = find(id);
  if (!s || s->state != SlotState::live || s->copy != CopyState::recovering || s->recovery == 0)
    return out;
  // Only shown: what it applied counts for good once the catch-up ends or
  // a write it applied is answered.
  s->applied = std::max(s->applied, applied);
  s->snapshot_docs = snapshot_docs;
  return out;
}

Effects ReplicaSet::on_recover_failed(SlotId id, uint64_t recovery, const caf::error& err) {
  Effects out;
  auto* s = find(id);
  if (!s || s->recovery != recovery || recovery == 0)
    return out;
  s->recovery = 0;
  s->copy = CopyState::out;
  out.push_back(effect::Log{copy_name(id) + ": catching up failed: " + describe(err)});
  if (s->state == SlotState::live && !stopping_)
    out.push_back(effect::QuerySeq{id, options_.recover_backoff});
  return out;
}

void ReplicaSet::maybe_promote(Effects& out, SlotId id) {
  auto* s = find(id);
  if (!s || s->state != SlotState::live || s->copy != CopyState::recovering || s->recovery != 0)
    return;
  const auto& q = seqs_[id.shard];
  // Every acknowledged write must be on it before it serves a read.
  if (s->applied < s->upto || s->applied < q.max_acked)
    return;
  s->copy = CopyState::in_sync;
  out.push_back(
    effect::Log{copy_name(id) + " caught up: in sync at write " + std::to_string(s->applied)});
  // The writes it was sent and has not answered now wait for it too.
  for (auto& [wid, w] : writes_)
    if (!w.settled && w.shard == id.shard)
      for (auto& t : w.targets)
        if (t.slot == id && t.status == Write::pending)
          t.counted = true;
}

void ReplicaSet::release_held(Effects& out) {
  for (const auto& q : seqs_)
    if (!q.established)
      return;
  auto held = std::move(held_);
  held_.clear();
  for (auto& [op, req] : held)
    route(out, op, std::move(req));
}

}  // namespace caflow::detail
