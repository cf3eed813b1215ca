// Dynamic batching: 64 clients each posting single-document requests to an
// executor whose every call costs a fixed 2 ms of CPU plus a little per
// document (a model's launch cost), without and with uses_dynamic_batching.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace {

// Spins on CPU for `us` microseconds (a busy loop, not a sleep: the cost
// must be CPU, as a model's is).
void spin(std::chrono::microseconds us) {
  auto until = clock::now() + us;
  uint64_t h = 1469598103934665603ull;
  while (clock::now() < until)
    for (int i = 0; i < 64; ++i)
      h = (h ^ static_cast<uint64_t>(i)) * 1099511628211ull;
  if (h == 42)
    std::abort();  // keeps the loop from being optimised away; never true
}

class CallCost : public Executor {
 public:
  explicit CallCost(ExecutorContext ctx)
    : Executor(std::move(ctx)),
      per_call_(context().get("per_call_us", int64_t{2000})),
      per_doc_(context().get("per_doc_us", int64_t{20})) {
    on("/encode", [this](DocumentArray& docs, const Params&) {
      spin(std::chrono::microseconds{per_call_ + per_doc_ * static_cast<int64_t>(docs.size())});
      for (auto& d : docs)
        d.tags["encoded"] = true;
      return Params::object();
    });
  }

 private:
  int64_t per_call_;
  int64_t per_doc_;
};

struct Outcome {
  double docs_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Outcome run(bool batched, int clients, int per_client, int64_t per_call_us, int64_t per_doc_us) {
  DeploymentOptions d{.name = "encoder",
                      .uses = "CallCost",
                      .uses_with = {{"per_call_us", per_call_us}, {"per_doc_us", per_doc_us}}};
  if (batched)
    d.dynamic_batching["/encode"] = {.preferred_batch_size = static_cast<uint32_t>(clients),
                                     .timeout = std::chrono::milliseconds{10}};
  Flow flow;
  flow.add(std::move(d));
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  std::mutex mtx;
  std::vector<double> latencies_ms;
  std::atomic<int> failures{0};
  auto t0 = clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      for (int i = 0; i < per_client; ++i) {
        DocumentArray docs;
        docs.emplace_back().text = "client " + std::to_string(c) + " doc " + std::to_string(i);
        auto start = clock::now();
        auto r = running->post("/encode", std::move(docs), {.request_size = 1, .prefetch = 1});
        mine.push_back(seconds_since(start) * 1e3);
        if (!r || r->docs.size() != 1 || !r->docs[0].tags.get_bool("encoded", false))
          ++failures;
      }
      std::lock_guard<std::mutex> guard{mtx};
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads)
    t.join();
  auto secs = seconds_since(t0);
  if (failures > 0)
    throw std::runtime_error(std::to_string(failures.load()) + " requests failed");
  Outcome out;
  out.docs_per_s = static_cast<double>(clients) * per_client / secs;
  out.p50_ms = percentile(latencies_ms, 50);
  out.p99_ms = percentile(latencies_ms, 99);
  return out;
}

}  // namespace

int batching(int argc, char** argv) {
  ExecutorRegistry::instance().add(
    "CallCost", [](ExecutorContext ctx) { return std::make_unique<CallCost>(std::move(ctx)); });
  auto clients = static_cast<int>(arg(argc, argv, "clients", 64));
  auto per_call = arg(argc, argv, "per_call_us", 2000);
  auto per_doc = arg(argc, argv, "per_doc_us", 20);
  // Unbatched, each request pays the 2 ms: 64 x 5 requests take ~0.7 s.
  auto unbatched = run(false, clients, static_cast<int>(arg(argc, argv, "rounds", 5)), per_call,
                       per_doc);
  emit({{"bench", "batching"},
        {"part", "unbatched"},
        {"docs_per_s", unbatched.docs_per_s},
        {"p50_ms", unbatched.p50_ms},
        {"p99_ms", unbatched.p99_ms}});
  auto batched = run(true, clients, static_cast<int>(arg(argc, argv, "batched_rounds", 50)),
                     per_call, per_doc);
  emit({{"bench", "batching"},
        {"part", "batched"},
        {"docs_per_s", batched.docs_per_s},
        {"p50_ms", batched.p50_ms},
        {"p99_ms", batched.p99_ms}});
  emit({{"bench", "batching"},
        {"docs_per_s_unbatched", unbatched.docs_per_s},
        {"docs_per_s_batched", batched.docs_per_s},
        {"speedup", batched.docs_per_s / unbatched.docs_per_s},
        {"p99_ms_batched", batched.p99_ms},
        {"p99_ms_unbatched", unbatched.p99_ms},
        {"clients", clients},
        {"per_call_us", static_cast<int64_t>(per_call)},
        {"per_doc_us", static_cast<int64_t>(per_doc)}});
  return 0;
}

}  // namespace caflow::bench
