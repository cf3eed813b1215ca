#include "index/exact_index.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace caflow {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

float norm2(const std::vector<float>& xs) {
  float s = 0;
  for (float x : xs)
    s += x * x;
  return s;
}

/// `xs` scaled to unit length for cosine (a zero vector stays zero, so it
/// scores 0 against everything instead of NaN).
void normalize_in_place(std::vector<float>& xs, Metric metric) {
  if (!normalizes(metric))
    return;
  float n = std::sqrt(norm2(xs));
  if (n > 0)
    for (auto& x : xs)
      x /= n;
}

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

/// |x - q| of two sparse vectors (sorted indices).
float sparse_distance(const std::vector<uint32_t>& xi, const std::vector<float>& xv,
                      const std::vector<uint32_t>& qi, const std::vector<float>& qv) {
  double sum = 0;
  size_t a = 0, b = 0;
  while (a < xi.size() || b < qi.size()) {
    double d;
    if (b == qi.size() || (a < xi.size() && xi[a] < qi[b]))
      d = xv[a++];
    else if (a == xi.size() || qi[b] < xi[a])
      d = -double{qv[b++]};
    else
      d = double{xv[a++]} - qv[b++];
    sum += d * d;
  }
  return static_cast<float>(std::sqrt(sum));
}

/// Euclidean scores from the expansion |x|^2 + |q|^2 - 2 x.q lose precision
/// for close pairs (a self-match scores ~1e-3, not 0); the few kept hits get
/// their distance recomputed directly, then are re-ranked.
template <class Distance>
void refine_euclidean(std::vector<Hit>& hits, Distance distance) {
  for (auto& h : hits)
    h.score = distance(h.label);
  std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
    return x.score != y.score ? x.score < y.score : x.label < y.label;
  });
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
  auto [it, added] = row_.emplace(label, labels_.size());
  size_t r = it->second;
  if (added) {
    labels_.push_back(label);
    norms2_.push_back(0);
    if (sparse_) {
      sparse_indices_.emplace_back();
      sparse_values_.emplace_back();
    } else {
      dense_.resize(dense_.size() + dim_);
    }
  }
  std::vector<float> values = v.values;
  normalize_in_place(values, metric_);
  norms2_[r] = norm2(values);
  if (sparse_) {
    sparse_indices_[r] = v.indices;
    sparse_values_[r] = std::move(values);
    dirty_.store(true, std::memory_order_release);
  } else {
    std::copy(values.begin(), values.end(), dense_.begin() + static_cast<ptrdiff_t>(r * dim_));
  }
}

bool ExactIndex::remove(uint64_t label) {
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
    if (sparse_) {
      sparse_indices_[r] = std::move(sparse_indices_[last]);
      sparse_values_[r] = std::move(sparse_values_[last]);
    } else {
      std::copy_n(dense_.begin() + static_cast<ptrdiff_t>(last * dim_), dim_,
                  dense_.begin() + static_cast<ptrdiff_t>(r * dim_));
    }
  }
  labels_.pop_back();
  norms2_.pop_back();
  if (sparse_) {
    sparse_indices_.pop_back();
    sparse_values_.pop_back();
  } else {
    dense_.resize(dense_.size() - dim_);
  }
  dirty_.store(true, std::memory_order_release);
  return true;
}

void ExactIndex::clear() {
  dim_ = 0;
  sparse_ = false;
  labels_.clear();
  row_.clear();
  norms2_.clear();
  dense_.clear();
  sparse_indices_.clear();
  sparse_values_.clear();
  inverted_ = Inverted{};
  dirty_.store(false, std::memory_order_release);
}

std::vector<std::vector<Hit>> ExactIndex::search(const std::vector<const Embedding*>& queries,
                                                 size_t k) const {
  if (labels_.empty() || k == 0)
    return std::vector<std::vector<Hit>>(queries.size());
  return sparse_ ? search_sparse(queries, k) : search_dense(queries, k);
}

std::vector<std::vector<Hit>> ExactIndex::search_dense(const std::vector<const Embedding*>& queries,
                                                       size_t k) const {
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
      TopK top(k, higher);
      const float* col = dots.col(static_cast<Eigen::Index>(j)).data();
      for (size_t r = 0; r < n; ++r)
        top.push(labels_[r], score_from_dot(metric_, col[r], norms2_[r], q_norms2[j]));
      out[begin + j] = std::move(top).take();
      if (metric_ == Metric::euclidean) {
        auto q_row = q.row(static_cast<Eigen::Index>(j));
        refine_euclidean(out[begin + j], [&](uint64_t label) {
          return (stored.row(static_cast<Eigen::Index>(row_.at(label))) - q_row).norm();
        });
      }
    }
  }
  return out;
}

void ExactIndex::rebuild_inverted() const {
  std::vector<Eigen::Triplet<float, int32_t>> triplets;
  size_t nnz = 0;
  for (const auto& idx : sparse_indices_)
    nnz += idx.size();
  triplets.reserve(nnz);
  for (size_t r = 0; r < sparse_indices_.size(); ++r)
    for (size_t i = 0; i < sparse_indices_[r].size(); ++i)
      triplets.emplace_back(static_cast<int32_t>(sparse_indices_[r][i]), static_cast<int32_t>(r),
                            sparse_values_[r][i]);
  Inverted inv(static_cast<Eigen::Index>(dim_), static_cast<Eigen::Index>(labels_.size()));
  inv.setFromTriplets(triplets.begin(), triplets.end());
  inv.makeCompressed();
  inverted_ = std::move(inv);
}

std::vector<std::vector<Hit>> ExactIndex::search_sparse(
  const std::vector<const Embedding*>& queries, size_t k) const {
  if (dirty_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> guard{rebuild_mutex_};
    if (dirty_.load(std::memory_order_relaxed)) {
      rebuild_inverted();
      dirty_.store(false, std::memory_order_release);
    }
  }
  std::vector<std::vector<Hit>> out(queries.size());
  const size_t n = labels_.size();
  const bool higher = higher_is_better(metric_);
  // One accumulator row per query: together the dense n x m product of the
  // stored rows with the batch, computed from the queries' postings only.
  Eigen::MatrixXf dots = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(n),
                                               static_cast<Eigen::Index>(queries.size()));
  std::vector<uint32_t> idx;
  std::vector<float> val;
  for (size_t j = 0; j < queries.size(); ++j) {
    sparse_view(*queries[j], idx, val);
    normalize_in_place(val, metric_);
    float q_norm2 = norm2(val);
    float* acc = dots.col(static_cast<Eigen::Index>(j)).data();
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] >= dim_)
        continue;  // the shard rejects such queries; be safe anyway
      for (Inverted::InnerIterator it(inverted_, static_cast<Eigen::Index>(idx[i])); it; ++it)
        acc[it.col()] += val[i] * it.value();
    }
    TopK top(k, higher);
    for (size_t r = 0; r < n; ++r)
      top.push(labels_[r], score_from_dot(metric_, acc[r], norms2_[r], q_norm2));
    out[j] = std::move(top).take();
    if (metric_ == Metric::euclidean)
      refine_euclidean(out[j], [&](uint64_t label) {
        size_t r = row_.at(label);
        return sparse_distance(sparse_indices_[r], sparse_values_[r], idx, val);
      });
  }
  return out;
}

}  // namespace caflow
