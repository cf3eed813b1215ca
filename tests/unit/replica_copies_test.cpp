// Copies of replicated shards in the head's state machine: establishing a
// shard's write number, numbered writes to every in-sync copy, leaving the
// in-sync set before an acknowledgement, catch-up and promotion, and the
// orderings of replies, errors and down messages around them. No actors.
#include <doctest/doctest.h>

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "replica_set_effects.hpp"
#include "runtime/op_record.hpp"
#include "runtime/replica_set.hpp"

using namespace caflow;
using namespace caflow::detail;
namespace fx = caflow::detail::effect;
using namespace caflow::testing;

namespace {

const std::string node_a = "10.0.0.1:1";
const std::string node_b = "10.0.0.2:1";
const std::string node_c = "10.0.0.3:1";

ReplicaSetOptions opts(uint32_t shards, uint32_t copies, uint32_t write_consistency = 0) {
  ReplicaSetOptions o;
  o.name = "idx";
  o.shards = shards;
  o.replicas = copies;
  o.stateful = true;
  o.replicated = true;
  o.reads = {"/search", "/count"};
  o.write_consistency = write_consistency;
  o.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
  o.clock = [] { return int64_t{42}; };
  return o;
}

// "d0" .. "d<n-1>".
std::vector<std::string> numbered_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back("d" + std::to_string(i));
  return ids;
}

SlotId id_of(const ReplicaSet& set, uint32_t k, uint32_t i) {
  return {k, i, set.slot(k, i).gen};
}

// Places one shard's copies on `nodes`, and answers their seq queries with
// `applied` (same order). Returns the effects of the last answer.
Effects start_copies(ReplicaSet& set, const std::vector<std::string>& nodes,
                     const std::vector<uint64_t>& applied) {
  std::vector<std::vector<std::string>> where(set.shard_count(), nodes);
  std::vector<SlotId> queried;
  for (auto& p : all_of<fx::PlaceSlot>(set.start(where)))
    for (auto& q : all_of<fx::QuerySeq>(set.on_placed(p.slot, p.node)))
      queried.push_back(q.slot);
  REQUIRE(queried.size() == nodes.size() * set.shard_count());
  Effects last;
  for (size_t i = 0; i < queried.size(); ++i)
    last = set.on_seq(queried[i], applied[i % applied.size()]);
  return last;
}

}  // namespace

TEST_CASE("copies: requests wait until every copy told its number; the highest is in sync") {
  ReplicaSet set{opts(1, 3)};
  std::vector<std::vector<std::string>> where{{node_a, node_b, node_c}};
  std::vector<SlotId> queried;
  for (auto& p : all_of<fx::PlaceSlot>(set.start(where)))
    queried.push_back(one<fx::QuerySeq>(set.on_placed(p.slot, p.node)).slot);
  REQUIRE(queried.size() == 3);
  CHECK_FALSE(set.established(0));
  // A request before the shard's number is known waits.
  CHECK(set.on_request(1, req("/search", {"q"})).empty());
  CHECK(set.on_seq(queried[0], 7).empty());
  CHECK(set.on_seq(queried[1], 4).empty());
  auto fx3 = set.on_seq(queried[2], 7);
  CHECK(set.established(0));
  CHECK(set.shard_seq(0) == 7);
  CHECK(set.slot(0, 0).copy == CopyState::in_sync);
  CHECK(set.slot(0, 2).copy == CopyState::in_sync);
  CHECK(set.slot(0, 1).copy == CopyState::recovering);
  auto rec = one<fx::Recover>(fx3);
  CHECK(rec.target == queried[1]);
  CHECK(rec.upto == 7);
  CHECK(rec.source.index != 1);
  // The held read is released to an in-sync copy.
  auto read = one<fx::SendCall>(fx3);
  CHECK(read.seq == 0);
  CHECK(read.to.index != 1);
}

TEST_CASE("copies: a write is numbered and acknowledged once every in-sync copy applied it") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {3, 3});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].seq == 4);
  CHECK(sends[1].seq == 4);
  CHECK(set.on_reply(sends[0].call, echo(sends[0])).empty());
  auto d = one<fx::Deliver>(set.on_reply(sends[1].call, echo(sends[1])));
  REQUIRE(d.result);
  CHECK(set.slot(0, 0).applied == 4);
  CHECK(set.slot(0, 1).applied == 4);
  // Reads go to one copy.
  CHECK(all_of<fx::SendCall>(set.on_request(2, req("/search", {"q"}))).size() == 1);
}

TEST_CASE("copies: write_consistency 1 acknowledges after the first copy") {
  ReplicaSet set{opts(1, 2, 1)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  auto d = one<fx::Deliver>(set.on_reply(sends[1].call, echo(sends[1])));
  CHECK(d.result);
  // The other copy failing later leaves the in-sync set all the same.
  auto late = set.on_error(sends[0].call, make_error(errc::storage_error, "disk full"));
  CHECK(all_of<fx::Deliver>(late).empty());
  CHECK(set.slot(0, 0).copy == CopyState::out);
  CHECK(logs(late, "left the in-sync set"));
}

TEST_CASE("copies: a copy that fails a write leaves the in-sync set before the acknowledgement") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  auto failed = set.on_error(sends[0].call, make_error(errc::storage_error, "disk full"));
  CHECK(all_of<fx::Deliver>(failed).empty());  // still waiting for the other
  CHECK(set.slot(0, 0).copy == CopyState::out);
  CHECK(one<fx::QuerySeq>(failed).delay.count() > 0);  // asked again later
  auto d = one<fx::Deliver>(set.on_reply(sends[1].call, echo(sends[1])));
  CHECK(d.result);
  // Reads now avoid the copy that is out.
  for (uint64_t op = 10; op < 14; ++op)
    CHECK(one<fx::SendCall>(set.on_request(op, req("/search", {"q"}))).to.index == 1);
  // The next write goes to the in-sync copy only.
  CHECK(all_of<fx::SendCall>(set.on_request(20, req("/index", {"b"}))).size() == 1);
}

TEST_CASE("copies: a reply after the down message is ignored; the write is acknowledged") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  CHECK(set.on_reply(sends[1].call, echo(sends[1])).empty());
  // Copy 0's node goes: the write no longer waits for it.
  auto down = set.on_down(sends[0].to, caf::exit_reason::remote_link_unreachable);
  auto d = one<fx::Deliver>(down);
  CHECK(d.result);
  CHECK(set.slot(0, 0).copy == CopyState::out);
  CHECK(set.on_reply(sends[0].call, echo(sends[0])).empty());
}

TEST_CASE("copies: a down message after the reply changes nothing acknowledged") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  CHECK(set.on_reply(sends[0].call, echo(sends[0])).empty());
  CHECK(one<fx::Deliver>(set.on_reply(sends[1].call, echo(sends[1]))).result);
  auto down = set.on_down(sends[0].to, caf::exit_reason::remote_link_unreachable);
  CHECK(all_of<fx::Deliver>(down).empty());
  CHECK(set.counters().succeeded == 1);
}

TEST_CASE("copies: when the last in-sync copy fails the write, it fails naming the shard") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  (void)set.on_node_lost(node_a, "node " + node_a + " unresponsive");
  auto d = one<fx::Deliver>(set.on_error(sends[1].call, make_error(errc::storage_error, "bad")));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::unavailable));
  CHECK(error_message(d.result.error()).find("idx/shard-0: unavailable: no in-sync copy")
        != std::string::npos);
  // Neither reads nor writes find a copy now.
  auto r = one<fx::Deliver>(set.on_request(2, req("/search", {"q"})));
  CHECK_FALSE(r.result);
  auto w = one<fx::Deliver>(set.on_request(3, req("/index", {"b"})));
  REQUIRE_FALSE(w.result);
  CHECK(error_message(w.result.error()).find("no in-sync copy") != std::string::npos);
}

TEST_CASE("copies: an input error every copy answers keeps them in sync and is the answer") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  auto bad = make_error(errc::dimension_mismatch, "idx/shard-0: embedding has dimension 3");
  CHECK(set.on_error(sends[0].call, bad).empty());
  auto d = one<fx::Deliver>(set.on_error(sends[1].call, bad));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::dimension_mismatch));
  CHECK(set.slot(0, 0).copy == CopyState::in_sync);
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  CHECK(set.slot(0, 0).applied == 1);  // recorded as applied by both
}

TEST_CASE("copies: a returning copy catches up, gets new writes meanwhile, then serves reads") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  // Copy 1's node goes; two writes go to copy 0 alone.
  (void)set.on_down(id_of(set, 0, 1), caf::exit_reason::remote_link_unreachable);
  for (uint64_t op = 1; op <= 2; ++op) {
    auto s = one<fx::SendCall>(set.on_request(op, req("/index", {"a"})));
    CHECK(one<fx::Deliver>(set.on_reply(s.call, echo(s))).result);
  }
  // It is placed again on its node and says it is at 0.
  auto place = one<fx::PlaceSlot>(set.on_timer(id_of(set, 0, 1)));
  CHECK(place.node == node_b);
  auto q = one<fx::QuerySeq>(set.on_placed(place.slot, node_b));
  auto rec = one<fx::Recover>(set.on_seq(q.slot, 0));
  CHECK(rec.upto == 2);
  CHECK(rec.source == id_of(set, 0, 0));
  CHECK(set.slot(0, 1).copy == CopyState::recovering);
  // A write meanwhile goes to both; only the in-sync copy is waited for.
  auto sends = all_of<fx::SendCall>(set.on_request(3, req("/index", {"b"})));
  REQUIRE(sends.size() == 2);
  auto to_old = sends[0].to.index == 0 ? sends[0] : sends[1];
  auto to_new = sends[0].to.index == 0 ? sends[1] : sends[0];
  CHECK(one<fx::Deliver>(set.on_reply(to_old.call, echo(to_old))).result);
  // Reads still go to copy 0 only.
  CHECK(one<fx::SendCall>(set.on_request(4, req("/search", {"q"}))).to.index == 0);
  // Caught up to 2, but write 3 was acknowledged and it has not answered it.
  auto caught = set.on_recovered(rec.target, rec.recovery, 2);
  CHECK(set.slot(0, 1).copy == CopyState::recovering);
  CHECK_FALSE(logs(caught, "in sync"));
  auto done = set.on_reply(to_new.call, echo(to_new));
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  CHECK(logs(done, "caught up"));
}

TEST_CASE("copies: a promoted copy counts for the writes still in flight to it") {
  ReplicaSet set{opts(1, 2)};
  auto rec = one<fx::Recover>(start_copies(set, {node_a, node_b}, {5, 3}));
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].seq == 6);
  // Caught up to 5 with write 6 not acknowledged yet: in sync now, and
  // write 6 waits for it as well.
  (void)set.on_recovered(rec.target, rec.recovery, 5);
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  auto to_old = sends[0].to.index == 0 ? sends[0] : sends[1];
  auto to_new = sends[0].to.index == 0 ? sends[1] : sends[0];
  CHECK(all_of<fx::Deliver>(set.on_reply(to_old.call, echo(to_old))).empty());
  CHECK(one<fx::Deliver>(set.on_reply(to_new.call, echo(to_new))).result);
}

TEST_CASE("copies: a failed catch-up puts the copy out and asks again later") {
  ReplicaSet set{opts(1, 2)};
  auto last = start_copies(set, {node_a, node_b}, {5, 3});
  auto rec = one<fx::Recover>(last);
  auto failed = set.on_recover_failed(rec.target, rec.recovery, make_error(errc::unavailable, "x"));
  CHECK(set.slot(0, 1).copy == CopyState::out);
  CHECK(one<fx::QuerySeq>(failed).delay.count() > 0);
  // A stale answer of that catch-up is ignored.
  CHECK(set.on_recovered(rec.target, rec.recovery, 5).empty());
  CHECK(set.slot(0, 1).copy == CopyState::out);
  // Asked again: it starts a new catch-up.
  auto again = one<fx::Recover>(set.on_seq(rec.target, 3));
  CHECK(again.recovery != rec.recovery);
}

TEST_CASE("copies: a copy ahead of the in-sync set is kept out, with a warning") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {5, 5});
  (void)set.on_node_lost(node_b, "node b unresponsive");
  auto back = set.on_node_back(node_b);
  auto q = one<fx::QuerySeq>(back);
  auto warned = set.on_seq(q.slot, 9);
  CHECK(logs(warned, "ahead of the in-sync copies"));
  CHECK(set.slot(0, 1).copy == CopyState::out);
}

TEST_CASE("copies: a hung node's copy that missed nothing is in sync again at once") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {5, 5});
  (void)set.on_node_lost(node_b, "node b unresponsive");
  CHECK(set.slot(0, 1).copy == CopyState::out);
  auto q = one<fx::QuerySeq>(set.on_node_back(node_b));
  auto fx = set.on_seq(q.slot, 5);
  CHECK(all_of<fx::Recover>(fx).empty());
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
}

TEST_CASE("copies: slots of one shard on one node share a store: one write, both in sync") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {"local", "local"}, {2, 2});
  CHECK(set.slot(0, 0).copy == CopyState::in_sync);
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 1);
  CHECK(one<fx::Deliver>(set.on_reply(sends[0].call, echo(sends[0]))).result);
}

TEST_CASE("copies: PARTITION writes are numbered per shard") {
  ReplicaSet set{opts(2, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto ids = numbered_ids(20);
  // One copy of each shard checks its part first; nothing is numbered yet.
  auto checks = all_of<fx::SendCall>(set.on_request(1, req("/index", ids)));
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].seq == 0);
  CHECK(checks[0].req.endpoint == "/_caflow_check_write/index");
  CHECK(set.shard_seq(0) == 0);
  CHECK(set.on_reply(checks[0].call, Response{}).empty());
  auto sends = all_of<fx::SendCall>(set.on_reply(checks[1].call, Response{}));
  REQUIRE(sends.size() == 4);
  for (const auto& s : sends)
    CHECK(s.seq == 1);
  Effects last;
  for (const auto& s : sends)
    last = set.on_reply(s.call, echo(s));
  auto d = one<fx::Deliver>(last);
  REQUIRE(d.result);
  CHECK(d.result->docs.size() == 20);
  CHECK(set.shard_seq(0) == 1);
  CHECK(set.shard_seq(1) == 1);
}

TEST_CASE("copies: scaling up places the new copy away from the nodes that hold one") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {4, 4});
  auto scaled = set.on_scale(7, 3);
  auto place = one<fx::PlaceSlot>(scaled);
  CHECK(place.node.empty());
  CHECK(place.exclude == node_a + "," + node_b);
  // The new copy catches up before it serves reads.
  CHECK(one<fx::ScaleDone>(set.on_placed(place.slot, node_c)).scale == 7);
  auto rec = one<fx::Recover>(set.on_seq(place.slot, 0));
  CHECK(rec.upto == 4);
  for (uint64_t op = 1; op <= 6; ++op) {
    auto s = one<fx::SendCall>(set.on_request(op, req("/search", {"q"})));
    CHECK(s.to.index != 2);
  }
  (void)set.on_recovered(rec.target, rec.recovery, 4);
  CHECK(set.slot(0, 2).copy == CopyState::in_sync);
}

TEST_CASE("copies: a copy lost while the shard is being established does not hold it up") {
  ReplicaSet set{opts(1, 2)};
  std::vector<std::vector<std::string>> where{{node_a, node_b}};
  std::vector<SlotId> queried;
  for (auto& p : all_of<fx::PlaceSlot>(set.start(where)))
    queried.push_back(one<fx::QuerySeq>(set.on_placed(p.slot, p.node)).slot);
  CHECK(set.on_request(1, req("/index", {"a"})).empty());
  CHECK(set.on_seq(queried[0], 3).empty());
  auto lost = set.on_down(queried[1], caf::exit_reason::remote_link_unreachable);
  CHECK(set.established(0));
  auto w = one<fx::SendCall>(lost);
  CHECK(w.seq == 4);
}

TEST_CASE("copies: a copy that does not answer in time is waited for; one that errs is not") {
  ReplicaSet set{opts(1, 3)};
  std::vector<std::vector<std::string>> where{{node_a, node_b, node_c}};
  std::vector<SlotId> queried;
  for (auto& p : all_of<fx::PlaceSlot>(set.start(where)))
    queried.push_back(one<fx::QuerySeq>(set.on_placed(p.slot, p.node)).slot);
  CHECK(set.on_request(1, req("/index", {"a"})).empty());
  CHECK(set.on_seq(queried[0], 3).empty());
  // Copy 1 is still opening its store: asked again at once, the shard waits.
  auto slow = set.on_seq_failed(queried[1], caf::sec::request_timeout);
  auto again = one<fx::QuerySeq>(slow);
  CHECK(again.slot == queried[1]);
  CHECK(again.delay.count() == 0);
  CHECK(all_of<fx::Log>(slow).size() == 1);
  CHECK(all_of<fx::Log>(set.on_seq_failed(queried[1], caf::sec::request_timeout)).empty());
  // Copy 2 answers an error (its executor failed to start): not waited for.
  auto failed = set.on_seq_failed(queried[2], make_error(errc::executor_start_failed, "boom"));
  CHECK(one<fx::QuerySeq>(failed).delay.count() > 0);
  CHECK_FALSE(set.established(0));
  CHECK(all_of<fx::SendCall>(failed).empty());
  // Copy 1 opens with the highest number: the shard's, and it is in sync.
  auto opened = set.on_seq(queried[1], 8);
  CHECK(set.established(0));
  CHECK(set.shard_seq(0) == 9);  // the held write took the next number
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  CHECK(one<fx::Recover>(opened).target == queried[0]);
}

TEST_CASE("copies: a copy waited for whose node is then lost no longer holds the shard up") {
  ReplicaSet set{opts(1, 2)};
  std::vector<std::vector<std::string>> where{{node_a, node_b}};
  std::vector<SlotId> queried;
  for (auto& p : all_of<fx::PlaceSlot>(set.start(where)))
    queried.push_back(one<fx::QuerySeq>(set.on_placed(p.slot, p.node)).slot);
  CHECK(set.on_request(1, req("/index", {"a"})).empty());
  CHECK(set.on_seq(queried[0], 3).empty());
  (void)set.on_seq_failed(queried[1], caf::sec::request_timeout);
  CHECK_FALSE(set.established(0));
  auto lost = set.on_node_lost(node_b, "node " + node_b + " unresponsive");
  CHECK(set.established(0));
  CHECK(one<fx::SendCall>(lost).seq == 4);
  // Its query's late timeout asks nothing more of a lost copy.
  CHECK(set.on_seq_failed(queried[1], caf::sec::request_timeout).empty());
}

TEST_CASE("copies: stopping answers the requests still waiting for the shard's number") {
  ReplicaSet set{opts(1, 1)};
  for (auto& p : all_of<fx::PlaceSlot>(set.start({{node_a}})))
    (void)set.on_placed(p.slot, p.node);
  CHECK(set.on_request(1, req("/index", {"a"})).empty());
  auto stop = set.on_stop();
  auto d = one<fx::Deliver>(stop);
  CHECK_FALSE(d.result);
}

TEST_CASE("copies: status shows each copy's state, applied number and the shard's number") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {6, 2});
  auto v = set.status();
  CHECK(v["writes"].as_array()[0].as_int() == 6);
  auto& p = v["placement"].as_array();
  CHECK(p[0]["copy"].as_string() == "in_sync");
  CHECK(p[1]["copy"].as_string() == "recovering");
  CHECK(p[1]["catching_up_to"].as_int() == 6);
  CHECK(p[1]["applied"].as_int() == 2);
}

TEST_CASE("copies: a write over several shards that one shard refuses writes nothing (400)") {
  ReplicaSet set{opts(2, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto ids = numbered_ids(20);
  auto checks = all_of<fx::SendCall>(set.on_request(1, req("/index", ids)));
  REQUIRE(checks.size() == 2);
  CHECK(set
          .on_error(checks[0].call,
                    make_error(errc::dimension_mismatch, "idx/shard-0: dimension 3, expected 4"))
          .empty());
  auto d = one<fx::Deliver>(set.on_reply(checks[1].call, Response{}));
  REQUIRE_FALSE(d.result);
  CHECK(is(d.result.error(), errc::dimension_mismatch));
  CHECK(error_message(d.result.error()).find("nothing written") != std::string::npos);
  CHECK(set.shard_seq(0) == 0);
  CHECK(set.shard_seq(1) == 0);
  CHECK(set.slot(0, 0).copy == CopyState::in_sync);
  // A copy that went away during its check decides nothing: the writes go on.
  auto again = all_of<fx::SendCall>(set.on_request(2, req("/index", ids)));
  REQUIRE(again.size() == 2);
  CHECK(set.on_error(again[0].call, caf::sec::request_receiver_down).empty());
  CHECK(all_of<fx::SendCall>(set.on_reply(again[1].call, Response{})).size() >= 2);
}

TEST_CASE("copies: a write to copies on other nodes is encoded once; one copy answers the docs") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a", "b"})));
  REQUIRE(sends.size() == 2);
  // The same record for both, nothing else of the request.
  REQUIRE(sends[0].record);
  CHECK(sends[0].record == sends[1].record);
  CHECK(sends[0].req.docs.empty());
  CHECK(sends[1].req.docs.empty());
  auto sent = decode_op(*sends[0].record);
  REQUIRE(sent);
  CHECK(sent->endpoint == "/index");
  CHECK(sent->docs.ids() == std::vector<std::string>{"a", "b"});
  // Exactly one answers with the documents; its answer is the write's.
  CHECK(sends[0].docs != sends[1].docs);
  auto& full = sends[0].docs ? sends[0] : sends[1];
  auto& slim = sends[0].docs ? sends[1] : sends[0];
  auto with_docs = echo(full);
  with_docs.docs[0].tags["by"] = "the answering copy";
  CHECK(set.on_reply(slim.call, echo(slim)).empty());
  auto d = one<fx::Deliver>(set.on_reply(full.call, with_docs));
  REQUIRE(d.result);
  REQUIRE(d.result->docs.size() == 2);
  CHECK(d.result->docs[0].tags.get_string("by", "") == "the answering copy");
}

TEST_CASE("copies: when the answering copy fails, the write answers the documents it sent") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a", "b"})));
  REQUIRE(sends.size() == 2);
  auto& full = sends[0].docs ? sends[0] : sends[1];
  auto& slim = sends[0].docs ? sends[1] : sends[0];
  auto params = echo(slim);
  params.parameters["stored"] = int64_t{2};
  CHECK(set.on_reply(slim.call, params).empty());
  auto fx = set.on_error(full.call, make_error(errc::storage_error, "disk full"));
  CHECK(logs(fx, "left the in-sync set"));
  auto d = one<fx::Deliver>(fx);
  REQUIRE(d.result);
  CHECK(d.result->docs.ids() == std::vector<std::string>{"a", "b"});
  CHECK(d.result->parameters.get_int("stored", 0) == 2);
}

TEST_CASE("copies: write_consistency 1 acknowledges a copy without the docs at once") {
  ReplicaSet set{opts(1, 2, 1)};
  (void)start_copies(set, {node_a, node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  auto& full = sends[0].docs ? sends[0] : sends[1];
  auto& slim = sends[0].docs ? sends[1] : sends[0];
  auto d = one<fx::Deliver>(set.on_reply(slim.call, echo(slim)));
  REQUIRE(d.result);
  CHECK(d.result->docs.ids() == std::vector<std::string>{"a"});
  CHECK(set.on_reply(full.call, echo(full)).empty());
}

TEST_CASE("copies: local copies get the request itself; each answers with the docs") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {"local", node_b}, {0, 0});
  auto sends = all_of<fx::SendCall>(set.on_request(1, req("/index", {"a"})));
  REQUIRE(sends.size() == 2);
  auto& local = sends[0].to.index == 0 ? sends[0] : sends[1];
  auto& remote = sends[0].to.index == 0 ? sends[1] : sends[0];
  CHECK_FALSE(local.record);
  CHECK(local.docs);
  CHECK(local.req.docs.ids() == std::vector<std::string>{"a"});
  REQUIRE(remote.record);
  CHECK(remote.req.docs.empty());
}

TEST_CASE("copies: a catching-up copy's progress shows in status until it is in sync") {
  ReplicaSet set{opts(1, 2)};
  (void)start_copies(set, {node_a, node_b}, {9, 2});
  auto behind = id_of(set, 0, 1);
  REQUIRE(set.slot(0, 1).copy == CopyState::recovering);
  auto shown = [&] { return set.status()["placement"].as_array()[1]; };
  CHECK(shown()["applied"].as_int() == 2);
  CHECK(shown().find("snapshot_docs") == nullptr);
  // A snapshot under way: its documents so far, then the log after it.
  CHECK(set.on_progress(behind, 0, 500).empty());
  CHECK(shown()["snapshot_docs"].as_int() == 500);
  CHECK(shown()["applied"].as_int() == 2);
  CHECK(set.on_progress(behind, 0, 1000).empty());
  CHECK(shown()["snapshot_docs"].as_int() == 1000);
  CHECK(set.on_progress(behind, 6, 0).empty());
  CHECK(shown()["applied"].as_int() == 6);
  CHECK(shown().find("snapshot_docs") == nullptr);
  CHECK(shown()["catching_up_to"].as_int() == 9);
  CHECK(set.slot(0, 1).copy == CopyState::recovering);
  // Progress alone never puts it in sync: the catch-up's end does.
  CHECK(set.on_progress(behind, 9, 0).empty());
  CHECK(set.slot(0, 1).copy == CopyState::recovering);
  auto fx = set.on_recovered(behind, set.slot(0, 1).recovery, 9);
  CHECK(logs(fx, "caught up"));
  CHECK(set.slot(0, 1).copy == CopyState::in_sync);
  CHECK(shown().find("catching_up_to") == nullptr);
  // Progress of a catch-up that is over changes nothing.
  CHECK(set.on_progress(behind, 3, 7).empty());
  CHECK(shown()["applied"].as_int() == 9);
  CHECK(shown().find("snapshot_docs") == nullptr);
}
