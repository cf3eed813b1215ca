// Dynamic batching in the replica actor: orderings under CAF's
// test_coordinator (deterministic: which requests form a batch, when the
// timer flushes, that a failing batch fails only its requests), and a real
// flow posting many single-document requests at once.
#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/replica.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/type_ids.hpp"

using namespace caflow;

namespace {

// The sizes of the calls the executor saw, across replicas.
struct CallLog {
  std::mutex mtx;
  std::vector<size_t> sizes;
  void add(size_t n) {
    std::lock_guard<std::mutex> guard{mtx};
    sizes.push_back(n);
  }
  std::vector<size_t> take() {
    std::lock_guard<std::mutex> guard{mtx};
    return std::exchange(sizes, {});
  }
};
CallLog& calls() {
  static CallLog log;
  return log;
}

// Marks each document with the request's `tag` and the call's size; "boom"
// throws, "drop" returns one document fewer than it was given.
class BatchProbe : public Executor {
 public:
  explicit BatchProbe(ExecutorContext ctx) : Executor(std::move(ctx)) {
    auto mark = [](DocumentArray& docs, const Params& params) {
      calls().add(docs.size());
      for (auto& d : docs) {
        if (d.text == "boom")
          throw std::runtime_error("boom in a batch of " + std::to_string(docs.size()));
        d.text += "|" + params.get_string("tag", "") + "|n=" + std::to_string(docs.size());
      }
      for (const auto& d : docs)
        if (d.text.rfind("drop|", 0) == 0) {
          auto kept = docs.docs();
          kept.pop_back();
          docs = DocumentArray{std::move(kept)};
          break;
        }
      return Params{{"calls", 1}};
    };
    on("/encode", mark);
    on("/other", mark);
  }
};
CAFLOW_REGISTER_EXECUTOR(BatchProbe);

Request request(const std::string& endpoint, const std::string& text, const std::string& tag) {
  Request r;
  r.id = text + "-" + tag;
  r.endpoint = endpoint;
  r.docs.emplace_back().text = text;
  r.parameters = Params{{"tag", tag}};
  return r;
}

// One actor system on CAF's deterministic scheduler; messages run only in
// sched.run(), timers fire only in sched.trigger_timeouts().
struct Deterministic {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  replica_actor replica;
  std::vector<std::optional<caf::expected<Response>>> results;

  explicit Deterministic(uint32_t size) {
    add_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    calls().take();
    ExecutorContext ctx{.name = "probe", .uses = "BatchProbe"};
    ctx.dynamic_batching["/encode"] = {.preferred_batch_size = size,
                                       .timeout = std::chrono::milliseconds{10}};
    replica = sys->spawn(actors::replica, ctx);
    sched->run();
  }
  ~Deterministic() {
    // Drain the clock too, or the system waits for timers at shutdown.
    sched->run();
    while (sched->trigger_timeouts())
      sched->run();
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
    sched->run();
  }

  // Sends `reqs` from one client actor, in order; answers land in `results`.
  void send(std::vector<Request> reqs) {
    auto first = results.size();
    results.resize(first + reqs.size());
    // The requests go in as a spawn argument: CAF 0.17.6 applies an
    // argument-less actor function to a null std::shared_ptr<std::tuple<>>
    // (caf/detail/init_fun_factory.hpp), UB that UBSan reports.
    sys->spawn(
      [this, first](caf::event_based_actor* self, std::vector<Request> reqs) {
        for (size_t i = 0; i < reqs.size(); ++i)
          self->request(replica, caf::infinite, std::move(reqs[i]))
            .then([this, at = first + i](Response& r) { results[at] = std::move(r); },
                  [this, at = first + i](caf::error& e) { results[at] = std::move(e); });
      },
      std::move(reqs));
  }
  [[nodiscard]] size_t answered() const {
    size_t n = 0;
    for (const auto& r : results)
      n += r.has_value() ? 1 : 0;
    return n;
  }
  // The answer to the i-th request sent (which must have come).
  [[nodiscard]] const caf::expected<Response>& at(size_t i) const {
    REQUIRE(results.at(i).has_value());
    return *results[i];
  }
};

}  // namespace

TEST_CASE("batching: the preferred size flushes at once, the timer flushes the rest") {
  Deterministic t{3};
  t.send({request("/encode", "a", "t"), request("/encode", "b", "t"), request("/encode", "c", "t"),
          request("/encode", "d", "t"), request("/encode", "e", "t")});
  t.sched->run();
  CHECK(calls().take() == std::vector<size_t>{3});  // a, b, c in one call
  REQUIRE(t.answered() == 3);
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(t.at(i));
    REQUIRE(t.at(i)->docs.size() == 1);
    CHECK(t.at(i)->docs[0].text == std::string(1, static_cast<char>('a' + i)) + "|t|n=3");
    CHECK(t.at(i)->id == std::string(1, static_cast<char>('a' + i)) + "-t");
    CHECK(t.at(i)->parameters.get_int("calls", 0) == 1);
  }
  // d and e wait for the timer: nothing runs until it fires.
  CHECK(calls().take().empty());
  REQUIRE(t.sched->trigger_timeouts());
  t.sched->run();
  CHECK(calls().take() == std::vector<size_t>{2});
  REQUIRE(t.answered() == 5);
  CHECK(t.at(3)->docs[0].text == "d|t|n=2");
  CHECK(t.at(4)->docs[0].text == "e|t|n=2");
}

TEST_CASE("batching: parameters are kept per request, a failing batch fails only its own") {
  Deterministic t{2};
  // Interleaved: tag x holds the document that throws, tag y does not.
  t.send({request("/encode", "one", "x"), request("/encode", "two", "y"),
          request("/encode", "boom", "x"), request("/encode", "three", "y")});
  t.sched->run();
  CHECK(calls().take() == std::vector<size_t>{2, 2});
  REQUIRE(t.answered() == 4);
  REQUIRE_FALSE(t.at(0));
  REQUIRE_FALSE(t.at(2));
  CHECK(error_message(t.at(0).error()) == "probe/shard-0/replica-0: boom in a batch of 2");
  CHECK(error_message(t.at(2).error()) == error_message(t.at(0).error()));
  REQUIRE(t.at(1));
  REQUIRE(t.at(3));
  CHECK(t.at(1)->docs[0].text == "two|y|n=2");
  CHECK(t.at(3)->docs[0].text == "three|y|n=2");
  // The replica lives on and batches again.
  t.send({request("/encode", "four", "x"), request("/encode", "five", "x")});
  t.sched->run();
  REQUIRE(t.answered() == 6);
  CHECK(t.at(5)->docs[0].text == "five|x|n=2");
}

TEST_CASE("batching: an executor that loses documents fails the batch; others are not batched") {
  Deterministic t{2};
  t.send({request("/encode", "keep", "z"), request("/encode", "drop", "z"),
          request("/other", "solo", "z")});
  t.sched->run();
  REQUIRE(t.answered() == 3);
  REQUIRE_FALSE(t.at(0));
  CHECK(error_message(t.at(0).error()).find("returned 1 documents for a batch of 2")
        != std::string::npos);
  REQUIRE_FALSE(t.at(1));
  REQUIRE(t.at(2));  // /other is not batched: one call of its own
  CHECK(t.at(2)->docs[0].text == "solo|z|n=1");
}

TEST_CASE("batching: a flow gathers 64 concurrent single-document requests into full batches") {
  calls().take();
  Flow flow;
  // A timeout far beyond the test's run: only the size flushes, so exactly
  // 8 calls of 8 whatever the machine's speed.
  flow.add(
    {.name = "probe",
     .uses = "BatchProbe",
     .dynamic_batching = {
       {"/encode", {.preferred_batch_size = 8, .timeout = std::chrono::milliseconds{120000}}}}});
  auto running = flow.start();
  REQUIRE(running);
  DocumentArray docs;
  for (int i = 0; i < 64; ++i)
    docs.emplace_back().text = "doc" + std::to_string(i);
  auto result = running->post("/encode", std::move(docs),
                              {.request_size = 1, .prefetch = 64, .parameters = {{"tag", "p"}}});
  REQUIRE(result);
  REQUIRE(result->docs.size() == 64);
  for (int i = 0; i < 64; ++i)
    CHECK(result->docs[i].text == "doc" + std::to_string(i) + "|p|n=8");
  CHECK(calls().take() == std::vector<size_t>(8, 8));
}
