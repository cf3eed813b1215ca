#include "test_executors.hpp"

#include "tests/toy_search.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace caflow::testing {

Recorder::Recorder(ExecutorContext ctx) : Executor(std::move(ctx)) {
  if (context().get("fail_start", false))
    throw std::runtime_error("refusing to start on purpose");
  on("*", [this](DocumentArray& docs, const Params& params) {
    auto ms = params.get_int("sleep_ms", 0);
    if (ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    for (auto& d : docs) {
      d.tags[context().name + ".shard"] = static_cast<int64_t>(context().shard_id);
      d.tags[context().name + ".replica"] = static_cast<int64_t>(context().replica_id);
    }
    return Params{{"seen", static_cast<int64_t>(docs.size())}};
  });
  on("/fail", [](DocumentArray&, const Params&) -> Params {
    throw std::runtime_error("failing on purpose");
  });
  // Fails on one shard only (uses_with.fail_shard), for partial results.
  on("/flaky", [this](DocumentArray& docs, const Params&) {
    if (context().get("fail_shard", int64_t{-1}) == context().shard_id
        || context().get("fail_all", false))
      throw std::runtime_error("shard " + std::to_string(context().shard_id) + " is flaky");
    for (auto& d : docs)
      d.tags["flaky.shard"] = static_cast<int64_t>(context().shard_id);
    return Params::object();
  });
}
CAFLOW_REGISTER_EXECUTOR(Recorder);

ToyIndex::ToyIndex(ExecutorContext ctx) : Executor(std::move(ctx)) {
  on("/index", [this](DocumentArray& docs, const Params&) {
    for (const auto& d : docs)
      stored_.emplace_back(d.id, d.tags.get_double("x", 0));
    return Params::object();
  });
  on("/count", [this](DocumentArray&, const Params&) {
    return Params{{"count", static_cast<int64_t>(stored_.size())}};
  });
  on("/search", [this](DocumentArray& queries, const Params& params) {
    toy_search(queries, params, stored_);
    return Params::object();
  });
}
CAFLOW_REGISTER_EXECUTOR(ToyIndex);

namespace {

struct GateState {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;
  std::vector<uint32_t> held;  // replica ids, in arrival order
};

GateState& gate() {
  static GateState state;
  return state;
}

}  // namespace

Gate::Gate(ExecutorContext ctx) : Executor(std::move(ctx)) {
  auto tag = [this](DocumentArray& docs) {
    for (auto& d : docs)
      d.tags["gate.replica"] = static_cast<int64_t>(context().replica_id);
  };
  on("/hold", [this, tag](DocumentArray& docs, const Params&) {
    auto& g = gate();
    std::unique_lock<std::mutex> lock{g.mtx};
    g.held.push_back(context().replica_id);
    g.cv.notify_all();
    // Bounded, so that a test that fails before opening cannot hang the
    // flow's stop on this replica.
    if (!g.cv.wait_for(lock, std::chrono::seconds(60), [&] { return g.open; }))
      throw std::runtime_error("the gate was never opened");
    tag(docs);
    return Params::object();
  });
  on("*", [tag](DocumentArray& docs, const Params&) {
    tag(docs);
    return Params::object();
  });
}

void Gate::reset() {
  std::lock_guard<std::mutex> guard{gate().mtx};
  gate().open = false;
  gate().held.clear();
}

void Gate::open() {
  std::lock_guard<std::mutex> guard{gate().mtx};
  gate().open = true;
  gate().cv.notify_all();
}

std::vector<uint32_t> Gate::wait_held(size_t n, std::chrono::seconds limit) {
  auto& g = gate();
  std::unique_lock<std::mutex> lock{g.mtx};
  g.cv.wait_for(lock, limit, [&] { return g.held.size() >= n; });
  return g.held;
}
CAFLOW_REGISTER_EXECUTOR(Gate);

}  // namespace caflow::testing
