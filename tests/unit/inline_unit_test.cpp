// detail::InlineUnit and GatewayBridge's Hosting::caller: a request from a
// thread outside CAF is carried through scheduled actors by that thread and
// answered there; what runs past the bound goes on on the scheduler; an ask
// from inside such a run does not start another; a gateway that is gone
// still answers.
//
// The actors are spawned lazy_init (not scheduled until their first
// message) and nothing else talks to them, so which thread wakes each one
// is fixed: the figures checked below do not depend on timing.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caflow/messages.hpp"
#include "caflow/type_ids.hpp"
#include "runtime/gateway_bridge.hpp"
#include "runtime/inline_unit.hpp"

using namespace caflow;
using namespace std::chrono_literals;
using detail::GatewayBridge;
using detail::InlineUnit;

namespace {

constexpr auto bound = 60s;  // no wait below is longer
// A run bound no descheduling of this thread reaches: where each job runs
// is then fixed (the default bound is time, which a loaded machine eats).
constexpr InlineUnit::Bound roomy{.time = std::chrono::hours{1}, .jobs = 1024};
constexpr auto caller = GatewayBridge::Hosting::caller;

struct System {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> actors;  // stopped at the end

  System() {
    add_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  ~System() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  template <class Handle>
  Handle keep(Handle h) {
    actors.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }
};

// A head's stand-in: answers an id with itself. (An argument: CAF 0.17.6
// spawns argument-less actor functions through a null pointer.)
caf::behavior echo(caf::event_based_actor*, int) {
  return {[](std::string& id) { return id; }};
}

// A gateway's stand-in: asks `head` for the request's id and answers with
// it, so that a request goes gateway -> head -> gateway -> asker.
gateway_actor::behavior_type relay_gateway(gateway_actor::pointer self, caf::actor head) {
  return {
    [=](Request& req) {
      auto rp = self->make_response_promise<Response>();
      self->request(head, caf::infinite, req.id).then([rp](std::string& id) mutable {
        Response r;
        r.id = std::move(id);
        rp.deliver(std::move(r));
      });
      return rp;
    },
    [](status_atom) { return Value::object(); },
  };
}

gateway_actor spawn_gateway(System& s) {
  auto head = s.keep(s.sys->spawn<caf::lazy_init>(echo, 0));
  return s.keep(s.sys->spawn<caf::lazy_init>(relay_gateway, head));
}

Request request_of(std::string id) {
  Request req;
  req.id = std::move(id);
  req.endpoint = "/";
  return req;
}

// One answer, and where and when it came.
struct Answer {
  std::atomic<bool> asking{true};  // ask() has not returned yet
  bool during_ask = false;         // the callback ran inside ask()
  std::thread::id thread;          // the callback's
  bool unit_running = false;       // InlineUnit::here().running() in the callback
  std::promise<caf::expected<Response>> value;
  std::future<caf::expected<Response>> future = value.get_future();

  caf::expected<Response> get() {
    REQUIRE(future.wait_for(bound) == std::future_status::ready);
    return future.get();
  }
};

using Then = std::function<void()>;

std::shared_ptr<Answer> ask(GatewayBridge& bridge, std::string id, Then then = {}) {
  auto a = std::make_shared<Answer>();
  bridge.ask(request_of(std::move(id)), 0ms, [a, then](caf::expected<Response> r) {
    a->thread = std::this_thread::get_id();
    a->during_ask = a->asking.load();
    a->unit_running = InlineUnit::here().running();
    if (then)
      then();
    a->value.set_value(std::move(r));
  });
  a->asking = false;
  return a;
}

// Two actors passing a hop count back and forth until it is 0; each pass
// wakes the other one.
struct Finish {
  std::thread::id thread;
  std::promise<void> done;
};

caf::behavior ping_pong(caf::event_based_actor* self, std::shared_ptr<Finish> fin) {
  return {[=](int hops, caf::actor other) {
    if (hops == 0) {
      fin->thread = std::this_thread::get_id();
      fin->done.set_value();
      return;
    }
    self->send(other, hops - 1, caf::actor_cast<caf::actor>(self));
  }};
}

// Runs `hops` passes with `b` on the calling thread's unit, within `limit`;
// returns when the last pass is done, wherever it ran.
std::thread::id run_ping_pong(System& s, int hops, InlineUnit::Bound limit) {
  auto fin = std::make_shared<Finish>();
  auto a = s.keep(s.sys->spawn<caf::lazy_init>(ping_pong, fin));
  auto b = s.keep(s.sys->spawn<caf::lazy_init>(ping_pong, fin));
  InlineUnit::here().run(*s.sys, limit, [&](caf::execution_unit* host) {
    caf::actor_cast<caf::abstract_actor*>(a)->enqueue(
      caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, hops, b), host);
  });
  auto f = fin->done.get_future();
  REQUIRE(f.wait_for(bound) == std::future_status::ready);
  return fin->thread;
}

}  // namespace

TEST_CASE("InlineUnit: a caller-hosted request is carried and answered on the calling thread") {
  System s;
  auto gw = spawn_gateway(s);
  GatewayBridge bridge{*s.sys, gw, caller, roomy};
  for (int i = 0; i < 3; ++i) {  // and again once the actors went idle
    CAPTURE(i);
    auto a = ask(bridge, "r" + std::to_string(i));
    auto resp = a->get();
    REQUIRE(resp);
    CHECK(resp->id == "r" + std::to_string(i));
    CHECK(a->during_ask);
    CHECK(a->thread == std::this_thread::get_id());
    CHECK(a->unit_running);
    auto run = InlineUnit::here().last_run();
    CHECK(run.resumed == 3);  // the gateway, the head, the gateway again
    CHECK(run.forwarded == 0);
    CHECK_FALSE(InlineUnit::here().running());
  }
}

TEST_CASE("InlineUnit: the same request hosted by the scheduler is answered on a worker") {
  System s;
  auto gw = spawn_gateway(s);
  GatewayBridge bridge{*s.sys, gw};  // Hosting::scheduler
  auto a = ask(bridge, "w");
  auto resp = a->get();
  REQUIRE(resp);
  CHECK(resp->id == "w");
  CHECK(a->thread != std::this_thread::get_id());
  CHECK_FALSE(a->unit_running);
}

TEST_CASE("InlineUnit: work past the job bound goes on on the scheduler and finishes") {
  System s;
  auto where = run_ping_pong(s, 100, {.time = std::chrono::hours{1}, .jobs = 10});
  auto run = InlineUnit::here().last_run();
  CHECK(run.resumed == 10);
  CHECK(run.forwarded == 1);  // the one the tenth pass woke
  CHECK(where != std::this_thread::get_id());
  CHECK_FALSE(InlineUnit::here().running());
}

TEST_CASE("InlineUnit: a time bound of zero hands everything to the scheduler") {
  System s;
  auto where = run_ping_pong(s, 20, {.time = 0us, .jobs = 1024});
  auto run = InlineUnit::here().last_run();
  CHECK(run.resumed == 0);
  CHECK(run.forwarded == 1);
  CHECK(where != std::this_thread::get_id());
}

TEST_CASE("InlineUnit: within the bound every pass runs on the calling thread") {
  System s;
  auto where = run_ping_pong(s, 100, roomy);
  auto run = InlineUnit::here().last_run();
  CHECK(run.resumed == 101);  // 100 passes, then the one that sees 0
  CHECK(run.forwarded == 0);
  CHECK(where == std::this_thread::get_id());
}

TEST_CASE("InlineUnit: an ask from inside a run does not nest: the scheduler hosts it") {
  System s;
  GatewayBridge outer_bridge{*s.sys, spawn_gateway(s), caller, roomy};
  GatewayBridge inner_bridge{*s.sys, spawn_gateway(s), caller, roomy};
  std::shared_ptr<Answer> inner;
  auto outer = ask(outer_bridge, "outer", [&] { inner = ask(inner_bridge, "inner"); });
  auto o = outer->get();
  REQUIRE(o);
  CHECK(outer->during_ask);
  CHECK(outer->thread == std::this_thread::get_id());
  REQUIRE(inner);
  auto i = inner->get();
  REQUIRE(i);
  CHECK(i->id == "inner");
  // A nested run would have carried the inner request on this thread and
  // answered it inside the inner ask().
  CHECK_FALSE(inner->during_ask);
  CHECK(inner->thread != std::this_thread::get_id());
  CHECK_FALSE(inner->unit_running);
}

TEST_CASE("InlineUnit: a caller-hosted ask to a gateway that is gone answers an error at once") {
  System s;
  auto gw = spawn_gateway(s);
  {
    caf::scoped_actor self{*s.sys};
    self->monitor(gw);
    caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(bound) >> [] {});
    REQUIRE(down);
  }
  GatewayBridge bridge{*s.sys, gw, caller, roomy};
  auto a = ask(bridge, "late");
  auto resp = a->get();
  REQUIRE_FALSE(resp);
  CHECK(resp.error() == caf::sec::request_receiver_down);
  CHECK(a->during_ask);
  CHECK(a->thread == std::this_thread::get_id());
}
