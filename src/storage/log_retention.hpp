/// Which records of a shard's operation log (storage/shard_store.hpp, keys
/// o/<seq>) to keep: at most `max_writes` writes and at most `max_bytes` of
/// records, the newest ones. A copy that missed writes catches up from an
/// in-sync copy's log while it reaches back far enough, else by a snapshot
/// of the shard (caflow/replication.hpp), so the bounds trade disk for how
/// long a copy may be away before it needs a snapshot. A bound by count
/// alone held the whole shard a second time when writes are large (10,000
/// writes of 50 mails each: every document of a million-document shard).
///
/// Records are deleted in ranges, not one per write: the log is cut once it
/// is over a bound by a slack (64 writes, or an eighth of `max_bytes`), back
/// to within both bounds; the newest record is always kept. Pure: the
/// caller writes the cut into the batch of the write and reports the
/// commit.
///
///   LogRetention keep{10000, 64 << 20};
///   auto cut = keep.cut_for(seq, record.size());   // 0: nothing to delete
///   if (cut) batch.truncate_log(cut);
///   ... commit ...
///   keep.appended(seq, record.size(), cut);
///
/// Not thread-safe (the shard's writer owns it).
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

namespace caflow {

/// The retention rule of one shard's operation log (see the file comment).
class LogRetention {
 public:
  /// Records deleted in one range at least (when only the count is over).
  static constexpr uint64_t min_cut_writes = 64;

  /// Keeps the newest `max_writes` records and at most `max_bytes` of them
  /// (both at least 1).
  LogRetention(uint64_t max_writes, uint64_t max_bytes);

  /// The log's existing record `seq` of `bytes` (found at open), in order.
  void add_existing(uint64_t seq, uint64_t bytes);

  /// Where to cut the log if record `seq` of `bytes` is appended now: the
  /// first sequence number to keep, or 0 when nothing is to be deleted yet.
  [[nodiscard]] uint64_t cut_for(uint64_t seq, uint64_t bytes) const;

  /// Record `seq` of `bytes` was committed, with the log cut before `cut`
  /// (0: not cut) in the same batch.
  void appended(uint64_t seq, uint64_t bytes, uint64_t cut);

  /// The log was emptied (a snapshot restored, a copy reset).
  void clear() noexcept;

  /// The records held and their bytes.
  [[nodiscard]] uint64_t writes() const noexcept { return records_.size(); }
  [[nodiscard]] uint64_t bytes() const noexcept { return bytes_; }

 private:
  uint64_t max_writes_;
  uint64_t max_bytes_;
  std::deque<std::pair<uint64_t, uint64_t>> records_;  // (seq, bytes), oldest first
  uint64_t bytes_ = 0;
};

}  // namespace caflow
