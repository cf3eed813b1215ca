/// Work an index hands out to be done off its owner's lock.
///
/// An index that has slow upkeep to do (SparseIndex: merging its delta into
/// its base) freezes what that work reads, under the owner's exclusive lock,
/// and returns a job; run() then needs no lock at all — it reads only the
/// job's own copies and frozen, immutable segments — so it may run on any
/// thread while the index is searched and written. The result is installed
/// under the exclusive lock again (VectorIndex::finish_background), briefly.
///
///   std::shared_ptr<IndexJob> job;
///   { std::unique_lock lock{mtx}; job = index.begin_background(); }
///   if (job) {
///     job->run();                                // no lock
///     std::unique_lock lock{mtx};
///     index.finish_background(job);              // O(writes since begin)
///   }
#pragma once

namespace caflow {

/// A unit of an index's background work (see the file comment).
class IndexJob {
 public:
  virtual ~IndexJob() = default;

  /// Does the work. Thread-safe against everything the index does; not
  /// against another run() of the same job.
  virtual void run() = 0;

  /// Makes run() return early, now or when it starts; finishing such a job
  /// installs nothing (the index stays as it was, every write kept).
  /// Thread-safe.
  virtual void cancel() noexcept = 0;
};

}  // namespace caflow
