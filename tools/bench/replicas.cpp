// Replica scaling: a CPU-bound executor with replicas=1 against replicas=2.
#include <cmath>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace {

// A fixed amount of CPU work per document (`work` iterations of a hash mix),
// standing in for a vectorizer.
class BusyWork : public Executor {
 public:
  explicit BusyWork(ExecutorContext ctx)
    : Executor(std::move(ctx)), work_(context().get("work", int64_t{20000})) {
    on("*", [this](DocumentArray& docs, const Params&) {
      for (auto& d : docs) {
        uint64_t h = 1469598103934665603ull;
        for (int64_t i = 0; i < work_; ++i)
          h = (h ^ static_cast<uint64_t>(i)) * 1099511628211ull;
        d.tags["h"] = static_cast<int64_t>(h & 0xffff);
      }
      return Params::object();
    });
  }

 private:
  int64_t work_;
};

double run(uint32_t replicas, size_t n_docs, int64_t work) {
  Flow flow;
  flow.add(
    {.name = "busy", .uses = "BusyWork", .uses_with = {{"work", work}}, .replicas = replicas});
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  DocumentArray docs;
  for (size_t i = 0; i < n_docs; ++i)
    docs.emplace_back().text = "doc";
  auto start = clock::now();
  auto result = running->post("/index", std::move(docs), {.request_size = 10, .prefetch = 8});
  auto secs = seconds_since(start);
  if (!result)
    throw Error(result.error());
  return static_cast<double>(n_docs) / secs;
}

}  // namespace

int replicas(int argc, char** argv) {
  ExecutorRegistry::instance().add(
    "BusyWork", [](ExecutorContext ctx) { return std::make_unique<BusyWork>(std::move(ctx)); });
  // Default work: ~0.2 ms of CPU per document, the order of a real vectorizer.
  auto n_docs = static_cast<size_t>(arg(argc, argv, "docs", 1000));
  auto work = arg(argc, argv, "work", 200000);
  // Baseline: the bare executor on one thread, no runtime.
  auto bare = ExecutorRegistry::instance().create(
    {.name = "bare", .uses = "BusyWork", .uses_with = {{"work", static_cast<int64_t>(work)}}});
  DocumentArray docs;
  for (size_t i = 0; i < n_docs; ++i)
    docs.emplace_back().text = "doc";
  auto t0 = clock::now();
  (*bare)->handle("/index", docs, Params::object());
  auto bare_docs_per_s = static_cast<double>(n_docs) / seconds_since(t0);
  emit({{"bench", "replicas"}, {"part", "bare_executor"}, {"docs_per_s", bare_docs_per_s}});
  run(1, n_docs / 10, work);  // warm-up
  auto r1 = run(1, n_docs, work);
  emit({{"bench", "replicas"}, {"replicas", 1}, {"docs_per_s", r1}});
  auto r2 = run(2, n_docs, work);
  emit({{"bench", "replicas"}, {"replicas", 2}, {"docs_per_s", r2}});
  emit({{"bench", "replicas"},
        {"docs_per_s_r1", r1},
        {"docs_per_s_r2", r2},
        {"speedup", r2 / r1},
        {"bare_executor_docs_per_s", bare_docs_per_s},
        {"r1_vs_bare_executor", r1 / bare_docs_per_s}});
  return 0;
}

}  // namespace caflow::bench
