// Replicas on the scheduler (executors that declare runs_on_scheduler) next
// to detached ones: where each runs, and that a scheduled replica answers,
// fails a request in-band and is restarted like a detached one.
#include <doctest/doctest.h>

#include <pthread.h>

#include <set>
#include <stdexcept>
#include <string>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/replica_spawn.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/json.hpp"
#include "caflow/messages.hpp"
#include "tests/eventually.hpp"

using namespace caflow;

namespace {

// CAF 0.17 names the thread of a detached actor "caf.actor" (its workers
// "caf.multiplexer"): what a handler sees tells where its replica runs.
std::string thread_name() {
  char name[32] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

// Tags each document "probe.thread" with the thread that ran it; `/fail`
// throws.
class ThreadProbe : public Executor {
 public:
  explicit ThreadProbe(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [](DocumentArray& docs, const Params&) {
      for (auto& d : docs)
        d.tags["probe.thread"] = thread_name();
      return Params::object();
    });
    on("/fail", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("probe fails on purpose");
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(ThreadProbe);

// The same, declared quick.
class ScheduledProbe : public ThreadProbe {
 public:
  static constexpr bool runs_on_scheduler = true;
  using ThreadProbe::ThreadProbe;
};
CAFLOW_REGISTER_EXECUTOR(ScheduledProbe);

RunningFlow start(const Flow& flow) {
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  return std::move(*running);
}

// The thread names each deployment's documents came back with.
std::set<std::string> threads_of(const PostResult& result, size_t docs) {
  std::set<std::string> out;
  REQUIRE(result.docs.size() == docs);
  for (const auto& d : result.docs)
    out.insert(d.tags.get_string("probe.thread", "?"));
  return out;
}

DocumentArray some_docs(size_t n) {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i)
    docs.emplace_back().text = "doc " + std::to_string(i);
  return docs;
}

Value head_status(RunningFlow& flow, const std::string& name) {
  caf::scoped_actor self{flow.system()};
  Value out;
  self->request(flow.head(name), std::chrono::seconds(10), status_atom::value)
    .receive([&](Value& v) { out = std::move(v); }, [](caf::error&) {});
  return out;
}

ExecutorContext context_of(std::string uses, Params metas = Params::object()) {
  ExecutorContext ctx;
  ctx.uses = std::move(uses);
  ctx.uses_metas = std::move(metas);
  return ctx;
}

}  // namespace

TEST_CASE("runs_on_scheduler: the declaration, the metas override, the default") {
  auto& registry = ExecutorRegistry::instance();
  CHECK(registry.runs_on_scheduler("ScheduledProbe"));
  CHECK(registry.runs_on_scheduler("NoOp"));
  CHECK_FALSE(registry.runs_on_scheduler("ThreadProbe"));
  CHECK_FALSE(registry.runs_on_scheduler("Indexer"));
  CHECK_FALSE(registry.runs_on_scheduler("no such type"));
  using actors::replica_on_scheduler;
  CHECK(replica_on_scheduler(context_of("ScheduledProbe")));
  CHECK_FALSE(replica_on_scheduler(context_of("ThreadProbe")));
  CHECK_FALSE(replica_on_scheduler(context_of("ScheduledProbe", {{"runs_on_scheduler", false}})));
  CHECK(replica_on_scheduler(context_of("ThreadProbe", {{"runs_on_scheduler", true}})));
  // Other metas leave the declaration in force.
  CHECK(replica_on_scheduler(context_of("ScheduledProbe", {{"workspace", "/tmp"}})));
}

TEST_CASE("a declared executor's replicas run on the workers, an undeclared one's on threads") {
  struct Case {
    const char* uses;
    Params metas;
    bool scheduled;
  };
  for (const auto& c : {Case{"ScheduledProbe", Params::object(), true},
                        Case{"ThreadProbe", Params::object(), false},
                        Case{"ScheduledProbe", Params{{"runs_on_scheduler", false}}, false},
                        Case{"ThreadProbe", Params{{"runs_on_scheduler", true}}, true}}) {
    CAPTURE(c.uses);
    CAPTURE(to_json(c.metas));
    Flow flow;
    flow.add({.name = "probe", .uses = c.uses, .uses_metas = c.metas, .replicas = 2});
    auto running = start(flow);
    // Several requests at once, so that both replicas get some.
    auto result = running.post("/index", some_docs(8), {.request_size = 1, .prefetch = 4});
    REQUIRE_MESSAGE(result, describe(result));
    auto threads = threads_of(*result, 8);
    if (c.scheduled)
      CHECK(threads.count("caf.actor") == 0);
    else
      CHECK(threads == std::set<std::string>{"caf.actor"});
  }
}

TEST_CASE("a scheduled replica fails a throwing request only, and serves on") {
  Flow flow;
  flow.add({.name = "quick", .uses = "ScheduledProbe"});
  auto running = start(flow);
  auto failed = running.post("/fail", some_docs(3));
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::executor_failed));
  CHECK(error_message(failed.error()).find("probe fails on purpose") != std::string::npos);
  CHECK(error_message(failed.error()).find("quick/shard-0/replica-0") != std::string::npos);
  auto ok = running.post("/index", some_docs(3));
  REQUIRE_MESSAGE(ok, describe(ok));
  CHECK(threads_of(*ok, 3).count("caf.actor") == 0);
}

TEST_CASE("a scheduled replica that dies is restarted on the scheduler") {
  Flow flow;
  flow.add({.name = "quick", .uses = "ScheduledProbe"});
  auto running = start(flow);
  std::vector<replica_actor> replicas;
  {
    caf::scoped_actor self{running.system()};
    self->request(running.head("quick"), std::chrono::seconds(10), replicas_atom::value)
      .receive([&](std::vector<replica_actor>& xs) { replicas = std::move(xs); },
               [](caf::error&) {});
  }
  REQUIRE(replicas.size() == 1);
  caf::anon_send_exit(replicas[0], caf::exit_reason::kill);
  REQUIRE(testing::eventually([&] {
    auto status = head_status(running, "quick");
    return status.get_int("restarts", 0) == 1 && status.get_int("alive", 0) == 1;
  }));
  auto ok = running.post("/index", some_docs(4));
  REQUIRE_MESSAGE(ok, describe(ok));
  CHECK(threads_of(*ok, 4).count("caf.actor") == 0);
}
