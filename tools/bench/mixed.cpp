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
#include "bench/indexer_flow.hpp"
#include "bench/workload.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace fs = std::filesystem;

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
    single_searches(*running, {queries.begin(), queries.begin() + std::min<size_t>(20, n_queries)});
    auto readonly = single_searches(*running, queries);

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
    auto mixed = single_searches(*running, queries);
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
