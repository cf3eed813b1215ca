// caflow-bench dense: single-query exact searches over n x dim dense
// vectors through an in-process flow with an Indexer of `shards` shards
// (index PARTITION, search ALL), against the bare index (ExactIndex, the
// class the Indexer uses) holding all n vectors, searched one query at a
// time, in the same run.
//
//   caflow-bench dense [--n=20000] [--dim=128] [--shards=2] [--queries=2000]
//
// Prints {"bench": "dense", "n", "shards", "flow_qps", "bare_qps", "ratio",
// "flow_p50_ms"}.
#include <unistd.h>

#include <filesystem>
#include <random>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "index/exact_index.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

std::vector<Embedding> random_vectors(size_t n, uint32_t dim, uint32_t seed) {
  std::mt19937 rng{seed};
  std::normal_distribution<float> g;
  std::vector<Embedding> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(dim);
    for (auto& x : v)
      x = g(rng);
    out.push_back(Embedding::dense_vector(std::move(v)));
  }
  return out;
}

}  // namespace

int dense(int argc, char** argv) {
  auto n = static_cast<size_t>(arg(argc, argv, "n", 20000));
  auto dim = static_cast<uint32_t>(arg(argc, argv, "dim", 128));
  auto shards = static_cast<uint32_t>(arg(argc, argv, "shards", 2));
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 2000));
  auto data = random_vectors(n, dim, 1);
  auto queries = random_vectors(n_queries, dim, 2);

  // The bare index: every vector in one ExactIndex, one query per call.
  double bare_qps = 0;
  {
    ExactIndex index{Metric::cosine};
    for (size_t i = 0; i < n; ++i)
      index.upsert(i, data[i]);
    for (size_t j = 0; j < std::min<size_t>(50, n_queries); ++j)
      (void)index.search({&queries[j]}, 10);
    auto start = clock::now();
    for (const auto& q : queries)
      (void)index.search({&q}, 10);
    bare_qps = static_cast<double>(n_queries) / seconds_since(start);
  }

  auto dir = fs::temp_directory_path() / ("caflow-bench-dense-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Flow flow;
  flow.add({.name = "indexer",
            .uses = "Indexer",
            .workspace = dir.string(),
            .shards = shards,
            .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}});
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = "v" + std::to_string(i);
    d.embedding = data[i];
  }
  if (auto r = running->post("/index", std::move(docs), {.request_size = 500}); !r)
    throw Error(r.error());
  std::vector<double> ms;
  auto one = [&](const Embedding& q) {
    DocumentArray request;
    request.emplace_back().embedding = q;
    auto r = running->post("/search", std::move(request), {.parameters = Value{{"top_k", 10}}});
    if (!r)
      throw Error(r.error());
  };
  for (size_t j = 0; j < std::min<size_t>(50, n_queries); ++j)
    one(queries[j]);
  auto start = clock::now();
  for (const auto& q : queries) {
    auto t = clock::now();
    one(q);
    ms.push_back(seconds_since(t) * 1000);
  }
  double flow_qps = static_cast<double>(n_queries) / seconds_since(start);
  running->stop();
  fs::remove_all(dir);
  emit(Value{{"bench", "dense"},
             {"n", static_cast<int64_t>(n)},
             {"shards", static_cast<int64_t>(shards)},
             {"flow_qps", flow_qps},
             {"bare_qps", bare_qps},
             {"ratio", flow_qps / bare_qps},
             {"flow_p50_ms", percentile(ms, 50)}});
  return 0;
}

}  // namespace caflow::bench
