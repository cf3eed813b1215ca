// The head and gateway actors under CAF's test coordinator: every message is
// run by the test thread in a known order, so the orderings that break naive
// code (a reply after the down message, a drain while a call is in flight)
// are produced exactly, without sleeps.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/gateway.hpp"
#include "actors/head.hpp"
#include "caflow/errors.hpp"
#include "caflow/type_ids.hpp"
#include "tests/unit/coordinated_system.hpp"

using namespace caflow;

namespace {

// Requests a replica holds, answered when the test says so.
struct inbox {
  std::vector<std::pair<caf::actor, caf::response_promise>> held;  // replica, promise
  std::vector<Request> requests;
  std::vector<caf::actor> spawned;
};

// A replica that holds each request until it gets (ok, i): then it answers
// request i from its own context, as a real replica would.
caf::behavior manual_replica(caf::event_based_actor* self, std::shared_ptr<inbox> box) {
  return {
    [self, box](Request& req) {
      box->held.emplace_back(caf::actor{self}, self->make_response_promise());
      box->requests.push_back(std::move(req));
    },
    [](ping_atom) { return ok_atom::value; },
    [box](ok_atom, size_t i) {
      Response r;
      r.id = box->requests[i].id;
      r.docs = box->requests[i].docs;
      box->held[i].second.deliver(std::move(r));
    },
  };
}

struct fixture : testing::CoordinatedSystem {
  std::shared_ptr<inbox> box = std::make_shared<inbox>();

  ~fixture() {
    for (auto& a : box->spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    for (auto& [a, rp] : box->held)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  head_actor spawn_head(DeploymentOptions spec) {
    actors::head_setup setup;
    auto b = box;
    setup.spawn = [b](caf::local_actor* self, ExecutorContext) {
      auto r = self->spawn(manual_replica, b);
      b->spawned.push_back(r);
      // A stand-in: it answers the replica interface's messages (and the
      // test's own), so it is cast to the typed handle heads hold.
      return caf::actor_cast<replica_actor>(r);
    };
    setup.log = [](std::string) {};
    auto h = sys->spawn(actors::head, std::move(spec), std::move(setup));
    cleanup.push_back(caf::actor_cast<caf::actor>(h));
    sched->run();
    return h;
  }

  // Sends `req` to `dest` from a client actor; the answer lands in `out`.
  template <class Handle>
  std::shared_ptr<std::optional<caf::expected<Response>>> ask(Handle dest, Request req) {
    auto out = std::make_shared<std::optional<caf::expected<Response>>>();
    sys->spawn(
      [](caf::event_based_actor* self, Handle h, Request r,
         std::shared_ptr<std::optional<caf::expected<Response>>> o) {
        self->request(h, caf::infinite, std::move(r))
          .then([o](Response& resp) { *o = std::move(resp); },
                [o](caf::error& err) { *o = caf::expected<Response>{std::move(err)}; });
      },
      dest, std::move(req), out);
    sched->run();
    return out;
  }

  Value status(const head_actor& h) {
    auto out = std::make_shared<Value>();
    sys->spawn(
      [](caf::event_based_actor* self, head_actor h, std::shared_ptr<Value> o) {
        self->request(h, caf::infinite, status_atom::value).then([o](Value& v) { *o = v; });
      },
      h, out);
    sched->run();
    return *out;
  }

  void answer(size_t i) {
    caf::anon_send(box->held[i].first, ok_atom::value, i);
    sched->run();
  }
};

Request one_doc(std::string id) {
  Request r;
  r.id = "r-" + id;
  r.endpoint = "/x";
  Document d;
  d.id = std::move(id);
  r.docs.push_back(std::move(d));
  return r;
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "head actor: a reply after its node was lost: retried, answered once") {
  // Two replicas "on nodes" (spawned here, adopted as if placed there).
  actors::head_setup setup;
  auto b = box;
  setup.spawn = [b](caf::local_actor* self, ExecutorContext) {
    auto r = self->spawn(manual_replica, b);
    b->spawned.push_back(r);
    return caf::actor_cast<replica_actor>(r);  // a stand-in, as in spawn_head
  };
  setup.log = [](std::string) {};
  auto r0 = sys->spawn(manual_replica, box);
  auto r1 = sys->spawn(manual_replica, box);
  setup.placed = {
    {{"n1:1", caf::actor_cast<replica_actor>(r0)}, {"n2:1", caf::actor_cast<replica_actor>(r1)}}};
  auto h = sys->spawn(actors::head,
                      DeploymentOptions{.name = "dep", .uses = "NoOp", .replicas = 2, .retries = 1},
                      std::move(setup));
  cleanup.push_back(caf::actor_cast<caf::actor>(h));
  cleanup.push_back(r0);
  cleanup.push_back(r1);
  sched->run();
  auto out = ask(h, one_doc("a"));
  REQUIRE(box->held.size() == 1);
  auto first = box->held[0].first;
  auto node = first == r0 ? std::string{"n1:1"} : std::string{"n2:1"};
  // The node stops answering heartbeats; its replica answers just after the
  // head heard so (the order a hung node that resumes produces).
  caf::anon_send(h, node_atom::value, node, false, "node " + node + " unresponsive");
  answer(0);
  CHECK_FALSE(out->has_value());   // the late answer was ignored
  REQUIRE(box->held.size() == 2);  // the retry, on the other node's replica
  CHECK(box->held[1].first != first);
  CHECK(box->spawned.size() == 1);  // a stateless replacement, placed here
  answer(1);
  REQUIRE(out->has_value());
  REQUIRE(**out);
  CHECK((**out)->docs.size() == 1);
  auto st = status(h);
  CHECK(st.get_int("retries", -1) == 1);
  CHECK(st.get_int("succeeded", -1) == 1);
  CHECK(st.get_int("alive", -1) == 2);
}

TEST_CASE_FIXTURE(fixture, "head actor: a replica killed holding a call: restarted and retried") {
  auto h = spawn_head({.name = "dep", .uses = "NoOp", .replicas = 2, .retries = 1});
  REQUIRE(box->spawned.size() == 2);
  auto out = ask(h, one_doc("a"));
  REQUIRE(box->held.size() == 1);
  auto first = box->held[0].first;
  auto victim = box->spawned[0] == first ? box->spawned[0] : box->spawned[1];
  caf::anon_send_exit(victim, caf::exit_reason::kill);
  sched->run();
  REQUIRE(box->held.size() == 2);
  CHECK(box->held[1].first != first);
  CHECK(box->spawned.size() == 3);  // the restart
  answer(1);
  REQUIRE(out->has_value());
  CHECK(**out);
  CHECK(status(h).get_int("restarts", -1) == 1);
}

TEST_CASE_FIXTURE(fixture, "head actor: down after the reply: answered once, replica restarted") {
  auto h = spawn_head({.name = "dep", .uses = "NoOp", .replicas = 1});
  auto out = ask(h, one_doc("a"));
  answer(0);
  REQUIRE(out->has_value());
  CHECK(**out);
  caf::anon_send_exit(box->spawned[0], caf::exit_reason::kill);
  sched->run();
  CHECK(box->spawned.size() == 2);
  auto again = ask(h, one_doc("b"));
  answer(1);
  REQUIRE(again->has_value());
  CHECK(**again);
  CHECK(status(h).get_int("alive", -1) == 1);
}

TEST_CASE_FIXTURE(fixture, "head actor: a drain waits for the call in flight") {
  auto h = spawn_head({.name = "dep", .uses = "NoOp", .replicas = 2});
  auto a = ask(h, one_doc("a"));
  auto b = ask(h, one_doc("b"));
  REQUIRE(box->held.size() == 2);
  auto scaled = std::make_shared<bool>(false);
  sys->spawn(
    [](caf::event_based_actor* self, head_actor h, std::shared_ptr<bool> done) {
      self->request(h, caf::infinite, scale_atom::value, uint32_t{1}).then([done](ok_atom) {
        *done = true;
      });
    },
    h, scaled);
  sched->run();
  CHECK(*scaled);
  auto placement = status(h).find("placement")->as_array();
  REQUIRE(placement.size() == 2);
  CHECK(placement[1].get_string("state", "") == "draining");
  // Replica 1 answers its call, then stops.
  size_t on_1 = box->held[0].first == box->spawned[1] ? 0 : 1;
  answer(on_1);
  placement = status(h).find("placement")->as_array();
  CHECK(placement.size() == 1);
  answer(1 - on_1);
  CHECK(a->has_value());
  CHECK(b->has_value());
}

TEST_CASE_FIXTURE(fixture, "head actor: stop answers once every replica is down") {
  auto h = spawn_head({.name = "dep", .uses = "NoOp", .shards = 2});
  auto stopped = std::make_shared<bool>(false);
  sys->spawn(
    [](caf::event_based_actor* self, head_actor h, std::shared_ptr<bool> done) {
      self->request(h, caf::infinite, stop_atom::value).then([done](ok_atom) { *done = true; });
    },
    h, stopped);
  sched->run();
  CHECK(*stopped);
}

namespace {

// A fake head that appends its name to every document's text.
head_actor::behavior_type tagging_head(head_actor::pointer self, std::string name) {
  return {
    [self, name](Request& req) -> Response {
      Response r;
      r.id = req.id;
      r.docs = std::move(req.docs);
      for (auto& d : r.docs)
        d.tags[name] = true;
      r.routes.push_back({name, 0, 0, ""});
      return r;
    },
    [](ping_atom) { return ok_atom::value; },
    [](status_atom) { return Value::object(); },
    [](replicas_atom) { return std::vector<replica_actor>{}; },
    [](stop_atom) { return ok_atom::value; },
    [](scale_atom, uint32_t) { return ok_atom::value; },
    [](respawn_atom, uint32_t, uint32_t, uint64_t) {},
    [](node_atom, const std::string&, bool, const std::string&) {},
    [](seq_atom, uint32_t, uint32_t, uint64_t) {},
    [](progress_atom, uint64_t, uint64_t) {},
  };
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "gateway actor: a diamond of needs joins both branches") {
  std::vector<actors::gateway_deployment> deployments;
  deployments.push_back({"a", sys->spawn(tagging_head, std::string{"a"}), {}});
  deployments.push_back({"b", sys->spawn(tagging_head, std::string{"b"}), {}});
  deployments.push_back({"c", sys->spawn(tagging_head, std::string{"c"}), {0, 1}});
  for (auto& n : deployments)
    cleanup.push_back(caf::actor_cast<caf::actor>(n.head));
  auto gw = sys->spawn(actors::gateway, std::move(deployments), uint32_t{10}, cluster_actor{});
  cleanup.push_back(caf::actor_cast<caf::actor>(gw));
  sched->run();
  auto out = ask(gw, one_doc("x"));
  REQUIRE(out->has_value());
  REQUIRE(**out);
  const auto& resp = **out;
  REQUIRE(resp->docs.size() == 1);
  CHECK(resp->docs[0].tags.contains("a"));
  CHECK(resp->docs[0].tags.contains("b"));
  CHECK(resp->docs[0].tags.contains("c"));
  CHECK(resp->routes.size() == 3);
  CHECK(resp->id == "r-x");
}

namespace {

// The seq queries a stand-in copy holds, as a replica still opening its
// store does (it answers nothing until its executor is built).
struct copy_box {
  std::vector<std::vector<caf::response_promise>> queries;  // per copy
  std::vector<Request> requests;                            // reads it answered
  size_t recovers = 0;
};

// A copy of a replicated shard: holds every seq query until (ok, applied)
// says it opened, then answers them all; answers reads at once.
caf::behavior slow_copy(caf::event_based_actor* self, std::shared_ptr<copy_box> box, size_t which) {
  return {
    [self, box, which](seq_atom) { box->queries[which].push_back(self->make_response_promise()); },
    [box, which](ok_atom, uint64_t applied) {
      for (auto& rp : box->queries[which])
        rp.deliver(applied);  // the ones that timed out are dropped by the head
      box->queries[which].clear();
    },
    [box](Request& req) {
      box->requests.push_back(req);
      Response r;
      r.id = req.id;
      r.shards_answered = 1;
      return r;
    },
    [](ping_atom) { return ok_atom::value; },
    [self, box](recover_atom, caf::actor&, uint64_t) {
      ++box->recovers;
      return self->make_response_promise();  // catching up, for the test's whole length
    },
  };
}

Request search_req() {
  Request r;
  r.id = "q";
  r.endpoint = "/search";
  return r;
}

}  // namespace

TEST_CASE_FIXTURE(fixture,
                  "head actor: a copy slow to open holds its shard's number; no spurious "
                  "failure") {
  // Two copies on two nodes; copy 1 holds the higher number but opens slowly.
  auto cb = std::make_shared<copy_box>();
  cb->queries.resize(2);
  auto r0 = sys->spawn(slow_copy, cb, size_t{0});
  auto r1 = sys->spawn(slow_copy, cb, size_t{1});
  cleanup.push_back(r0);
  cleanup.push_back(r1);
  auto lines = std::make_shared<std::vector<std::string>>();
  actors::head_setup setup;
  setup.log = [lines](std::string line) { lines->push_back(std::move(line)); };
  setup.placed = {
    {{"n1:1", caf::actor_cast<replica_actor>(r0)}, {"n2:1", caf::actor_cast<replica_actor>(r1)}}};
  auto h = sys->spawn(actors::head,
                      DeploymentOptions{.name = "idx", .uses = "Indexer", .replicas = 2},
                      std::move(setup));
  cleanup.push_back(caf::actor_cast<caf::actor>(h));
  sched->run();
  REQUIRE(cb->queries[0].size() == 1);
  REQUIRE(cb->queries[1].size() == 1);
  caf::anon_send(r0, ok_atom::value, uint64_t{5});
  sched->run();
  auto out = ask(h, search_req());
  // Copy 1's query times out: it is asked again, and the shard still waits.
  for (int round = 0; round < 3; ++round) {
    CHECK(sched->trigger_timeouts() > 0);
    sched->run();
    CHECK(cb->queries[1].size() == static_cast<size_t>(round) + 2);
    CHECK_FALSE(out->has_value());
    CHECK(cb->requests.empty());
  }
  // The head answers meanwhile.
  auto st = status(h);
  auto placement = st.find("placement")->as_array();
  REQUIRE(placement.size() == 2);
  CHECK(placement[1].get_string("copy", "") == "out");
  // Opened: it holds write 7, so the shard's number is 7 and it serves.
  caf::anon_send(r1, ok_atom::value, uint64_t{7});
  sched->run();
  REQUIRE(out->has_value());
  CHECK(**out);
  REQUIRE(cb->requests.size() == 1);
  st = status(h);
  CHECK(st.find("writes")->as_array()[0].as_int() == 7);
  placement = st.find("placement")->as_array();
  CHECK(placement[1].get_string("copy", "") == "in_sync");
  CHECK(placement[0].get_string("copy", "") == "recovering");
  CHECK(cb->recovers == 1);
  size_t waiting = 0;
  for (const auto& line : *lines) {
    CHECK(line.find("cannot tell") == std::string::npos);
    CHECK(line.find("ahead of the in-sync copies") == std::string::npos);
    waiting += line.find("waiting for it") != std::string::npos ? 1 : 0;
  }
  CHECK(waiting == 1);  // said once, not at every query
}

TEST_CASE_FIXTURE(fixture,
                  "head actor: a single copy slow to open: requests wait, then are served") {
  auto cb = std::make_shared<copy_box>();
  cb->queries.resize(1);
  actors::head_setup setup;
  std::vector<caf::actor> spawned;
  setup.spawn = [cb, this](caf::local_actor* self, ExecutorContext) {
    auto r = self->spawn(slow_copy, cb, size_t{0});
    box->spawned.push_back(r);
    return caf::actor_cast<replica_actor>(r);
  };
  setup.log = [](std::string) {};
  auto h = sys->spawn(actors::head, DeploymentOptions{.name = "idx", .uses = "Indexer"},
                      std::move(setup));
  cleanup.push_back(caf::actor_cast<caf::actor>(h));
  sched->run();
  REQUIRE(box->spawned.size() == 1);
  auto out = ask(h, search_req());
  CHECK(sched->trigger_timeouts() > 0);
  sched->run();
  CHECK_FALSE(out->has_value());
  CHECK(cb->queries[0].size() == 2);
  CHECK(box->spawned.size() == 1);  // not restarted
  caf::anon_send(box->spawned[0], ok_atom::value, uint64_t{3});
  sched->run();
  REQUIRE(out->has_value());
  CHECK(**out);
  CHECK(status(h).find("writes")->as_array()[0].as_int() == 3);
}
