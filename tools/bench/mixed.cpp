// caflow-bench mixed: single-query exact sparse searches through an
// in-process flow (one Indexer shard, TF-IDF documents with the mail
// corpus's term distribution and real mail-start queries, see
// bench/workload.hpp), first alone, then while a writer keeps indexing new
// documents in requests of 10: search throughput and latency under writes
// against the read-only baseline of the same run.
//
//   caflow-bench mixed [--sizes=30000,120000] [--queries=300] [--data=drawn|copies|zipf]
//
// Prints per size {"bench": "mixed", "data", "n", "readonly_qps", "readonly_p50_ms",
// "mixed_qps", "mixed_p50_ms", "mixed_p99_ms", "p50_ratio",
// "writer_docs_per_s"} (the last line for the largest).
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <thread>

#include "bench/bench_util.hpp"
#include "bench/workload.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

struct Latencies {
  double qps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Latencies search_all(RunningFlow& flow, const std::vector<Document>& queries) {
  std::vector<double> ms;
  auto start = clock::now();
  for (const auto& q : queries) {
    auto t = clock::now();
    auto r = flow.post("/search", DocumentArray{std::vector<Document>{q}},
                       {.parameters = Value{{"top_k", 10}}});
    if (!r)
      throw Error(r.error());
    ms.push_back(seconds_since(t) * 1000);
  }
  Latencies out;
  out.qps = static_cast<double>(queries.size()) / seconds_since(start);
  out.p50_ms = percentile(ms, 50);
  out.p99_ms = percentile(ms, 99);
  return out;
}

}  // namespace

int mixed(int argc, char** argv) {
  std::vector<size_t> sizes;
  std::istringstream in{arg_string(argc, argv, "sizes", "30000,120000")};
  for (std::string s; std::getline(in, s, ',');)
    sizes.push_back(std::stoull(s));
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 300));
  for (auto n : sizes) {
    auto dir = fs::temp_directory_path() / ("caflow-bench-mixed-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    auto workload = Workload::make(argc, argv, n);
    Flow flow;
    flow.add({.name = "indexer", .uses = "Indexer", .workspace = dir.string()});
    auto running = flow.start();
    if (!running)
      throw Error(running.error());
    for (size_t from = 0; from < n; from += 1000) {
      DocumentArray docs(workload->documents(from, std::min<size_t>(1000, n - from), true));
      if (auto r = running->post("/index", std::move(docs), {.request_size = 100}); !r)
        throw Error(r.error());
    }
    auto queries = workload->queries(n_queries);
    search_all(*running, {queries.begin(), queries.begin() + std::min<size_t>(20, n_queries)});
    auto readonly = search_all(*running, queries);

    // The writer: new documents (pre-generated, so it only writes), 10 a request.
    std::vector<DocumentArray> writes;
    auto fresh = workload->documents(n, 20000, true);
    for (size_t b = 0; b < 2000; ++b)
      writes.emplace_back(std::vector<Document>(
        std::make_move_iterator(fresh.begin() + static_cast<ptrdiff_t>(b * 10)),
        std::make_move_iterator(fresh.begin() + static_cast<ptrdiff_t>(b * 10 + 10))));
    std::atomic<bool> stop{false};
    std::atomic<size_t> written{0};
    std::thread writer{[&] {
      for (size_t b = 0; b < writes.size() && !stop.load(); ++b)
        if (running->post("/index", std::move(writes[b])))
          written += 10;
    }};
    auto start = clock::now();
    auto mixed = search_all(*running, queries);
    double secs = seconds_since(start);
    stop = true;
    writer.join();
    emit(Value{{"bench", "mixed"},
               {"data", workload->name()},
               {"n", static_cast<int64_t>(n)},
               {"readonly_qps", readonly.qps},
               {"readonly_p50_ms", readonly.p50_ms},
               {"mixed_qps", mixed.qps},
               {"mixed_p50_ms", mixed.p50_ms},
               {"mixed_p99_ms", mixed.p99_ms},
               {"p50_ratio", mixed.p50_ms / readonly.p50_ms},
               {"writer_docs_per_s", static_cast<double>(written.load()) / secs}});
    running->stop();
    fs::remove_all(dir);
  }
  return 0;
}

}  // namespace caflow::bench
