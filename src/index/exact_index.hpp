/// Exact (brute-force quality) top-k search over dense or sparse vectors.
///
/// Dense vectors live once, in one row-major matrix; a request's queries are
/// scored in one matrix product (Eigen), then each query's column is reduced
/// to its top k. Deletes swap the last row into the hole, so storage stays
/// compact and no write ever rebuilds anything.
///
/// Sparse vectors live in a SparseIndex (sparse_index.hpp): postings only,
/// updated incrementally, searched with MaxScore pruning, equal to brute
/// force.
///
/// Queries of the other kind are converted (a sparse query against dense
/// vectors is expanded; a dense query against sparse ones keeps its
/// non-zeros). Thread-safety: see vector_index.hpp.
#pragma once

#include <unordered_map>

#include "index/sparse_index.hpp"
#include "index/vector_index.hpp"

namespace caflow {

/// Exact search (see the file comment).
class ExactIndex final : public VectorIndex {
 public:
  /// `policy`: when the sparse side merges (merge_policy.hpp).
  explicit ExactIndex(Metric metric, MergePolicy policy = {})
    : metric_(metric), sparse_index_(metric, SparseIndex::default_block_bits, policy) {}

  [[nodiscard]] Metric metric() const noexcept override { return metric_; }
  [[nodiscard]] uint32_t dimension() const noexcept override { return dim_; }
  [[nodiscard]] bool sparse() const noexcept override { return sparse_; }
  [[nodiscard]] size_t size() const noexcept override {
    return sparse_ ? sparse_index_.size() : labels_.size();
  }

  void check_insertable(const Embedding& v, const std::string& what) const override;
  void upsert(uint64_t label, const Embedding& v) override;
  bool remove(uint64_t label) override;
  void clear() override;
  /// Sparse vectors are collected and built into one base at finish().
  [[nodiscard]] std::unique_ptr<Loader> loader() override;

  /// Sparse merges (sparse_index.hpp) as background jobs instead of in the
  /// write that makes them due. Default: in the write
  void set_background_merges(bool on) noexcept { sparse_index_.set_background_merges(on); }
  [[nodiscard]] std::shared_ptr<IndexJob> begin_background() override {
    return sparse_ ? sparse_index_.begin_merge() : nullptr;
  }
  void finish_background(const std::shared_ptr<IndexJob>& job) override {
    sparse_index_.finish_merge(job);
  }

  using VectorIndex::search;
  [[nodiscard]] std::vector<std::vector<Hit>> search(const std::vector<const Embedding*>& queries,
                                                     size_t k, const TieBreak& tie) const override;

  /// The sparse side (tests and benchmarks: merge(), postings()).
  [[nodiscard]] SparseIndex& sparse_index() noexcept { return sparse_index_; }
  [[nodiscard]] const SparseIndex& sparse_index() const noexcept { return sparse_index_; }

 private:
  std::vector<std::vector<Hit>> search_dense(const std::vector<const Embedding*>& queries, size_t k,
                                             const TieBreak& tie) const;

  Metric metric_;
  uint32_t dim_ = 0;
  bool sparse_ = false;
  // Dense: rows of dim_ floats, back to back (row-major).
  std::vector<uint64_t> labels_;              // row -> label
  std::unordered_map<uint64_t, size_t> row_;  // label -> row
  std::vector<float> norms2_;                 // row -> squared norm (as stored)
  std::vector<float> dense_;
  SparseIndex sparse_index_;
};

}  // namespace caflow
