// The replica's side of replicated shards (caflow/replication.hpp): writes
// applied in sequence order, the log and snapshot served to other copies,
// and catching up from one.
//
// A catch-up is driven by the copy that is behind, pulling from an in-sync
// copy: log chunks (about 4 MB each) while that copy's log reaches back far
// enough, else a snapshot: the source's documents in id order, in chunks of
// 500 with their embeddings, stored through the executor's own write path
// (so its index is rebuilt as they arrive), then the log from the
// snapshot's first chunk on. Documents rather than RocksDB files cross the
// network: CAF carries them as packed bytes, nothing depends on the two
// nodes' RocksDB versions or paths, and the receiving index is built for
// its own options. Writes that arrive meanwhile wait in `ahead` and are
// applied as soon as the gap before them is filled, so the copy does not
// chase a moving end.
#include <iostream>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actors/replica.hpp"
#include "caflow/errors.hpp"
#include "runtime/fan_out_error.hpp"
#include "runtime/op_record.hpp"

namespace caflow::actors {

namespace {

constexpr uint64_t log_chunk_bytes = 4 << 20;
constexpr uint32_t snapshot_chunk_docs = 500;
constexpr auto pull_timeout = std::chrono::seconds(60);
// The source has not applied the writes asked for yet (they are on their
// way to it): look again after this.
constexpr auto pull_pause = std::chrono::milliseconds(20);
constexpr uint32_t max_idle_pulls = 1500;  // 30 s of pauses
constexpr auto progress_every = std::chrono::seconds(2);

template <class F>
auto guarded(replica_state& st, F&& f) -> caf::expected<decltype(f())> {
  try {
    return f();
  } catch (const Error& e) {
    return make_error(e.code(), st.label + ": " + e.what());
  } catch (const std::exception& e) {
    return make_error(errc::executor_failed, st.label + ": " + e.what());
  }
}

caf::error not_replicated(const replica_state& st) {
  if (st.start_error)
    return st.start_error;
  return make_error(errc::invalid_argument, st.label + ": the executor is not replicated");
}

// The answer to a write without its documents (the head has them from
// another copy).
Response slim(Request& req, Params params) {
  Response resp;
  resp.id = std::move(req.id);
  resp.parameters = std::move(params);
  resp.shards_answered = 1;
  return resp;
}

// Applies write `seq` (the next one), logged as `record` (encoded here when
// ""): its input refused is recorded as applied all the same, since every
// copy in this state refuses it alike.
caf::expected<Response> apply(replica_state& st, uint64_t seq, Request& req,
                              std::string record = {}, bool docs = true) {
  WriteStamp stamp{seq, record.empty() ? detail::encode_op(req) : std::move(record)};
  auto params = call_executor(st, req.endpoint, req.docs, req.parameters, &stamp);
  // A handler that keeps no data (an endpoint passed through) records
  // nothing, nor does one that refused its input; a write that failed
  // otherwise (storage) is not applied, and this copy leaves the in-sync set.
  if (params || detail::is_input_error(params.error())) {
    auto recorded = guarded(st, [&] {
      if (st.replicated->applied_seq() < seq)
        st.replicated->skip_write(stamp);
      return true;
    });
    if (!recorded)
      return std::move(recorded.error());
  }
  if (!params)
    return std::move(params.error());
  return docs ? answer(req, std::move(*params)) : slim(req, std::move(*params));
}

Response duplicate(Request& req) {
  Response resp;
  resp.id = std::move(req.id);
  resp.docs = std::move(req.docs);
  resp.shards_answered = 1;
  return resp;
}

// Applies the writes that waited for a gap that is now filled.
void drain(replica_state& st) {
  while (!st.ahead.empty()) {
    auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
    if (!applied)
      return;
    auto i = st.ahead.begin();
    if (i->first > *applied + 1)
      return;
    auto w = std::move(i->second);
    auto seq = i->first;
    st.ahead.erase(i);
    if (seq <= *applied) {
      w.promise.deliver(duplicate(w.req));
      continue;
    }
    auto resp = apply(st, seq, w.req, std::move(w.record), w.docs);
    if (resp)
      w.promise.deliver(std::move(*resp));
    else
      w.promise.deliver(std::move(resp.error()));
  }
}

// The head that asked for the catch-up hears of each chunk; a line goes to
// the log every few seconds of a long one.
void report(replica_pointer self) {
  auto& st = self->state;
  auto& r = *st.recovery;
  if (r.head) {
    auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
    auto head = caf::actor_cast<head_actor>(r.head);
    auto docs = static_cast<uint64_t>(r.snapshot ? r.docs : 0);
    // A front's writer speaks as the front: the head knows the copy by it.
    if (auto front = caf::actor_cast<caf::actor>(st.front))
      caf::send_as(front, head, progress_atom::value, applied ? *applied : uint64_t{0}, docs);
    else
      self->send(head, progress_atom::value, applied ? *applied : 0, docs);
  }
  auto now = std::chrono::steady_clock::now();
  if (now - r.reported < progress_every)
    return;
  r.reported = now;
  if (r.snapshot)
    std::cerr << "caflow: " << st.label << ": catching up: snapshot, " << r.docs
              << " documents so far\n";
  else if (auto applied = guarded(st, [&] { return st.replicated->applied_seq(); }))
    std::cerr << "caflow: " << st.label << ": catching up: at write " << *applied << " of "
              << r.upto << '\n';
}

void finish_recovery(replica_pointer self, caf::expected<uint64_t> result) {
  auto& st = self->state;
  if (!st.recovery)
    return;
  auto r = std::move(*st.recovery);
  st.recovery.reset();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.began).count();
  if (result) {
    std::cerr << "caflow: " << st.label << ": caught up from " << r.from << " to " << *result
              << (r.docs > 0 ? " (snapshot of " + std::to_string(r.docs) + " documents)" : "")
              << " in " << secs << " s\n";
    r.promise.deliver(*result);
  } else {
    std::cerr << "caflow: " << st.label << ": catching up failed: " << describe(result.error())
              << '\n';
    r.promise.deliver(std::move(result.error()));
  }
}

// Replays a chunk of the source's log; false when it failed (the recovery
// is finished with the error).
bool replay(replica_pointer self, OpLogChunk& chunk) {
  auto& st = self->state;
  for (size_t i = 0; i < chunk.seqs.size(); ++i) {
    auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
    if (!applied) {
      finish_recovery(self, std::move(applied.error()));
      return false;
    }
    auto seq = chunk.seqs[i];
    if (seq <= *applied)
      continue;
    if (seq != *applied + 1) {
      finish_recovery(self, make_error(errc::storage_error, st.label + ": the log has a gap at "
                                                              + std::to_string(*applied + 1)));
      return false;
    }
    auto& record = chunk.records[i];
    caf::error failed;
    if (record.empty()) {
      auto ok = guarded(st, [&] {
        st.replicated->skip_write(WriteStamp{seq, {}});
        return true;
      });
      if (!ok)
        failed = std::move(ok.error());
    } else if (auto req = detail::decode_op(record); !req) {
      failed = std::move(req.error());
    } else if (auto resp = apply(st, seq, *req, std::move(record));  // logged as it came
               !resp && !detail::is_input_error(resp.error())) {
      failed = std::move(resp.error());
    }
    if (failed) {
      finish_recovery(self, std::move(failed));
      return false;
    }
  }
  drain(st);
  return true;
}

void pull_snapshot(replica_pointer self) {
  auto& st = self->state;
  auto source = caf::actor_cast<replica_actor>(st.recovery->source);
  self->request(source, pull_timeout, snap_atom::value, st.recovery->after, snapshot_chunk_docs)
    .then(
      [self](SnapshotChunk& chunk) {
        auto& st = self->state;
        if (!st.recovery)
          return;
        auto& r = *st.recovery;
        auto stored = guarded(st, [&] {
          if (!r.started) {
            std::cerr << "caflow: " << st.label << ": the source's log does not reach back to "
                      << st.replicated->applied_seq() + 1 << ": taking a snapshot at "
                      << chunk.applied << '\n';
            st.replicated->restore_begin();
            r.snap_seq = chunk.applied;
            r.started = true;
          }
          st.replicated->restore_docs(chunk.docs);
          r.docs += chunk.docs.size();
          if (chunk.next.empty())
            st.replicated->restore_end(r.snap_seq);
          return true;
        });
        if (!stored) {
          finish_recovery(self, std::move(stored.error()));
          return;
        }
        r.after = chunk.next;
        report(self);
        if (chunk.next.empty()) {
          r.snapshot = false;
          drain(st);
        }
        recover_step(self);
      },
      [self](caf::error& err) { finish_recovery(self, std::move(err)); });
}

}  // namespace

caf::result<Response> on_write_record(replica_pointer self, uint64_t seq, std::string& record,
                                      bool docs) {
  auto req = detail::decode_op(record);
  if (!req)
    return make_error(errc::storage_error, self->state.label + ": write " + std::to_string(seq)
                                             + ": " + error_message(req.error()));
  return on_write(self, seq, *req, std::move(record), docs);
}

caf::result<Response> on_write(replica_pointer self, uint64_t seq, Request& req, std::string record,
                               bool docs) {
  auto& st = self->state;
  if (st.start_error)
    return st.start_error;
  if (!st.replicated) {
    auto params = call_executor(st, req.endpoint, req.docs, req.parameters);
    if (!params)
      return std::move(params.error());
    return answer(req, std::move(*params));
  }
  auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
  if (!applied)
    return std::move(applied.error());
  if (seq <= *applied)
    return duplicate(req);
  if (seq > *applied + 1 || !st.ahead.empty()) {
    // Ahead of a gap (a catch-up fills it): wait for it, in order.
    auto promise = self->make_response_promise<Response>();
    st.ahead.emplace(seq,
                     replica_state::AheadWrite{std::move(req), promise, std::move(record), docs});
    drain(st);
    return promise;
  }
  auto resp = apply(st, seq, req, std::move(record), docs);
  if (!resp)
    return std::move(resp.error());
  return std::move(*resp);
}

caf::result<uint64_t> on_seq(replica_pointer self) {
  auto& st = self->state;
  if (!st.replicated)
    return not_replicated(st);
  auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
  if (!applied)
    return std::move(applied.error());
  return *applied;
}

caf::result<OpLogChunk> on_log(replica_pointer self, uint64_t after, uint64_t max_bytes) {
  auto& st = self->state;
  if (!st.replicated)
    return not_replicated(st);
  auto chunk = guarded(st, [&] { return st.replicated->read_log(after, max_bytes); });
  if (!chunk)
    return std::move(chunk.error());
  return std::move(*chunk);
}

caf::result<SnapshotChunk> on_snap(replica_pointer self, const std::string& after,
                                   uint32_t max_docs) {
  auto& st = self->state;
  if (!st.replicated)
    return not_replicated(st);
  auto chunk = guarded(st, [&] { return st.replicated->read_snapshot(after, max_docs); });
  if (!chunk)
    return std::move(chunk.error());
  return std::move(*chunk);
}

caf::result<uint64_t> on_recover(replica_pointer self, caf::actor source, uint64_t upto) {
  auto& st = self->state;
  if (!st.replicated)
    return not_replicated(st);
  if (st.recovery)
    return make_error(errc::unavailable, st.label + ": already catching up");
  auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
  if (!applied)
    return std::move(applied.error());
  replica_state::Recovery r;
  r.head = self->current_sender();  // before the promise takes it
  auto promise = self->make_response_promise<uint64_t>();
  r.source = std::move(source);
  r.upto = upto;
  r.promise = promise;
  r.from = *applied;
  r.began = std::chrono::steady_clock::now();
  r.reported = r.began;
  st.recovery = std::move(r);
  std::cerr << "caflow: " << st.label << ": catching up from " << *applied << " to " << upto
            << '\n';
  recover_step(self);
  return promise;
}

void recover_step(replica_pointer self) {
  auto& st = self->state;
  if (!st.recovery)
    return;
  if (st.recovery->snapshot) {
    pull_snapshot(self);
    return;
  }
  auto applied = guarded(st, [&] { return st.replicated->applied_seq(); });
  if (!applied) {
    finish_recovery(self, std::move(applied.error()));
    return;
  }
  if (*applied >= st.recovery->upto) {
    finish_recovery(self, *applied);
    return;
  }
  auto source = caf::actor_cast<replica_actor>(st.recovery->source);
  self->request(source, pull_timeout, log_atom::value, *applied, log_chunk_bytes)
    .then(
      [self](OpLogChunk& chunk) {
        auto& st = self->state;
        if (!st.recovery)
          return;
        if (chunk.truncated) {
          // A snapshot, from the start: also after one that ended below a
          // gap the source's log no longer covers (writes numbered before
          // this copy received any, applied by the source only after the
          // snapshot's first chunk, then cut from its log). Continuing the
          // finished snapshot would end it at its old number again, and
          // find the same gap, for ever.
          auto& r = *st.recovery;
          r.snapshot = true;
          r.started = false;
          r.after.clear();
          recover_step(self);
          return;
        }
        if (chunk.seqs.empty()) {
          // On their way to the source: look again shortly, for a while.
          if (++st.recovery->idle > max_idle_pulls) {
            finish_recovery(
              self, make_error(errc::unavailable, st.label + ": the source stays at "
                                                    + std::to_string(chunk.applied) + ", below "
                                                    + std::to_string(st.recovery->upto)));
            return;
          }
          self->delayed_send(self, pull_pause, recover_atom::value);
          return;
        }
        st.recovery->idle = 0;
        if (!replay(self, chunk))
          return;
        report(self);
        recover_step(self);
      },
      [self](caf::error& err) { finish_recovery(self, std::move(err)); });
}

}  // namespace caflow::actors
