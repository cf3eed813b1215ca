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
#include "bench/indexer_flow.hpp"
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
  flow.add(sharded_indexer(dir.string(), shards));
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
  std::vector<Document> query_docs(n_queries);
  for (size_t j = 0; j < n_queries; ++j)
    query_docs[j].embedding = queries[j];
  single_searches(*running,
                  {query_docs.begin(),
                   query_docs.begin() + static_cast<ptrdiff_t>(std::min<size_t>(50, n_queries))});
  auto timed = single_searches(*running, query_docs);
  running->stop();
  fs::remove_all(dir);
  emit(Value{{"bench", "dense"},
             {"n", static_cast<int64_t>(n)},
             {"shards", static_cast<int64_t>(shards)},
             {"flow_qps", timed.qps},
             {"bare_qps", bare_qps},
             {"ratio", timed.qps / bare_qps},
             {"flow_p50_ms", timed.p50_ms}});
  return 0;
}

}  // namespace caflow::bench
