/// Replicated copies of a stateful executor's shards: what an executor
/// implements so that the runtime can keep several copies of each shard in
/// step (README "Replicated stateful shards").
///
/// The head of a deployment numbers the writes of each shard (1, 2, ...).
/// Every copy applies them in that order and stores, in the same atomic
/// commit as the data, the number of the last write it applied and the
/// write itself in the shard's operation log. A copy that missed writes
/// (its node was away, it was added by a scale) reads them from an in-sync
/// copy's log (`read_log`) and replays them; when that log no longer reaches
/// back far enough it takes a snapshot of the shard (`read_snapshot`,
/// `restore_*`) and replays the rest.
///
///   class MyStore : public caflow::Executor, public caflow::Replicated {
///     // write handlers pass write_stamp() to their commit: seq and record
///     // go into the same atomic batch as the data.
///   };
///   CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(MyStore, "MyStore");
///
/// A stateful executor that does not implement Replicated keeps one copy per
/// node as before: its replicas on other nodes hold data of their own.
///
/// Thread-safety: the runtime calls these from the replica's thread; copies
/// of one shard in one process share a store and must synchronise it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "caflow/document.hpp"

namespace caflow {

/// The write being applied: its per-shard sequence number and the encoded
/// operation that goes into the shard's operation log beside it.
struct WriteStamp {
  uint64_t seq = 0;    ///< the head's number for the write, from 1
  std::string record;  ///< the operation, opaque to the executor
};

/// Operations from a copy's log, in sequence order.
struct OpLogChunk {
  std::vector<uint64_t> seqs;        ///< their sequence numbers
  std::vector<std::string> records;  ///< the operations (WriteStamp::record)
  /// The log no longer holds the first operation asked for: take a
  /// snapshot instead.
  bool truncated = false;
  uint64_t applied = 0;  ///< the copy's last applied sequence number
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, OpLogChunk& x) {
  return f(caf::meta::type_name("caflow::OpLogChunk"), x.seqs, x.records, x.truncated, x.applied);
}

/// One chunk of a shard's documents, in id order, for a snapshot.
struct SnapshotChunk {
  DocumentArray docs;  ///< with their embeddings
  std::string next;    ///< the last id of the chunk; "" when it is the last chunk
  /// The copy's last applied sequence number when the chunk was read.
  uint64_t applied = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SnapshotChunk& x) {
  return f(caf::meta::type_name("caflow::SnapshotChunk"), x.docs, x.next, x.applied);
}

/// The interface of a stateful executor whose shards are replicated (see the
/// file comment). Mixed into an Executor; the runtime finds it by
/// dynamic_cast.
class Replicated {
 public:
  virtual ~Replicated();

  /// The sequence number of the last write this copy applied (0: none).
  [[nodiscard]] virtual uint64_t applied_seq() = 0;

  /// Throws caflow::Error (an input error: invalid_argument,
  /// dimension_mismatch) when this copy would refuse the write `endpoint`
  /// of `docs` for its input, changing nothing. The head asks one copy of
  /// every shard of a request split over several shards before it numbers
  /// any part, so that a bad document refuses the whole request.
  /// `docs` carry only ids and embeddings. Default: accepts everything.
  virtual void check_write(const std::string& endpoint, const DocumentArray& docs) {
    (void)endpoint;
    (void)docs;
  }

  /// Records `stamp` as applied without changing any data: a write that
  /// this copy refused for its input (which every copy in the same state
  /// refuses alike). A stamp at or below applied_seq() is ignored.
  virtual void skip_write(const WriteStamp& stamp) = 0;

  /// The operations after `after`, in order, about `max_bytes` of them at
  /// most (at least one when there is one); `truncated` when the log no
  /// longer holds `after + 1`.
  [[nodiscard]] virtual OpLogChunk read_log(uint64_t after, size_t max_bytes) = 0;

  /// Up to `max_docs` documents whose ids sort after `after` ("" from the
  /// first). The chunks of one snapshot are read while writes go on; the
  /// receiver replays the log from the first chunk's `applied` on, which
  /// converges because every operation rewrites whole documents.
  [[nodiscard]] virtual SnapshotChunk read_snapshot(const std::string& after, size_t max_docs) = 0;

  /// Starts installing a snapshot: every document deleted, and the copy
  /// marked incomplete (a crash before restore_end leaves it empty, at 0).
  virtual void restore_begin() = 0;

  /// Stores one chunk of a snapshot.
  virtual void restore_docs(const DocumentArray& docs) = 0;

  /// Ends a snapshot taken at `seq`: applied_seq() becomes `seq`, the log
  /// starts after it.
  virtual void restore_end(uint64_t seq) = 0;
};

}  // namespace caflow
