#include "index/hnsw_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <hnswlib/hnswlib.h>

namespace caflow {

namespace {

std::unique_ptr<hnswlib::SpaceInterface<float>> make_space(Metric metric, uint32_t dim) {
  if (metric == Metric::euclidean)
    return std::make_unique<hnswlib::L2Space>(dim);
  return std::make_unique<hnswlib::InnerProductSpace>(dim);
}

/// hnswlib's distance (lower is closer) as the metric's score.
float to_score(Metric metric, float distance) {
  if (metric == Metric::euclidean)
    return std::sqrt(std::max(0.0f, distance));  // L2Space yields the square
  return 1.0f - distance;                        // InnerProductSpace yields 1 - x.q
}

std::vector<float> prepared(const Embedding& v, Metric metric) {
  auto values = v.to_dense();
  if (normalizes(metric)) {
    float n2 = 0;
    for (float x : values)
      n2 += x * x;
    if (n2 > 0) {
      float inv = 1.0f / std::sqrt(n2);
      for (auto& x : values)
        x *= inv;
    }
  }
  return values;
}

}  // namespace

HnswIndex::HnswIndex(Metric metric, HnswOptions options) : metric_(metric), options_(options) {
  options_.max_elements = std::max<size_t>(options_.max_elements, 16);
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::create(uint32_t dim, size_t capacity) {
  dim_ = dim;
  space_ = make_space(metric_, dim);
  graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), capacity, options_.M,
                                                             options_.ef_construction);
  graph_->setEf(options_.ef);
}

void HnswIndex::check_insertable(const Embedding& v, const std::string& what) const {
  if (v.sparse)
    throw Error(errc::invalid_argument,
                what + ": the hnsw index holds dense vectors only; got a sparse embedding "
                       "(use index: exact for sparse vectors)");
  if (dim_ != 0 && v.dimension() != dim_)
    throw_dimension_mismatch(what, "embedding", v.dimension(), dim_);
}

void HnswIndex::upsert(uint64_t label, const Embedding& v) {
  check_insertable(v, "hnsw index");
  if (!graph_)
    create(v.dimension(), options_.max_elements);
  // Deleted nodes keep their slot, so the graph fills even at a constant
  // live count; an existing label updates in place and needs no slot.
  bool known = graph_->label_lookup_.count(label) > 0;
  if (!known && graph_->cur_element_count >= graph_->max_elements_)
    graph_->resizeIndex(graph_->max_elements_ * 2);
  auto values = prepared(v, metric_);
  graph_->addPoint(values.data(), label);
  live_.insert(label);
}

bool HnswIndex::remove(uint64_t label) {
  if (live_.erase(label) == 0)
    return false;
  graph_->markDelete(label);
  return true;
}

void HnswIndex::clear() {
  graph_.reset();
  space_.reset();
  live_.clear();
  dim_ = 0;
}

std::vector<std::vector<Hit>> HnswIndex::search(const std::vector<const Embedding*>& queries,
                                                size_t k, const TieBreak& tie) const {
  std::vector<std::vector<Hit>> out(queries.size());
  if (!graph_ || live_.empty() || k == 0)
    return out;
  for (size_t j = 0; j < queries.size(); ++j) {
    auto values = prepared(*queries[j], metric_);
    auto found = graph_->searchKnn(values.data(), k);
    // searchKnn pops worst first: fill from the back.
    auto& hits = out[j];
    hits.resize(found.size());
    for (size_t i = hits.size(); i-- > 0;) {
      hits[i] = Hit{found.top().second, to_score(metric_, found.top().first)};
      found.pop();
    }
    // hnswlib leaves equal distances in heap order.
    std::sort(hits.begin(), hits.end(), HitOrder(higher_is_better(metric_), &tie));
  }
  return out;
}

void HnswIndex::save(const std::string& path) const {
  if (!graph_)
    throw Error(errc::io_error, "hnsw index: nothing to save to " + path);
  graph_->saveIndex(path);
  std::ifstream check{path, std::ios::binary | std::ios::ate};
  if (!check || check.tellg() <= 0)
    throw Error(errc::io_error, "hnsw index: could not write " + path);
}

bool HnswIndex::load_file(const std::string& path, uint32_t dim) {
  clear();
  if (!std::ifstream{path, std::ios::binary})
    return false;
  try {
    space_ = make_space(metric_, dim);
    // hnswlib 0.6's loading constructor leaves num_deleted_ uninitialised
    // (loadIndex only adds to it), so load into a zeroed, empty graph.
    graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get());
    graph_->num_deleted_ = 0;
    graph_->loadIndex(path, space_.get());
    dim_ = dim;
    graph_->setEf(options_.ef);
    for (const auto& [label, internal] : graph_->label_lookup_)
      if (!graph_->isMarkedDeleted(internal))
        live_.insert(label);
    return true;
  } catch (const std::exception&) {
    clear();
    return false;
  }
}

bool HnswIndex::load(const std::string& path, uint32_t dim, const std::vector<uint64_t>& labels) {
  return restore(path, dim, labels, {});
}

bool HnswIndex::restore(const std::string& path, uint32_t dim, const std::vector<uint64_t>& labels,
                        const std::vector<std::pair<uint64_t, Embedding>>& changed) {
  if (!load_file(path, dim))
    return false;
  try {
    std::unordered_set<uint64_t> stored(labels.begin(), labels.end());
    std::vector<uint64_t> gone;
    for (auto label : live_)
      if (stored.count(label) == 0)
        gone.push_back(label);
    for (auto label : gone)
      remove(label);
    for (const auto& [label, v] : changed)
      upsert(label, v);
    // The graph must now hold exactly the stored labels.
    if (live_.size() != stored.size())
      throw std::runtime_error("live count differs");
    for (auto label : labels)
      if (live_.count(label) == 0)
        throw std::runtime_error("label missing");
    return true;
  } catch (const std::exception&) {
    clear();
    return false;
  }
}

}  // namespace caflow
