#include "index/exact_index.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace caflow {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A query as non-zeros, whatever its kind.
void sparse_view(const Embedding& q, std::vector<uint32_t>& idx, std::vector<float>& val) {
  idx.clear();
  val.clear();
  if (q.sparse) {
    idx = q.indices;
    val = q.values;
    return;
  }
  for (size_t i = 0; i < q.values.size(); ++i)
    if (q.values[i] != 0) {
      idx.push_back(static_cast<uint32_t>(i));
      val.push_back(q.values[i]);
    }
}

// Bounds the scores matrix of one dense batch to ~64 MB.
constexpr size_t max_scores = size_t{16} << 20;

}  // namespace

void ExactIndex::check_insertable(const Embedding& v, const std::string& what) const {
  if (dim_ == 0)
    return;
  if (v.sparse != sparse_)
    throw Error(errc::invalid_argument, what + ": a " + (v.sparse ? "sparse" : "dense")
                                          + " embedding cannot join an index of "
                                          + (sparse_ ? "sparse" : "dense") + " vectors");
  if (v.dimension() != dim_)
    throw_dimension_mismatch(what, "embedding", v.dimension(), dim_);
}

void ExactIndex::upsert(uint64_t label, const Embedding& v) {
  check_insertable(v, "exact index");
  if (dim_ == 0) {
    dim_ = v.dimension();
    sparse_ = v.sparse;
  }
  if (sparse_) {
    sparse_index_.upsert(label, v.indices, v.values);
    return;
  }
  auto [it, added] = row_.emplace(label, labels_.size());
  size_t r = it->second;
  if (added) {
    labels_.push_back(label);
    norms2_.push_back(0);
    dense_.resize(dense_.size() + dim_);
  }
  std::vector<float> values = v.values;
  normalize_in_place(values, metric_);
  norms2_[r] = norm2(values);
  std::copy(values.begin(), values.end(), dense_.begin() + static_cast<ptrdiff_t>(r * dim_));
}

bool ExactIndex::remove(uint64_t label) {
  if (sparse_)
    return sparse_index_.remove(label);
  auto it = row_.find(label);
  if (it == row_.end())
    return false;
  size_t r = it->second;
  size_t last = labels_.size() - 1;
  row_.erase(it);
  if (r != last) {
    // Keep storage compact: the last row moves into the hole.
    labels_[r] = labels_[last];
    row_[labels_[r]] = r;
    norms2_[r] = norms2_[last];
    std::copy_n(dense_.begin() + static_cast<ptrdiff_t>(last * dim_), dim_,
                dense_.begin() + static_cast<ptrdiff_t>(r * dim_));
  }
  labels_.pop_back();
  norms2_.pop_back();
  dense_.resize(dense_.size() - dim_);
  return true;
}

std::unique_ptr<VectorIndex::Loader> ExactIndex::loader() {
  struct Collecting final : Loader {
    explicit Collecting(ExactIndex& index) : index_(index) {}
    void add(uint64_t label, const Embedding& v) override {
      index_.check_insertable(v, "exact index");
      if (index_.dim_ == 0 && v.sparse) {  // the first vector fixes the kind
        index_.dim_ = v.dimension();
        index_.sparse_ = true;
      }
      if (!index_.sparse_) {
        index_.upsert(label, v);  // dense rows are appended as they come anyway
        return;
      }
      rows_.add(label, v.indices, v.values);
    }
    void finish() override {
      if (index_.sparse_)
        index_.sparse_index_.build(std::move(rows_));
      rows_ = SparseRows{};
    }
    ExactIndex& index_;
    SparseRows rows_;
  };
  return std::make_unique<Collecting>(*this);
}

void ExactIndex::clear() {
  dim_ = 0;
  sparse_ = false;
  labels_ = {};
  row_ = {};
  norms2_ = {};
  dense_ = {};
  sparse_index_.clear();
}

std::vector<std::vector<Hit>> ExactIndex::search(const std::vector<const Embedding*>& queries,
                                                 size_t k, const TieBreak& tie) const {
  if (size() == 0 || k == 0)
    return std::vector<std::vector<Hit>>(queries.size());
  if (!sparse_)
    return search_dense(queries, k, tie);
  std::vector<std::vector<Hit>> out(queries.size());
  std::vector<uint32_t> idx;
  std::vector<float> val;
  for (size_t j = 0; j < queries.size(); ++j) {
    sparse_view(*queries[j], idx, val);
    out[j] = sparse_index_.search(idx, val, k, tie);
  }
  return out;
}

std::vector<std::vector<Hit>> ExactIndex::search_dense(const std::vector<const Embedding*>& queries,
                                                       size_t k, const TieBreak& tie) const {
  std::vector<std::vector<Hit>> out(queries.size());
  const size_t n = labels_.size();
  const bool higher = higher_is_better(metric_);
  Eigen::Map<const RowMatrix> stored(dense_.data(), static_cast<Eigen::Index>(n), dim_);
  const size_t batch = std::max<size_t>(1, max_scores / n);
  for (size_t begin = 0; begin < queries.size(); begin += batch) {
    size_t m = std::min(batch, queries.size() - begin);
    RowMatrix q(static_cast<Eigen::Index>(m), dim_);
    std::vector<float> q_norms2(m);
    for (size_t j = 0; j < m; ++j) {
      auto values = queries[begin + j]->to_dense();
      normalize_in_place(values, metric_);
      q_norms2[j] = norm2(values);
      q.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXf>(values.data(),
                                                                                 dim_);
    }
    // One product scores every stored row against every query of the batch.
    Eigen::MatrixXf dots = stored * q.transpose();  // n x m, column per query
    for (size_t j = 0; j < m; ++j) {
      TopK top(k, higher, &tie);
      const float* col = dots.col(static_cast<Eigen::Index>(j)).data();
      for (size_t r = 0; r < n; ++r)
        top.push(labels_[r], score_from_dot(metric_, col[r], norms2_[r], q_norms2[j]));
      auto& hits = out[begin + j] = std::move(top).take();
      if (metric_ == Metric::euclidean) {
        // |x|^2 + |q|^2 - 2 x.q loses precision for close pairs (a
        // self-match scores ~1e-3, not 0): the kept hits get their distance
        // recomputed directly, then are re-ranked.
        auto q_row = q.row(static_cast<Eigen::Index>(j));
        for (auto& h : hits)
          h.score = (stored.row(static_cast<Eigen::Index>(row_.at(h.label))) - q_row).norm();
        std::sort(hits.begin(), hits.end(), HitOrder(false, &tie));
      }
    }
  }
  return out;
}

}  // namespace caflow
