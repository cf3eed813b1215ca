/// Approximate top-k search over dense vectors with hnswlib's HNSW graph.
///
/// Labels are the shard's labels. Deletes mark the label deleted in the
/// graph (hnswlib keeps the node but never returns it); an update re-adds
/// the same label, which hnswlib turns into an in-place update (and un-marks
/// a deleted one). The graph grows by doubling when full. Cosine stores
/// unit-normalised vectors in an inner-product space; scores are converted
/// back to the metric's own scale (cosine/inner product: similarity,
/// euclidean: the distance, not its square).
///
/// Thread-safety: see vector_index.hpp (hnswlib's searchKnn is safe to call
/// concurrently; ef is fixed at construction).
#pragma once

#include <memory>
#include <unordered_set>
#include <utility>

#include "index/vector_index.hpp"

namespace hnswlib {
template <typename T>
class SpaceInterface;
template <typename T>
class HierarchicalNSW;
}  // namespace hnswlib

namespace caflow {

/// HNSW parameters (uses_with keys of the same names).
struct HnswOptions {
  size_t M = 16;                 ///< links per node. Default: 16
  size_t ef_construction = 200;  ///< candidate list while building. Default: 200
  size_t ef = 50;                ///< candidate list while searching. Default: 50
  size_t max_elements = 1024;    ///< initial capacity (grows by doubling). Default: 1024
};

/// HNSW search (see the file comment).
class HnswIndex final : public VectorIndex {
 public:
  HnswIndex(Metric metric, HnswOptions options);
  ~HnswIndex() override;

  [[nodiscard]] Metric metric() const noexcept override { return metric_; }
  [[nodiscard]] uint32_t dimension() const noexcept override { return dim_; }
  [[nodiscard]] bool sparse() const noexcept override { return false; }
  [[nodiscard]] size_t size() const noexcept override { return live_.size(); }

  void check_insertable(const Embedding& v, const std::string& what) const override;
  void upsert(uint64_t label, const Embedding& v) override;
  bool remove(uint64_t label) override;
  void clear() override;

  using VectorIndex::search;
  [[nodiscard]] std::vector<std::vector<Hit>> search(const std::vector<const Embedding*>& queries,
                                                     size_t k, const TieBreak& tie) const override;

  /// Writes the graph to `path`. Throws caflow::Error (errc::io_error).
  void save(const std::string& path) const;

  /// Replaces the graph with the one saved at `path`, of dimension `dim`,
  /// whose live labels must be exactly `labels`. Returns false (leaving the
  /// index empty) when the file is missing, unreadable or holds other labels:
  /// the caller then rebuilds from its data.
  bool load(const std::string& path, uint32_t dim, const std::vector<uint64_t>& labels);

  /// Replaces the graph with a checkpoint saved at `path` (dimension `dim`)
  /// and brings it up to date: labels it holds that are not in `labels` (the
  /// stored ones) are deleted, `changed` (the vectors written since the
  /// checkpoint, with their labels) are re-added. Returns false (leaving the
  /// index empty) when the file is unusable or the result does not hold
  /// exactly `labels`: the caller then rebuilds from its data.
  bool restore(const std::string& path, uint32_t dim, const std::vector<uint64_t>& labels,
               const std::vector<std::pair<uint64_t, Embedding>>& changed);

 private:
  void create(uint32_t dim, size_t capacity);
  bool load_file(const std::string& path, uint32_t dim);

  Metric metric_;
  HnswOptions options_;
  uint32_t dim_ = 0;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
  std::unordered_set<uint64_t> live_;  // labels not marked deleted
};

}  // namespace caflow
