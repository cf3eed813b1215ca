// caflow-bench search: caflow's HNSW index (the class and call the Indexer
// executor uses) against hnswlib alone with the same parameters, on
// clustered vectors. Both are scored by recall@10 against exact search, and
// timed in the same run (queries per second, single thread).
//
//   caflow-bench search [--n=100000] [--dim=128] [--queries=1000] [--centres=1000]
//                       [--sparse-n=6000]
//
// Prints two JSON lines: exact sparse search at TF-IDF scale
// ({"bench": "search_sparse", "ms_per_query", ...}), then the summary
// {"bench": "search", "hnsw_recall", "hnswlib_recall", "hnsw_qps",
// "hnswlib_qps", "hnsw_qps_ratio", ...}.
#include <algorithm>
#include <iostream>
#include <random>
#include <set>

#include "bench/bench_util.hpp"
#include "index/exact_index.hpp"
#include "index/hnsw_index.hpp"
// hnswlib 0.6's headers define non-inline functions, so only one translation
// unit of a binary may include them: this one (the library's copy lives in
// libcaflow.so, which the dynamic linker keeps apart).
#include <hnswlib/hnswlib.h>

namespace caflow::bench {

namespace {

constexpr size_t k = 10;
constexpr size_t request_size = 10;  // queries per search call, like a request

/// `n` vectors, each a random one of `centres` gaussian centres plus noise.
std::vector<Embedding> clustered(size_t n, const std::vector<std::vector<float>>& centres,
                                 std::mt19937& rng) {
  std::uniform_int_distribution<size_t> pick(0, centres.size() - 1);
  std::normal_distribution<float> noise{0.0f, 0.5f};
  std::vector<Embedding> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto v = centres[pick(rng)];
    for (auto& x : v)
      x += noise(rng);
    out.push_back(Embedding::dense_vector(std::move(v)));
  }
  return out;
}

double recall(const std::vector<std::vector<uint64_t>>& got,
              const std::vector<std::vector<Hit>>& truth) {
  size_t found = 0, total = 0;
  for (size_t j = 0; j < truth.size(); ++j) {
    std::set<uint64_t> t;
    for (const auto& h : truth[j])
      t.insert(h.label);
    for (auto label : got[j])
      found += t.count(label);
    total += t.size();
  }
  return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

/// Exact sparse search at TF-IDF scale: `n` vectors of `nnz` non-zeros in
/// `dim` dimensions (Zipf-like term choice), queried in requests of 10.
void sparse_bench(size_t n, uint32_t dim, size_t nnz, size_t nq) {
  std::mt19937 rng{7};
  // Squaring a uniform variate skews term choice towards low indices, so
  // common terms have long posting lists, as in real text.
  std::uniform_real_distribution<double> u;
  std::uniform_real_distribution<float> w{0.1f, 1.0f};
  auto make = [&](size_t count) {
    std::vector<Embedding> out;
    for (size_t i = 0; i < count; ++i) {
      std::set<uint32_t> idx;
      while (idx.size() < nnz)
        idx.insert(static_cast<uint32_t>(u(rng) * u(rng) * dim));
      std::vector<float> values(idx.size());
      for (auto& x : values)
        x = w(rng);
      out.push_back(Embedding::sparse_vector(dim, {idx.begin(), idx.end()}, std::move(values)));
    }
    return out;
  };
  auto data = make(n);
  auto queries = make(nq);
  ExactIndex index{Metric::cosine};
  for (size_t i = 0; i < n; ++i)
    index.upsert(i, data[i]);
  auto start = clock::now();
  (void)index.search({&queries[0]}, k);  // builds the inverted matrix
  double build = seconds_since(start);
  start = clock::now();
  for (size_t b = 0; b < nq; b += request_size) {
    std::vector<const Embedding*> batch;
    for (size_t j = b; j < std::min(nq, b + request_size); ++j)
      batch.push_back(&queries[j]);
    (void)index.search(batch, k);
  }
  double per_query_ms = seconds_since(start) * 1000.0 / static_cast<double>(nq);
  emit(Value{{"bench", "search_sparse"},
             {"n", static_cast<int64_t>(n)},
             {"dim", static_cast<int64_t>(dim)},
             {"nnz", static_cast<int64_t>(nnz)},
             {"queries", static_cast<int64_t>(nq)},
             {"inverted_build_ms", build * 1000.0},
             {"ms_per_query", per_query_ms}});
}

}  // namespace

Value corpus_search(int argc, char** argv);  // search_corpus.cpp

int run_search_bench(int argc, char** argv) {
  auto corpus = corpus_search(argc, argv);
  auto n = static_cast<size_t>(arg(argc, argv, "n", 100000));
  auto dim = static_cast<uint32_t>(arg(argc, argv, "dim", 128));
  auto nq = static_cast<size_t>(arg(argc, argv, "queries", 1000));
  auto nc = static_cast<size_t>(arg(argc, argv, "centres", 1000));
  sparse_bench(static_cast<size_t>(arg(argc, argv, "sparse-n", 6000)), 176000, 300,
               std::max<size_t>(nq, 10));
  const HnswOptions options{.M = 16, .ef_construction = 200, .ef = 50, .max_elements = n};

  std::mt19937 rng{42};
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> centres(nc, std::vector<float>(dim));
  for (auto& c : centres)
    for (auto& x : c)
      x = g(rng);
  auto data = clustered(n, centres, rng);
  auto queries = clustered(nq, centres, rng);
  std::vector<const Embedding*> query_ptrs;
  for (const auto& q : queries)
    query_ptrs.push_back(&q);

  // Ground truth: exact search (euclidean, hnswlib's L2 space).
  ExactIndex exact{Metric::euclidean};
  for (size_t i = 0; i < n; ++i)
    exact.upsert(i, data[i]);
  auto truth = exact.search(query_ptrs, k);

  auto start = clock::now();
  HnswIndex ours{Metric::euclidean, options};
  for (size_t i = 0; i < n; ++i)
    ours.upsert(i, data[i]);
  double ours_build = seconds_since(start);

  start = clock::now();
  hnswlib::L2Space space{dim};
  hnswlib::HierarchicalNSW<float> alone{&space, n, options.M, options.ef_construction};
  alone.setEf(options.ef);
  for (size_t i = 0; i < n; ++i)
    alone.addPoint(data[i].values.data(), i);
  double alone_build = seconds_since(start);

  std::vector<std::vector<uint64_t>> ours_got(nq), alone_got(nq);
  auto run_ours = [&] {
    for (size_t b = 0; b < nq; b += request_size) {
      std::vector<const Embedding*> batch(
        query_ptrs.begin() + static_cast<ptrdiff_t>(b),
        query_ptrs.begin() + static_cast<ptrdiff_t>(std::min(nq, b + request_size)));
      auto hits = ours.search(batch, k);
      for (size_t j = 0; j < hits.size(); ++j) {
        ours_got[b + j].clear();
        for (const auto& h : hits[j])
          ours_got[b + j].push_back(h.label);
      }
    }
  };
  auto run_alone = [&] {
    for (size_t j = 0; j < nq; ++j) {
      auto found = alone.searchKnn(queries[j].values.data(), k);
      alone_got[j].clear();
      for (; !found.empty(); found.pop())
        alone_got[j].push_back(found.top().second);
    }
  };
  // Interleaved passes, best of each: both see the same machine load.
  double ours_best = 1e300, alone_best = 1e300;
  for (int pass = 0; pass < 5; ++pass) {
    start = clock::now();
    run_ours();
    ours_best = std::min(ours_best, seconds_since(start));
    start = clock::now();
    run_alone();
    alone_best = std::min(alone_best, seconds_since(start));
  }
  double ours_qps = static_cast<double>(nq) / ours_best;
  double alone_qps = static_cast<double>(nq) / alone_best;
  Value summary{{"bench", "search"},
                {"n", static_cast<int64_t>(n)},
                {"dim", static_cast<int64_t>(dim)},
                {"queries", static_cast<int64_t>(nq)},
                {"centres", static_cast<int64_t>(nc)},
                {"M", static_cast<int64_t>(options.M)},
                {"ef_construction", static_cast<int64_t>(options.ef_construction)},
                {"ef", static_cast<int64_t>(options.ef)},
                {"hnsw_recall", recall(ours_got, truth)},
                {"hnswlib_recall", recall(alone_got, truth)},
                {"hnsw_qps", ours_qps},
                {"hnswlib_qps", alone_qps},
                {"hnsw_qps_ratio", ours_qps / alone_qps},
                {"hnsw_build_s", ours_build},
                {"hnswlib_build_s", alone_build}};
  summary.merge(corpus);
  emit(summary);
  return 0;
}

}  // namespace caflow::bench
