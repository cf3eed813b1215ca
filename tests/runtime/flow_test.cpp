// Whole flows in one process: polling, replicas, supervision, needs, YAML.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"
#include "caflow/type_ids.hpp"
#include "runtime/partition.hpp"
#include "test_executors.hpp"
#include "tests/eventually.hpp"

using namespace caflow;

namespace {

DocumentArray make_docs(size_t n, const std::string& prefix = "d") {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = prefix + std::to_string(i);
    d.text = "doc " + std::to_string(i);
    d.tags["x"] = static_cast<double>(i);
  }
  return docs;
}

Value head_status(RunningFlow& flow, const std::string& name) {
  caf::scoped_actor self{flow.system()};
  auto head = flow.head(name);
  Value out;
  self->request(head, std::chrono::seconds(10), status_atom::value)
    .receive([&](Value& v) { out = std::move(v); }, [](caf::error&) {});
  return out;
}

RunningFlow start(const Flow& flow) {
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  return std::move(*running);
}

}  // namespace

TEST_CASE("ANY sends each request to exactly one shard, spreading the load") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder", .shards = 3, .polling = "ANY"});
  auto running = start(flow);
  std::atomic<size_t> calls{0};
  std::atomic<size_t> last_done{0};
  auto result = running.post(
    "/index", make_docs(30),
    {.request_size = 1, .prefetch = 30, .on_progress = [&](size_t done, size_t total) {
       ++calls;
       last_done = done;
       CHECK(total == 30);
     }});
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 30);
  CHECK(calls == 30);
  CHECK(last_done == 30);
  std::set<int64_t> shards;
  for (size_t i = 0; i < 30; ++i) {
    CHECK(result->docs[i].id == "d" + std::to_string(i));  // input order
    shards.insert(result->docs[i].tags.get_int("rec.shard", -1));
  }
  CHECK(shards.size() == 3);
  CHECK(head_status(running, "rec").get_int("succeeded", 0) == 30);
}

TEST_CASE("ALL reaches every shard and the merged top-k equals one shard holding all") {
  DocumentArray queries;
  for (double x : {3.2, 17.9, 50.0}) {
    auto& q = queries.emplace_back();
    q.tags["x"] = x;
  }
  auto search = [&](uint32_t shards, Polling index_polling) {
    Flow flow;
    flow.add({.name = "idx",
              .uses = "ToyIndex",
              .shards = shards,
              .polling = {{"/index", index_polling.entries().at("*")}, {"*", "ALL"}}});
    auto running = start(flow);
    REQUIRE(running.post("/index", make_docs(200), {.request_size = 7}));
    auto count = running.post("/count", {});
    REQUIRE(count);
    CHECK(count->parameters.get_int("count", -1) == 200);  // summed over shards
    auto found = running.post("/search", queries, {.parameters = {{"top_k", 5}}});
    REQUIRE(found);
    return found->docs;
  };
  auto one = search(1, "ANY");
  for (auto mode : {"ANY", "PARTITION"}) {
    auto many = search(3, mode);
    REQUIRE(many.size() == one.size());
    for (size_t q = 0; q < one.size(); ++q) {
      REQUIRE(many[q].matches.size() == 5);
      for (size_t m = 0; m < 5; ++m) {
        CHECK(many[q].matches[m].id == one[q].matches[m].id);
        CHECK(many[q].matches[m].scores == one[q].matches[m].scores);
      }
    }
  }
}

TEST_CASE("PARTITION routes each id to the same shard every time") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder", .shards = 4, .polling = "PARTITION"});
  auto running = start(flow);
  auto first = running.post("/update", make_docs(100), {.request_size = 10});
  auto second = running.post("/update", make_docs(100), {.request_size = 3});
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(first->docs.size() == 100);
  for (size_t i = 0; i < 100; ++i) {
    CHECK(first->docs[i].id == "d" + std::to_string(i));
    auto shard = first->docs[i].tags.get_int("rec.shard", -1);
    CHECK(shard == second->docs[i].tags.get_int("rec.shard", -2));
    CHECK(shard == detail::shard_of(first->docs[i].id, 4));
  }
}

TEST_CASE("replicas=2 uses both replicas") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder", .replicas = 2});
  auto running = start(flow);
  auto result = running.post("/index", make_docs(20),
                             {.request_size = 1, .prefetch = 4, .parameters = {{"sleep_ms", 5}}});
  REQUIRE(result);
  std::map<int64_t, int> per_replica;
  for (auto& d : result->docs)
    ++per_replica[d.tags.get_int("rec.replica", -1)];
  CHECK(per_replica.size() == 2);
  CHECK(per_replica.count(0) == 1);
  CHECK(per_replica.count(1) == 1);
}

TEST_CASE("a replica that dies is restarted and its requests retried") {
  // Deterministic: the Gate executor says when each replica holds a
  // request, and the head's status when it has sent the next ones. (The
  // posting threads join on the way out, even after a failed REQUIRE: a
  // held request gives up after the gate's own bound.)
  testing::Gate::reset();
  Flow flow;
  flow.add({.name = "gate", .uses = "Gate", .replicas = 2, .retries = 2});
  auto running = start(flow);
  std::vector<replica_actor> replicas;
  {
    caf::scoped_actor self{running.system()};
    self->request(running.head("gate"), std::chrono::seconds(10), replicas_atom::value)
      .receive([&](std::vector<replica_actor>& xs) { replicas = std::move(xs); },
               [](caf::error&) {});
  }
  REQUIRE(replicas.size() == 2);
  // One request held in each replica (the head sends each to the least busy).
  caf::expected<PostResult> held = make_error(errc::unavailable);
  std::jthread holding{[&] {
    held = running.post("/hold", make_docs(2, "held"), {.request_size = 1, .prefetch = 2});
  }};
  auto holders = testing::Gate::wait_held(2, std::chrono::seconds(30));
  REQUIRE(holders.size() == 2);
  CHECK(std::set<uint32_t>(holders.begin(), holders.end()) == std::set<uint32_t>{0, 1});
  // Replica 0 is killed while it holds its request: the exit message queues
  // behind that request. Two more requests go one to each replica (both
  // hold one), so one queues behind the exit: it bounces when replica 0
  // stops and is retried on another replica.
  caf::anon_send_exit(replicas[0], caf::exit_reason::kill);
  caf::expected<PostResult> queued = make_error(errc::unavailable);
  std::jthread queueing{[&] {
    queued = running.post("/pass", make_docs(2, "queued"), {.request_size = 1, .prefetch = 2});
  }};
  REQUIRE(testing::eventually([&] {
    auto status = head_status(running, "gate");
    const Value* in_flight = status.find("in_flight");
    if (!in_flight || in_flight->as_array().size() != 2)
      return false;
    const auto& per_replica = in_flight->as_array();
    return per_replica[0].as_int() == 2 && per_replica[1].as_int() == 2;
  }));
  testing::Gate::open();
  holding.join();
  queueing.join();
  REQUIRE_MESSAGE(held, describe(held));
  REQUIRE_MESSAGE(queued, describe(queued));
  CHECK(held->docs.size() == 2);
  CHECK(queued->docs.size() == 2);
  REQUIRE(
    testing::eventually([&] { return head_status(running, "gate").get_int("alive", 0) == 2; }));
  auto status = head_status(running, "gate");
  CHECK(status.get_int("restarts", 0) == 1);
  CHECK(status.get_int("retries", 0) == 1);
  // The restarted replica serves again: two held requests, one in each.
  testing::Gate::reset();
  caf::expected<PostResult> again = make_error(errc::unavailable);
  std::jthread holding_again{[&] {
    again = running.post("/hold", make_docs(2, "again"), {.request_size = 1, .prefetch = 2});
  }};
  auto second = testing::Gate::wait_held(2, std::chrono::seconds(30));
  testing::Gate::open();
  holding_again.join();
  REQUIRE_MESSAGE(again, describe(again));
  CHECK(std::set<uint32_t>(second.begin(), second.end()) == std::set<uint32_t>{0, 1});
}

TEST_CASE("a throwing executor fails that request only") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder", .replicas = 1});
  auto running = start(flow);
  auto failed = running.post("/fail", make_docs(3));
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::executor_failed));
  CHECK(error_message(failed.error()).find("failing on purpose") != std::string::npos);
  CHECK(error_message(failed.error()).find("rec/shard-0/replica-0") != std::string::npos);
  auto ok = running.post("/index", make_docs(3));
  REQUIRE(ok);
  CHECK(ok->docs.size() == 3);
}

TEST_CASE("ALL with a failing shard returns the others' results with the count") {
  Flow flow;
  flow.add({.name = "rec",
            .uses = "Recorder",
            .uses_with = {{"fail_shard", 1}},
            .shards = 3,
            .polling = "ALL"});
  auto running = start(flow);
  auto partial = running.post("/flaky", make_docs(4));
  REQUIRE_MESSAGE(partial, describe(partial));
  CHECK(partial->failed_shards == 1);
  REQUIRE(partial->failures.size() == 1);
  CHECK(partial->failures[0].find("shard 1 is flaky") != std::string::npos);
  CHECK(partial->docs.size() == 4);

  Flow all_fail;
  all_fail.add({.name = "rec",
                .uses = "Recorder",
                .uses_with = {{"fail_all", true}},
                .shards = 2,
                .polling = "ALL"});
  auto running2 = start(all_fail);
  auto failed = running2.post("/flaky", make_docs(2));
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::all_shards_failed));
  CHECK(error_message(failed.error()).find("rec/shard-0") != std::string::npos);
  CHECK(error_message(failed.error()).find("rec/shard-1") != std::string::npos);
}

TEST_CASE("a request over its deployment's timeout fails with a timeout") {
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder", .timeout = std::chrono::milliseconds(100)});
  auto running = start(flow);
  auto slow = running.post("/index", make_docs(1), {.parameters = {{"sleep_ms", 400}}});
  REQUIRE_FALSE(slow);
  CHECK(is(slow.error(), errc::timeout));
  // The replica still works on the slow one; afterwards it serves again.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto fast = running.post("/index", make_docs(1));
  CHECK(fast);
  auto status = head_status(running, "rec");
  CHECK(status.get_int("failed", 0) == 1);
  CHECK(status.find("in_flight")->as_array().at(0).as_int() == 0);
}

TEST_CASE("needs joins two branches by document id") {
  Flow flow;
  flow.add({.name = "left", .uses = "Recorder", .needs = {"gateway"}})
    .add({.name = "right", .uses = "Recorder", .needs = {"gateway"}})
    .add({.name = "join", .uses = "Recorder", .needs = {"left", "right"}});
  auto running = start(flow);
  auto result = running.post("/index", make_docs(10), {.request_size = 4});
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    const auto& d = result->docs[i];
    CHECK(d.id == "d" + std::to_string(i));
    CHECK(d.tags.contains("left.shard"));
    CHECK(d.tags.contains("right.shard"));
    CHECK(d.tags.contains("join.shard"));
  }
}

TEST_CASE("a flow whose executor cannot start says which and why") {
  Flow flow;
  flow.add({.name = "ok", .uses = "Recorder"})
    .add(
      {.name = "broken", .uses = "Recorder", .uses_with = {{"fail_start", true}}, .replicas = 2});
  auto running = flow.start();
  REQUIRE_FALSE(running);
  auto msg = describe(running.error());
  CHECK(msg.find("broken") != std::string::npos);
  CHECK(msg.find("refusing to start on purpose") != std::string::npos);
}

TEST_CASE("YAML and in-code flows behave the same") {
  auto yaml = R"(jtype: Flow
executors:
  - name: rec
    uses: Recorder
    replicas: 2
  - name: idx
    uses: ToyIndex
    shards: 3
    polling: {/index: ANY, /search: ALL, '*': ALL}
)";
  auto loaded = Flow::parse(yaml, "test.yml");
  REQUIRE_MESSAGE(loaded, describe(loaded));
  Flow code;
  code.add({.name = "rec", .uses = "Recorder", .replicas = 2})
    .add({.name = "idx",
          .uses = "ToyIndex",
          .shards = 3,
          .polling = {{"/index", "ANY"}, {"/search", "ALL"}, {"*", "ALL"}}});
  auto run = [](const Flow& f) {
    auto running = start(f);
    REQUIRE(running.post("/index", make_docs(50), {.request_size = 5}));
    DocumentArray q;
    q.emplace_back().tags["x"] = 10.4;
    auto found = running.post("/search", q, {.parameters = {{"top_k", 4}}});
    REQUIRE(found);
    return found->docs[0].matches;
  };
  auto a = run(*loaded);
  auto b = run(code);
  REQUIRE(a.size() == 4);
  REQUIRE(b.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(a[i].id == b[i].id);
    CHECK(a[i].scores == b[i].scores);
  }
}

TEST_CASE("a host program can hand in its own actor system") {
  caf::actor_system_config cfg;
  add_types(cfg);
  caf::actor_system sys{cfg};
  Flow flow;
  flow.add({.name = "rec", .uses = "Recorder"});
  auto running = flow.start(sys);
  REQUIRE(running);
  auto result = running->post("/index", make_docs(5));
  REQUIRE(result);
  CHECK(result->docs.size() == 5);
}

TEST_CASE("the shipped config/noop-flow.yml loads and runs") {
  auto flow = Flow::load(CAFLOW_SOURCE_DIR "/config/noop-flow.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = start(*flow);
  auto result = running.post("/search", make_docs(10), {.request_size = 3});
  REQUIRE_MESSAGE(result, describe(result));
  CHECK(result->docs.size() == 10);
  CHECK(result->docs[9].id == "d9");
}
