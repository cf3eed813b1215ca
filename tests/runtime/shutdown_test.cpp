// Ending a flow's own actor system within a bound, whatever the threads that
// used it do (actors/system_shutdown.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>

#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/system_shutdown.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"

using namespace caflow;
using namespace std::chrono_literals;

namespace {

// Destroys `running` on another thread; true when that ended within the
// test's bound (far above the shutdown's own 10 s).
bool ends_on_another_thread(std::unique_ptr<RunningFlow>& running) {
  auto ending = std::async(std::launch::async, [&] { running.reset(); });
  auto ended = ending.wait_for(60s) == std::future_status::ready;
  // Lets a system left to finish do so (and the test end if it hung).
  caf::logger::set_current_actor_system(nullptr);
  ending.wait();
  return ended;
}

}  // namespace

TEST_CASE("a flow destroyed on another thread ends while this thread still holds its system") {
  Flow flow;
  flow.add({.name = "noop", .uses = "NoOp"});
  auto started = flow.start();
  REQUIRE_MESSAGE(started, describe(started));
  auto running = std::make_unique<RunningFlow>(std::move(*started));
  // caflow's own blocking calls leave no hold on the system in this thread.
  CHECK(running->placement().size() == 1);
  {
    // A host program's scoped actor does: CAF 0.17 keeps the system's
    // logger in a thread-local of this thread, and ~actor_system waits for
    // the logger.
    caf::scoped_actor self{running->system()};
    self->request(running->gateway(), 10s, status_atom::value)
      .receive([](Value&) {}, [](caf::error&) {});
  }
  auto before = detail::abandoned_systems();
  CHECK(ends_on_another_thread(running));
  CHECK(detail::abandoned_systems() == before + 1);  // left to finish, said so
}

TEST_CASE("a flow destroyed on another thread ends at once after caflow's own calls") {
  Flow flow;
  flow.add({.name = "noop", .uses = "NoOp", .replicas = 2});
  auto started = flow.start();
  REQUIRE_MESSAGE(started, describe(started));
  auto running = std::make_unique<RunningFlow>(std::move(*started));
  REQUIRE(running->post("/index", DocumentArray{}));
  CHECK(running->placement().size() == 2);
  CHECK_FALSE(running->scale("noop", 1));
  auto before = detail::abandoned_systems();
  CHECK(ends_on_another_thread(running));
  CHECK(detail::abandoned_systems() == before);  // ended, not left behind
}
