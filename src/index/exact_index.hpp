/// Brute-force top-k search over dense or sparse vectors.
///
/// Dense vectors live in one row-major matrix; a request's queries are
/// scored in one matrix product (Eigen), then each query's column is reduced
/// to its top k. Sparse vectors are kept as rows and, for search, as an
/// inverted matrix (term -> rows, Eigen::SparseMatrix<float, RowMajor>) that
/// is rebuilt lazily by the first search after a write: a query then touches
/// only the postings of its non-zero terms.
///
/// Deletes swap the last row into the hole, so storage stays compact.
/// Queries of the other kind are converted (a sparse query against dense
/// vectors is expanded; a dense query against sparse ones keeps its
/// non-zeros). Thread-safety: see vector_index.hpp; concurrent searches may
/// race to rebuild the inverted matrix, which an internal mutex serialises.
#pragma once

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <Eigen/SparseCore>

#include "index/vector_index.hpp"

namespace caflow {

/// Exact search (see the file comment).
class ExactIndex final : public VectorIndex {
 public:
  explicit ExactIndex(Metric metric) : metric_(metric) {}

  [[nodiscard]] Metric metric() const noexcept override { return metric_; }
  [[nodiscard]] uint32_t dimension() const noexcept override { return dim_; }
  [[nodiscard]] bool sparse() const noexcept override { return sparse_; }
  [[nodiscard]] size_t size() const noexcept override { return labels_.size(); }

  void check_insertable(const Embedding& v, const std::string& what) const override;
  void upsert(uint64_t label, const Embedding& v) override;
  bool remove(uint64_t label) override;
  void clear() override;

  [[nodiscard]] std::vector<std::vector<Hit>> search(const std::vector<const Embedding*>& queries,
                                                     size_t k) const override;

 private:
  using Inverted = Eigen::SparseMatrix<float, Eigen::RowMajor, int32_t>;

  std::vector<std::vector<Hit>> search_dense(const std::vector<const Embedding*>& queries,
                                             size_t k) const;
  std::vector<std::vector<Hit>> search_sparse(const std::vector<const Embedding*>& queries,
                                              size_t k) const;
  void rebuild_inverted() const;

  Metric metric_;
  uint32_t dim_ = 0;
  bool sparse_ = false;
  std::vector<uint64_t> labels_;              // row -> label
  std::unordered_map<uint64_t, size_t> row_;  // label -> row
  std::vector<float> norms2_;                 // row -> squared norm (as stored)
  // Dense: rows of dim_ floats, back to back (row-major).
  std::vector<float> dense_;
  // Sparse: each row's non-zeros.
  std::vector<std::vector<uint32_t>> sparse_indices_;
  std::vector<std::vector<float>> sparse_values_;
  // The inverted matrix (dim_ x rows); valid when !dirty_.
  mutable Inverted inverted_;
  mutable std::atomic<bool> dirty_{false};
  mutable std::mutex rebuild_mutex_;
};

}  // namespace caflow
