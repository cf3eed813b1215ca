// detail::GatewayBridge: the gateway asked from threads outside CAF, each
// callback called once, with the answer, CAF's timeout or the error of a
// gateway that is gone; none after the bridge is destroyed.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "runtime/gateway_bridge.hpp"
#include "test_executors.hpp"

using namespace caflow;
using namespace std::chrono_literals;

namespace {

constexpr auto bound = 60s;  // no wait below is longer

Request request_of(std::string id, Params params = Params::object()) {
  Request req;
  req.id = std::move(id);
  req.endpoint = "/";
  req.parameters = std::move(params);
  req.docs.emplace_back().text = "x";
  return req;
}

gateway_actor gateway_of(const RunningFlow& running) {
  return running.gateway();
}

}  // namespace

TEST_CASE("GatewayBridge: answers from many threads at once, each once, matched to its request") {
  // Hosted by the scheduler, and by the callers (runtime/inline_unit.hpp):
  // then the threads carry requests through the gateway and the heads at
  // once, and through the replicas too when those are scheduled.
  auto hosting = detail::GatewayBridge::Hosting::scheduler;
  bool scheduled_replicas = false;
  SUBCASE("scheduler") {
  }
  SUBCASE("caller, detached replicas") {
    hosting = detail::GatewayBridge::Hosting::caller;
  }
  SUBCASE("caller, scheduled replicas") {
    hosting = detail::GatewayBridge::Hosting::caller;
    scheduled_replicas = true;
  }
  Flow flow;
  flow.add({.name = "rec",
            .uses = "Recorder",
            .uses_metas = Params{{"runs_on_scheduler", scheduled_replicas}},
            .replicas = 2});
  auto running = flow.start();
  REQUIRE(running);
  detail::GatewayBridge bridge{running->system(), gateway_of(*running), hosting};
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  std::atomic<int> answered{0};
  std::atomic<int> mismatched{0};
  std::promise<void> all;
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t)
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto id = std::to_string(t) + "-" + std::to_string(i);
        bridge.ask(request_of(id), 0ms, [&, id](caf::expected<Response> resp) {
          if (!resp || resp->id != id || resp->docs.size() != 1)
            ++mismatched;
          if (++answered == threads * per_thread)
            all.set_value();
        });
      }
    });
  for (auto& s : senders)
    s.join();
  REQUIRE(all.get_future().wait_for(bound) == std::future_status::ready);
  CHECK(mismatched == 0);
  std::promise<caf::expected<Value>> status;
  bridge.ask_status(5s, [&](caf::expected<Value> v) { status.set_value(std::move(v)); });
  auto f = status.get_future();
  REQUIRE(f.wait_for(bound) == std::future_status::ready);
  auto v = f.get();
  REQUIRE(v);
  CHECK(v->get_int("succeeded", -1) == threads * per_thread);
}

TEST_CASE(
  "GatewayBridge: a timeout answers sec::request_timeout once; the late answer is dropped") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder"});
  auto running = flow.start();
  REQUIRE(running);
  detail::GatewayBridge bridge{running->system(), gateway_of(*running)};
  std::atomic<int> calls{0};
  std::promise<caf::error> first;
  bridge.ask(request_of("slow", Params{{"sleep_ms", 500}}), 50ms,
             [&](caf::expected<Response> resp) {
               if (calls++ == 0)
                 first.set_value(resp ? caf::error{} : resp.error());
             });
  auto f = first.get_future();
  REQUIRE(f.wait_for(bound) == std::future_status::ready);
  CHECK(f.get() == caf::sec::request_timeout);
  // The slow request's answer comes later and finds nobody: a request sent
  // after it is answered after it (one replica), so once that one is, the
  // late answer has been dropped.
  std::promise<bool> next;
  bridge.ask(request_of("next"), 0ms,
             [&](caf::expected<Response> resp) { next.set_value(static_cast<bool>(resp)); });
  auto n = next.get_future();
  REQUIRE(n.wait_for(bound) == std::future_status::ready);
  CHECK(n.get());
  CHECK(calls == 1);
}

TEST_CASE(
  "GatewayBridge: a gateway that is gone answers an error; a destroyed bridge calls nobody") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder"});
  auto running = flow.start();
  REQUIRE(running);
  std::atomic<int> late_calls{0};
  {
    detail::GatewayBridge bridge{running->system(), gateway_of(*running)};
    bridge.ask(request_of("pending", Params{{"sleep_ms", 300}}), 0ms,
               [&](caf::expected<Response>) { ++late_calls; });
  }  // destroyed with the request still in flight
  auto gw = gateway_of(*running);
  detail::GatewayBridge bridge{running->system(), gw};
  running->stop();
  std::promise<caf::error> gone;
  bridge.ask(request_of("after"), 0ms, [&](caf::expected<Response> resp) {
    gone.set_value(resp ? caf::error{} : resp.error());
  });
  auto f = gone.get_future();
  REQUIRE(f.wait_for(bound) == std::future_status::ready);
  CHECK(f.get() == caf::sec::request_receiver_down);
  CHECK(late_calls == 0);
}

TEST_CASE("GatewayBridge: the former actor-per-request path (benchmarks' baseline) answers alike") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder"});
  auto running = flow.start();
  REQUIRE(running);
  detail::GatewayBridge bridge{running->system(), gateway_of(*running)};
  struct Legacy {
    Legacy() { detail::use_actor_per_request(true); }
    ~Legacy() { detail::use_actor_per_request(false); }
  } legacy;
  std::promise<caf::expected<Response>> answer;
  bridge.ask(request_of("old"), 0ms,
             [&](caf::expected<Response> resp) { answer.set_value(std::move(resp)); });
  auto f = answer.get_future();
  REQUIRE(f.wait_for(bound) == std::future_status::ready);
  auto resp = f.get();
  REQUIRE(resp);
  CHECK(resp->id == "old");
  std::promise<caf::error> timed_out;
  bridge.ask(request_of("slow", Params{{"sleep_ms", 500}}), 50ms,
             [&](caf::expected<Response> r) { timed_out.set_value(r ? caf::error{} : r.error()); });
  auto t = timed_out.get_future();
  REQUIRE(t.wait_for(bound) == std::future_status::ready);
  CHECK(t.get() == caf::sec::request_timeout);
}
