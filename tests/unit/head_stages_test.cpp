// The head's uses_before / uses_after replicas under CAF's test coordinator:
// ready only once they built their executors, and one that went away is
// re-spawned with the request tried again on the new one.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/head.hpp"
#include "actors/replica.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/type_ids.hpp"
#include "tests/unit/coordinated_system.hpp"

using namespace caflow;

namespace {

// Tags each document with the name of the replica's context.
class StageTestMark : public Executor {
 public:
  explicit StageTestMark(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [this](DocumentArray& docs, const Params&) {
      for (auto& d : docs)
        d.tags[context().name] = true;
      return Params::object();
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(StageTestMark);

struct spawned {
  std::string name;
  caf::actor replica;
};

struct fixture : testing::CoordinatedSystem {
  std::shared_ptr<std::vector<spawned>> replicas = std::make_shared<std::vector<spawned>>();
  std::shared_ptr<std::vector<std::string>> log = std::make_shared<std::vector<std::string>>();

  ~fixture() {
    for (auto& r : *replicas)
      caf::anon_send_exit(r.replica, caf::exit_reason::user_shutdown);
  }

  // A head whose replicas (shards and stages) are real replica actors that
  // the test coordinator runs.
  head_actor spawn_head(DeploymentOptions spec) {
    actors::head_setup setup;
    auto rs = replicas;
    setup.spawn = [rs](caf::local_actor* self, ExecutorContext ctx) {
      auto name = ctx.name;
      auto r = self->spawn(actors::replica, std::move(ctx));
      rs->push_back({name, caf::actor_cast<caf::actor>(r)});
      return r;
    };
    auto lines = log;
    setup.log = [lines](std::string line) { lines->push_back(std::move(line)); };
    auto h = sys->spawn(actors::head, std::move(spec), std::move(setup));
    cleanup.push_back(caf::actor_cast<caf::actor>(h));
    sched->run();
    return h;
  }

  template <class T, class Message>
  std::shared_ptr<std::optional<caf::expected<T>>> ask(head_actor h, Message msg) {
    auto out = std::make_shared<std::optional<caf::expected<T>>>();
    sys->spawn(
      [](caf::event_based_actor* self, head_actor h, Message m,
         std::shared_ptr<std::optional<caf::expected<T>>> o) {
        self->request(h, caf::infinite, std::move(m))
          .then([o](T& x) { *o = std::move(x); },
                [o](caf::error& err) { *o = caf::expected<T>{std::move(err)}; });
      },
      h, std::move(msg), out);
    sched->run();
    return out;
  }

  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& r : *replicas)
      n += r.name == name ? 1 : 0;
    return n;
  }
};

Request request(std::string endpoint) {
  Request r;
  r.id = "r";
  r.endpoint = std::move(endpoint);
  r.docs.emplace_back().id = "a";
  return r;
}

DeploymentOptions staged() {
  DeploymentOptions d;
  d.name = "dep";
  d.uses = "StageTestMark";
  d.shards = 2;
  d.polling = Polling{{{"*", "ALL"}}};
  d.uses_before = "StageTestMark";
  d.uses_after = "StageTestMark";
  return d;
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "head stages: spawned by the head, ready with the shards") {
  auto h = spawn_head(staged());
  CHECK(count("dep") == 2);
  CHECK(count("dep-uses_before") == 1);
  CHECK(count("dep-uses_after") == 1);
  auto ready = ask<ok_atom>(h, ping_atom::value);
  REQUIRE(*ready);
  CHECK(**ready);
  auto r = ask<Response>(h, request("/x"));
  REQUIRE(*r);
  REQUIRE(**r);
  // uses_after (which passes its input on) got both shards' answers packed.
  const auto& out = (**r)->docs;
  REQUIRE(out.size() == 2);
  CHECK(out[0].id == "shard-0");
  CHECK(out[1].id == "shard-1");
  CHECK(out[0].tags.get_bool("dep-uses_after", false));
  REQUIRE(out[0].chunks.size() == 1);
  CHECK(out[0].chunks[0].tags.get_bool("dep-uses_before", false));
  CHECK(out[0].chunks[0].tags.get_bool("dep", false));
}

TEST_CASE_FIXTURE(fixture, "head stages: one that went away is re-spawned, the request retried") {
  auto h = spawn_head(staged());
  REQUIRE(*ask<ok_atom>(h, ping_atom::value));
  for (const auto& r : *replicas)
    if (r.name == "dep-uses_before")
      caf::anon_send_exit(r.replica, caf::exit_reason::kill);
  sched->run();
  auto r = ask<Response>(h, request("/x"));
  REQUIRE(*r);
  REQUIRE_MESSAGE(**r, describe(**r));
  CHECK(count("dep-uses_before") == 2);
  REQUIRE_FALSE(log->empty());
  CHECK(log->back().find("dep/uses_before went away") != std::string::npos);
  CHECK((**r)->docs[0].chunks[0].tags.get_bool("dep-uses_before", false));
}
