// The head's state machine, transition by transition, including the
// orderings that break naive code (reply after down, down after reply,
// duplicate replies, node loss during a scale, ...). No actors.
#include <doctest/doctest.h>

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "replica_set_effects.hpp"
#include "runtime/replica_set.hpp"

using namespace caflow;
using namespace caflow::detail;
namespace fx = caflow::detail::effect;
using namespace caflow::testing;

namespace {

ReplicaSetOptions opts(uint32_t shards, uint32_t replicas, bool stateful = false) {
  ReplicaSetOptions o;
  o.name = "dep";
  o.shards = shards;
  o.replicas = replicas;
  o.retries = 1;
  o.stateful = stateful;
  o.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
  o.clock = [] { return int64_t{42}; };
  return o;
}

// Starts `set` and answers every placement with `node`.
void start_all(ReplicaSet& set, const std::vector<std::vector<std::string>>& nodes = {}) {
  for (auto& p : all_of<fx::PlaceSlot>(set.start(nodes)))
    (void)set.on_placed(p.slot, p.node.empty() ? "local" : p.node);
}

SlotId id_of(const ReplicaSet& set, uint32_t k, uint32_t i) {
  return {k, i, set.slot(k, i).gen};
}

caf::error gone() {
  return caf::sec::request_receiver_down;
}

}  // namespace

TEST_CASE("replica set: start places every slot; placed slots are live") {
  ReplicaSet set{opts(2, 2)};
  auto places = all_of<fx::PlaceSlot>(set.start({{"local", "10.0.0.1:1"}, {}}));
  REQUIRE(places.size() == 4);
  CHECK(places[1].node == "10.0.0.1:1");
  CHECK(places[2].node == "local");
  CHECK(set.slot(0, 0).state == SlotState::placing);
  CHECK(set.alive() == 0);
  for (auto& p : places)
    CHECK(set.on_placed(p.slot, p.node).empty());
  CHECK(set.alive() == 4);
  CHECK(set.slot(0, 1).node == "10.0.0.1:1");
}

TEST_CASE("replica set: ANY request goes to the least busy replica and is delivered once") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto b = one<fx::SendCall>(set.on_request(2, req("/x", {"b"})));
  CHECK(a.to.index != b.to.index);
  CHECK(set.slot(0, a.to.index).in_flight == 1);
  auto d = one<fx::Deliver>(set.on_reply(a.call, echo(a)));
  CHECK(d.op == 1);
  REQUIRE(d.result);
  CHECK(d.result->routes.size() == 1);
  CHECK(set.slot(0, a.to.index).in_flight == 0);
  // A duplicate reply (or a late one) for a settled call is ignored.
  CHECK(set.on_reply(a.call, echo(a)).empty());
  CHECK(set.on_error(a.call, gone()).empty());
  CHECK(set.counters().succeeded == 1);
}

TEST_CASE("replica set: no live replica fails the request naming the shard") {
  ReplicaSet set{opts(1, 1)};
  (void)set.start();
  auto d = one<fx::Deliver>(set.on_request(1, req("/x", {"a"})));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::unavailable));
  CHECK(error_message(d.result.error()).find("dep/shard-0") != std::string::npos);
}

TEST_CASE("replica set: a call whose replica went away is retried on another, once") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto retry = one<fx::SendCall>(set.on_error(a.call, gone()));
  CHECK(retry.to.index != a.to.index);
  CHECK(set.counters().retries == 1);
  // Budget exhausted: the next failure fails the request.
  auto d = one<fx::Deliver>(set.on_error(retry.call, gone()));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::unavailable));
  CHECK(set.calls_in_flight() == 0);
  CHECK(set.ops_pending() == 0);
}

TEST_CASE("replica set: an executor's own error is not retried") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto d = one<fx::Deliver>(
    set.on_error(a.call, make_error(errc::executor_failed, "dep/shard-0/replica-0: boom")));
  REQUIRE_FALSE(d.result);
  CHECK(error_message(d.result.error()) == "dep/shard-0/replica-0: boom");
  CHECK(set.counters().retries == 0);
}

TEST_CASE("replica set: a timeout names the shard and the deployment's timeout") {
  auto o = opts(1, 1);
  o.timeout_ms = 100;
  ReplicaSet set{o};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto d = one<fx::Deliver>(set.on_error(a.call, caf::sec::request_timeout));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::timeout));
  CHECK(error_message(d.result.error()) == "dep/shard-0: timed out after 100 ms");
}

TEST_CASE("replica set: down before the reply: the call is retried, the late reply ignored") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto effects = set.on_down(a.to, caf::exit_reason::kill);
  // The local replica is restarted and the call goes to the other one.
  auto place = one<fx::PlaceSlot>(effects);
  CHECK(place.node == "local");
  CHECK(place.slot.index == a.to.index);
  CHECK(place.slot.gen != a.to.gen);
  auto retry = one<fx::SendCall>(effects);
  CHECK(retry.to.index != a.to.index);
  CHECK(set.counters().restarts == 1);
  // The first replica's reply comes after all (e.g. it was queued).
  CHECK(set.on_reply(a.call, echo(a)).empty());
  auto d = one<fx::Deliver>(set.on_reply(retry.call, echo(retry)));
  CHECK(d.result);
  CHECK(set.ops_pending() == 0);
}

TEST_CASE("replica set: down after the reply: delivered once, replica restarted") {
  ReplicaSet set{opts(1, 1)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  CHECK(one<fx::Deliver>(set.on_reply(a.call, echo(a))).result);
  auto effects = set.on_down(a.to, caf::exit_reason::kill);
  CHECK(all_of<fx::Deliver>(effects).empty());
  CHECK(one<fx::PlaceSlot>(effects).node == "local");
  // A second down for the same (old) replica changes nothing.
  CHECK(set.on_down(a.to, caf::exit_reason::kill).empty());
}

TEST_CASE("replica set: ALL fans out, reduces and cuts to the default top_k") {
  auto o = opts(2, 1);
  o.default_params = Params{{"top_k", 1}};
  ReplicaSet set{o};
  start_all(set);
  CHECK(set.top_k_for(Params::object()) == 1u);
  CHECK(set.top_k_for(Params{{"top_k", nullptr}}) == 1u);
  CHECK(set.top_k_for(Params{{"top_k", 3}}) == 3u);
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/search", {"q"})));
  REQUIRE(calls.size() == 2);
  Effects last;
  for (size_t k = 0; k < 2; ++k) {
    auto r = echo(calls[k]);
    Document m;
    m.id = "m" + std::to_string(k);
    m.scores["cosine"] = 0.5 + static_cast<double>(k);
    r.docs[0].matches.push_back(m);
    last = set.on_reply(calls[k].call, std::move(r));
  }
  auto d = one<fx::Deliver>(last);
  REQUIRE(d.result);
  REQUIRE(d.result->docs.size() == 1);
  REQUIRE(d.result->docs[0].matches.size() == 1);
  CHECK(d.result->docs[0].matches[0].id == "m1");
  CHECK(d.result->shards_answered == 2);
}

TEST_CASE("replica set: ALL with one shard failing returns the other's part; all failing fails") {
  ReplicaSet set{opts(2, 1)};
  start_all(set);
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/search", {"q"})));
  REQUIRE(calls.size() == 2);
  CHECK(set.on_error(calls[0].call, make_error(errc::executor_failed, "s0 broke")).empty());
  auto d = one<fx::Deliver>(set.on_reply(calls[1].call, echo(calls[1])));
  REQUIRE(d.result);
  CHECK(d.result->shards_failed == 1);
  CHECK(d.result->failures == std::vector<std::string>{"executor_failed: s0 broke"});

  auto again = all_of<fx::SendCall>(set.on_request(2, req("/search", {"q"})));
  CHECK(set.on_error(again[0].call, make_error(errc::executor_failed, "a")).empty());
  auto f = one<fx::Deliver>(set.on_error(again[1].call, make_error(errc::executor_failed, "b")));
  REQUIRE_FALSE(f.result);
  CHECK(is(f.result.error(), errc::all_shards_failed));
}

TEST_CASE("replica set: PARTITION sends each shard its part; a failed part fails the write") {
  ReplicaSet set{opts(2, 1)};
  start_all(set);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back("d" + std::to_string(i));
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/index", ids)));
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].req.docs.size() + calls[1].req.docs.size() == 10);
  Effects last;
  for (auto& c : calls)
    last = set.on_reply(c.call, echo(c));
  auto d = one<fx::Deliver>(last);
  REQUIRE(d.result);
  REQUIRE(d.result->docs.size() == 10);
  for (size_t i = 0; i < 10; ++i)
    CHECK(d.result->docs[i].id == ids[i]);

  auto again = all_of<fx::SendCall>(set.on_request(2, req("/index", ids)));
  CHECK(set.on_reply(again[0].call, echo(again[0])).empty());
  auto f = one<fx::Deliver>(set.on_error(again[1].call, make_error(errc::storage_error, "x")));
  REQUIRE_FALSE(f.result);
  CHECK(error_message(f.result.error()).find("1 shard(s) failed") != std::string::npos);
  CHECK(is(f.result.error(), errc::unavailable));

  // A shard that rejects its documents as bad input: the client's error.
  auto bad = all_of<fx::SendCall>(set.on_request(3, req("/index", ids)));
  CHECK(set.on_reply(bad[0].call, echo(bad[0])).empty());
  auto r = one<fx::Deliver>(
    set.on_error(bad[1].call, make_error(errc::dimension_mismatch, "dim 3, index has 16")));
  REQUIRE_FALSE(r.result);
  CHECK(is(r.result.error(), errc::dimension_mismatch));  // the shard's own code: a 400
}

TEST_CASE("replica set: PARTITION with no documents answers at once") {
  ReplicaSet set{opts(3, 1)};
  start_all(set);
  auto effects = set.on_request(1, req("/index", {}));
  CHECK(all_of<fx::SendCall>(effects).empty());
  CHECK(one<fx::Deliver>(effects).result);
}

TEST_CASE("replica set: drain while calls are in flight stops the replica after its last call") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto b = one<fx::SendCall>(set.on_request(2, req("/x", {"b"})));
  auto scaled = set.on_scale(7, 1);
  CHECK(one<fx::ScaleDone>(scaled).scale == 7);
  CHECK(all_of<fx::StopSlot>(scaled).empty());  // replica 1 still holds a call
  CHECK(set.slot(0, 1).state == SlotState::draining);
  // New requests avoid the draining replica.
  auto c = one<fx::SendCall>(set.on_request(3, req("/x", {"c"})));
  CHECK(c.to.index == 0);
  auto done = set.on_reply(b.call, echo(b));
  auto stop = one<fx::StopSlot>(done);
  CHECK(stop.slot.index == 1);
  CHECK(set.slot(0, 1).state == SlotState::stopping);
  CHECK(set.on_down(stop.slot, caf::exit_reason::user_shutdown).empty());
  CHECK(set.slot(0, 1).state == SlotState::retired);
  CHECK(set.alive() == 1);
  (void)a;
}

TEST_CASE("replica set: scale up reuses retired slots and answers when placed") {
  ReplicaSet set{opts(1, 2)};
  start_all(set);
  auto down = set.on_scale(1, 1);
  auto stop = one<fx::StopSlot>(down);
  (void)set.on_down(stop.slot, caf::exit_reason::user_shutdown);
  auto up = set.on_scale(2, 3);
  auto places = all_of<fx::PlaceSlot>(up);
  REQUIRE(places.size() == 2);
  CHECK(places[0].slot.index == 1);  // reused
  CHECK(places[1].slot.index == 2);  // appended
  CHECK(places[0].node.empty());     // stateless: wherever there is room
  CHECK(all_of<fx::ScaleDone>(up).empty());
  CHECK(all_of<fx::ScaleDone>(set.on_placed(places[0].slot, "n1")).empty());
  auto done = one<fx::ScaleDone>(set.on_place_failed(places[1].slot, "no room"));
  CHECK(done.scale == 2);
  REQUIRE(done.error);
  CHECK(error_message(done.error).find("dep/shard-0/replica-2: no room") != std::string::npos);
  CHECK(set.slot(0, 2).state == SlotState::lost);
}

TEST_CASE("replica set: a stateful shard scales onto its own node") {
  ReplicaSet set{opts(1, 1, true)};
  start_all(set, {{"n1:1"}});
  auto places = all_of<fx::PlaceSlot>(set.on_scale(1, 2));
  REQUIRE(places.size() == 1);
  CHECK(places[0].node == "n1:1");
}

TEST_CASE("replica set: a placement that fails half-way answers the scale with the failure") {
  ReplicaSet set{opts(2, 1)};
  start_all(set);
  auto places = all_of<fx::PlaceSlot>(set.on_scale(3, 3));
  REQUIRE(places.size() == 4);
  CHECK(all_of<fx::ScaleDone>(set.on_placed(places[0].slot, "n1")).empty());
  CHECK(all_of<fx::ScaleDone>(set.on_place_failed(places[1].slot, "refused")).empty());
  auto retry = one<fx::RetryLater>(set.on_place_failed(places[2].slot, "refused"));
  auto done = one<fx::ScaleDone>(set.on_placed(places[3].slot, "n2"));
  REQUIRE(done.error);
  // The failed slot is tried again later, elsewhere.
  auto again = one<fx::PlaceSlot>(set.on_timer(retry.slot));
  CHECK(again.node.empty());
  CHECK(set.alive() == 4);
}

TEST_CASE("replica set: scale down while a slot is being placed cancels it") {
  ReplicaSet set{opts(1, 1)};
  start_all(set);
  auto place = one<fx::PlaceSlot>(set.on_scale(1, 2));
  (void)set.on_scale(2, 1);
  CHECK(set.slot(0, 1).state == SlotState::retired);
  // The replica arrives after all: it is stopped.
  auto late = set.on_placed(place.slot, "n1");
  CHECK(one<fx::StopSlot>(late).slot == place.slot);
  CHECK(set.alive() == 1);
}

TEST_CASE("replica set: a remote node lost: stateless re-placed elsewhere, stateful waits") {
  ReplicaSet stateless{opts(1, 2)};
  start_all(stateless, {{"n1:1", "n2:1"}});
  auto effects = stateless.on_down(id_of(stateless, 0, 0),
                                   caf::exit_reason::remote_link_unreachable);
  auto place = one<fx::PlaceSlot>(effects);
  CHECK(place.node.empty());
  CHECK(place.exclude == "n1:1");

  ReplicaSet stateful{opts(1, 1, true)};
  start_all(stateful, {{"n1:1"}});
  auto a = one<fx::SendCall>(stateful.on_request(1, req("/x", {"a"})));
  auto lost = stateful.on_down(a.to, caf::exit_reason::remote_link_unreachable);
  auto retry = one<fx::RetryLater>(lost);
  auto d = one<fx::Deliver>(lost);
  REQUIRE_FALSE(d.result);
  CHECK(error_message(d.result.error()) == "dep/shard-0: unavailable: node n1:1 lost");
  CHECK(stateful.slot(0, 0).lost == "node n1:1 lost");
  // Requests meanwhile fail fast, naming the node.
  auto f = one<fx::Deliver>(stateful.on_request(2, req("/x", {"b"})));
  CHECK(error_message(f.result.error()).find("node n1:1 lost") != std::string::npos);
  auto again = one<fx::PlaceSlot>(stateful.on_timer(retry.slot));
  CHECK(again.node == "n1:1");
  CHECK(stateful.on_placed(again.slot, "n1:1").empty());
  CHECK(stateful.alive() == 1);
}

TEST_CASE("replica set: a hung node: calls retried elsewhere, stateful replica back after") {
  ReplicaSet set{opts(2, 1, true)};
  start_all(set, {{"n1:1"}, {"n2:1"}});
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/search", {"q"})));
  REQUIRE(calls.size() == 2);
  auto lost = set.on_node_lost("n2:1", "node n2:1 unresponsive");
  CHECK(all_of<fx::PlaceSlot>(lost).empty());  // its data is there: wait
  CHECK(all_of<fx::Log>(lost).size() == 1);
  CHECK(set.slot(1, 0).state == SlotState::lost);
  CHECK(set.slot(1, 0).suspect);
  // The search degrades: shard 0's answer with one failed shard.
  auto d = one<fx::Deliver>(set.on_reply(calls[0].call, echo(calls[0])));
  REQUIRE(d.result);
  CHECK(d.result->shards_failed == 1);
  // The hung replica answers when the node resumes: ignored.
  CHECK(set.on_reply(calls[1].call, echo(calls[1])).empty());
  CHECK(set.on_timer(id_of(set, 1, 0)).empty());  // no re-placement while suspect
  (void)set.on_node_back("n2:1");
  CHECK(set.slot(1, 0).state == SlotState::live);
  CHECK(all_of<fx::SendCall>(set.on_request(2, req("/search", {"q"}))).size() == 2);
}

TEST_CASE("replica set: a hung node's stateless replicas are stopped and re-placed") {
  ReplicaSet set{opts(1, 2)};
  start_all(set, {{"n1:1", "n2:1"}});
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto on = a.to.index == 0 ? std::string{"n1:1"} : std::string{"n2:1"};
  auto effects = set.on_node_lost(on, "node " + on + " unresponsive");
  CHECK(one<fx::StopSlot>(effects).slot == a.to);
  auto place = one<fx::PlaceSlot>(effects);
  CHECK(place.exclude == on);
  auto retry = one<fx::SendCall>(effects);
  CHECK(retry.to.index != a.to.index);
  // The old replica's down arrives much later: nothing happens.
  (void)set.on_placed(place.slot, "n3:1");
  CHECK(set.on_down(a.to, caf::exit_reason::user_shutdown).empty());
  CHECK(set.on_node_back(on).empty());
  CHECK(set.alive() == 2);
}

TEST_CASE("replica set: a hung node whose connection then breaks is tried again") {
  ReplicaSet set{opts(1, 1, true)};
  start_all(set, {{"n1:1"}});
  auto id = id_of(set, 0, 0);
  (void)set.on_node_lost("n1:1", "node n1:1 unresponsive");
  auto retry = one<fx::RetryLater>(set.on_down(id, caf::exit_reason::remote_link_unreachable));
  CHECK(one<fx::PlaceSlot>(set.on_timer(retry.slot)).node == "n1:1");
}

TEST_CASE("replica set: a scale during a node loss") {
  ReplicaSet set{opts(1, 2)};
  start_all(set, {{"n1:1", "n2:1"}});
  auto lost = set.on_down(id_of(set, 0, 1), caf::exit_reason::remote_link_unreachable);
  auto replace = one<fx::PlaceSlot>(lost);
  // Scale to 1 while the lost slot is being re-placed: it is the newest, it goes.
  auto scaled = set.on_scale(1, 1);
  CHECK(one<fx::ScaleDone>(scaled).scale == 1);
  CHECK(set.slot(0, 1).state == SlotState::retired);
  CHECK(one<fx::StopSlot>(set.on_placed(replace.slot, "n3:1")).slot == replace.slot);
  CHECK(set.alive() == 1);
}

TEST_CASE("replica set: stop waits for every replica but those on hung nodes") {
  auto o = opts(2, 1, true);
  o.polling = Polling{"ANY"};
  ReplicaSet set{o};
  start_all(set, {{"n1:1"}, {"n2:1"}});
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  REQUIRE(a.to.shard == 0);
  (void)set.on_node_lost("n2:1", "node n2:1 unresponsive");
  auto stop = set.on_stop();
  CHECK(all_of<fx::StopSlot>(stop).size() == 2);
  CHECK(all_of<fx::StopDone>(stop).empty());
  // No retry while stopping: the call on the stopped replica fails.
  auto d = one<fx::Deliver>(set.on_error(a.call, caf::exit_reason::user_shutdown));
  CHECK_FALSE(d.result);
  CHECK(all_of<fx::StopDone>(set.on_down(a.to, caf::exit_reason::user_shutdown)).size() == 1);
  // Scaling a stopping set is refused.
  auto scaled = one<fx::ScaleDone>(set.on_scale(2, 3));
  CHECK(is(scaled.error, errc::unavailable));
}

TEST_CASE("replica set: stop with nothing running is done at once; zero replicas refused") {
  ReplicaSet set{opts(1, 1)};
  (void)set.start();  // still placing
  CHECK(is(one<fx::ScaleDone>(set.on_scale(1, 0)).error, errc::invalid_argument));
  auto stop = set.on_stop();
  CHECK(all_of<fx::StopDone>(stop).size() == 1);
  CHECK(set.on_stop().empty());
}

TEST_CASE("replica set: ANY over several shards picks across all of them") {
  auto o = opts(2, 1);
  o.polling = Polling{"ANY"};
  ReplicaSet set{o};
  start_all(set);
  auto a = one<fx::SendCall>(set.on_request(1, req("/x", {"a"})));
  auto b = one<fx::SendCall>(set.on_request(2, req("/x", {"b"})));
  CHECK(a.to.shard != b.to.shard);
}
