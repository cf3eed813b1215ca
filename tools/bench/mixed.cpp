// caflow-bench mixed: single-query exact sparse searches through an
// in-process flow (one Indexer shard, TF-IDF documents with the mail
// corpus's term distribution and real mail-start queries, see
// bench/workload.hpp), alone and while a writer keeps indexing new
// documents in requests of 10: search latency under writes against the
// read-only baseline of the same run.
//
// The two kinds of window alternate, `--rounds` of each (read-only, then
// mixed, ...), each running the same `--queries` searches, so that what
// else the machine does (other processes, a merge of the index, the
// allocator) falls on both alike rather than on one long window; the
// figures are over all windows of a kind, and `window_ratios` shows each
// round's mixed p50 over its read-only p50.
//
//   caflow-bench mixed [--sizes=30000,120000] [--queries=200] [--rounds=5]
//                      [--data=drawn|copies|zipf]
//
// Prints per size {"bench": "mixed", "data", "n", "rounds", "readonly_qps",
// "readonly_p50_ms", "mixed_qps", "mixed_p50_ms", "mixed_p99_ms",
// "p50_ratio", "window_ratios", "writer_docs_per_s", "load_avg"} (the last
// line for the largest); load_avg is /proc/loadavg's 1-minute figure at the
// end of that size.
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

namespace {

/// Writes of 10 new documents each, posted one after another while a
/// window runs: from n on, so that every write adds documents (past the
/// last batch it starts over, replacing what it wrote).
class Writer {
 public:
  Writer(RunningFlow& flow, const Workload& workload, size_t n) : flow_(flow) {
    auto fresh = workload.documents(n, batches * 10, true);
    for (size_t b = 0; b < batches; ++b)
      writes_.emplace_back(
        std::vector<Document>(fresh.begin() + static_cast<ptrdiff_t>(b * 10),
                              fresh.begin() + static_cast<ptrdiff_t>(b * 10 + 10)));
  }

  void start() {
    stop_ = false;
    thread_ = std::thread{[this] {
      while (!stop_.load()) {
        if (flow_.post("/index", writes_[next_ % batches]))
          written_ += 10;
        ++next_;
      }
    }};
  }
  void stop() {
    stop_ = true;
    thread_.join();
  }
  [[nodiscard]] size_t written() const noexcept { return written_; }

 private:
  static constexpr size_t batches = 3000;
  RunningFlow& flow_;
  std::vector<DocumentArray> writes_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  size_t next_ = 0;
  size_t written_ = 0;  // read after stop()
};

}  // namespace

int mixed(int argc, char** argv) {
  std::vector<size_t> sizes;
  std::istringstream in{arg_string(argc, argv, "sizes", "30000,120000")};
  for (std::string s; std::getline(in, s, ',');)
    sizes.push_back(std::stoull(s));
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 200));
  auto rounds = static_cast<size_t>(std::max(1LL, arg(argc, argv, "rounds", 5)));
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

    Writer writer{*running, *workload, n};
    std::vector<double> readonly_ms, mixed_ms;
    double readonly_secs = 0, mixed_secs = 0;
    Value::Array window_ratios;
    for (size_t r = 0; r < rounds; ++r) {
      auto start = clock::now();
      auto readonly = single_searches(*running, queries);
      readonly_secs += seconds_since(start);
      writer.start();
      start = clock::now();
      auto mixed = single_searches(*running, queries);
      mixed_secs += seconds_since(start);
      writer.stop();
      readonly_ms.insert(readonly_ms.end(), readonly.ms.begin(), readonly.ms.end());
      mixed_ms.insert(mixed_ms.end(), mixed.ms.begin(), mixed.ms.end());
      window_ratios.emplace_back(mixed.p50_ms / readonly.p50_ms);
    }
    const double readonly_p50 = percentile(readonly_ms, 50);
    const double mixed_p50 = percentile(mixed_ms, 50);
    const auto searches = static_cast<double>(rounds * queries.size());
    emit(Value{{"bench", "mixed"},
               {"data", workload->name()},
               {"n", static_cast<int64_t>(n)},
               {"rounds", static_cast<int64_t>(rounds)},
               {"readonly_qps", searches / readonly_secs},
               {"readonly_p50_ms", readonly_p50},
               {"mixed_qps", searches / mixed_secs},
               {"mixed_p50_ms", mixed_p50},
               {"mixed_p99_ms", percentile(mixed_ms, 99)},
               {"p50_ratio", mixed_p50 / readonly_p50},
               {"window_ratios", std::move(window_ratios)},
               {"writer_docs_per_s", static_cast<double>(writer.written()) / mixed_secs},
               {"load_avg", load_average()}});
    running->stop();
    fs::remove_all(dir);
  }
  return 0;
}

}  // namespace caflow::bench
