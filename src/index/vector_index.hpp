/// The interface of the in-memory vector indexes of an Indexer shard.
///
/// An index maps labels (integers the shard assigns to stored document ids)
/// to vectors and answers top-k queries under one Metric. Two implementations:
/// ExactIndex (brute force, dense or sparse, batched over the queries of a
/// request) and HnswIndex (approximate, dense only, hnswlib).
///
/// The kind (dense or sparse) and dimension of an index are fixed by its
/// first vector; a vector of another dimension or kind is rejected with
/// errc::dimension_mismatch / errc::invalid_argument (caflow::Error).
///
/// Thread-safety: const member functions may run concurrently with each
/// other; mutations need exclusive access (the shard's std::shared_mutex).
/// Background work (begin_background) runs without any lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/errors.hpp"
#include "index/index_job.hpp"
#include "index/metric.hpp"
#include "index/top_k.hpp"

namespace caflow {

/// A top-k vector index (see the file comment).
class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  /// The metric scores are computed with.
  [[nodiscard]] virtual Metric metric() const noexcept = 0;
  /// The dimension of the stored vectors; 0 before the first one.
  [[nodiscard]] virtual uint32_t dimension() const noexcept = 0;
  /// True when the index holds sparse vectors (meaningful once dimension() > 0).
  [[nodiscard]] virtual bool sparse() const noexcept = 0;
  /// Number of live (not deleted) vectors.
  [[nodiscard]] virtual size_t size() const noexcept = 0;

  /// Checks that `v` (non-empty) may be stored: same dimension and kind as
  /// the index holds. Throws caflow::Error naming `what` otherwise.
  virtual void check_insertable(const Embedding& v, const std::string& what) const = 0;

  /// Stores `v` under `label`, replacing the vector it had.
  virtual void upsert(uint64_t label, const Embedding& v) = 0;
  /// Removes `label`; false when it is absent.
  virtual bool remove(uint64_t label) = 0;
  /// Removes everything; the next vector fixes dimension and kind anew.
  virtual void clear() = 0;

  /// The best `k` hits for each query, best first, equal scores ordered by
  /// `tie` (see top_k.hpp). `queries` must already have the index's
  /// dimension (the shard checks them). A sparse index returns only vectors
  /// that share a non-zero term with the query (under euclidean: nothing
  /// when no query term occurs in the index, else every vector), so an empty
  /// or out-of-vocabulary query has no hits.
  [[nodiscard]] virtual std::vector<std::vector<Hit>> search(
    const std::vector<const Embedding*>& queries, size_t k, const TieBreak& tie) const = 0;

  /// Fills an index by add() calls, then finish(): faster than an upsert()
  /// per vector where an index can build all at once (exact sparse: one
  /// base, sparse_index.hpp). No search or write in between. add() and
  /// finish() throw as upsert() does.
  class Loader {
   public:
    virtual ~Loader() = default;
    /// Stores `v` under `label` (at once or at finish()).
    virtual void add(uint64_t label, const Embedding& v) = 0;
    /// Makes everything added searchable.
    virtual void finish() = 0;
  };
  /// A Loader for this (empty) index. Default: one that upserts.
  [[nodiscard]] virtual std::unique_ptr<Loader> loader() {
    struct Upserting final : Loader {
      explicit Upserting(VectorIndex& index) : index_(index) {}
      void add(uint64_t label, const Embedding& v) override { index_.upsert(label, v); }
      void finish() override {}
      VectorIndex& index_;
    };
    return std::make_unique<Upserting>(*this);
  }

  /// Upkeep that is due, to be run off the lock (index_job.hpp), or
  /// nullptr; at most one job is out at a time. Exclusive. Default: none
  [[nodiscard]] virtual std::shared_ptr<IndexJob> begin_background() { return nullptr; }
  /// Installs a job begin_background() handed out, after its run()
  /// (ignores one of another index). Exclusive.
  virtual void finish_background(const std::shared_ptr<IndexJob>& /*job*/) {}

  /// search() with ties ordered by label.
  [[nodiscard]] std::vector<std::vector<Hit>> search(const std::vector<const Embedding*>& queries,
                                                     size_t k) const {
    return search(queries, k, TieBreak{});
  }
};

/// Throws errc::dimension_mismatch: "<what>: <noun> dimension <got> != index
/// dimension <have>".
[[noreturn]] inline void throw_dimension_mismatch(const std::string& what, const char* noun,
                                                  uint32_t got, uint32_t have) {
  throw Error(errc::dimension_mismatch, what + ": " + noun + " dimension " + std::to_string(got)
                                          + " != index dimension " + std::to_string(have));
}

}  // namespace caflow
