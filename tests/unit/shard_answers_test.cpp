// uses_after's input: every shard's answer packed in shard order
// (caflow/shard_answers.hpp), and the replica set delivering it instead of
// the built-in reduce for the endpoints uses_after takes. No actors.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/shard_answers.hpp"
#include "replica_set_effects.hpp"
#include "runtime/replica_set.hpp"

using namespace caflow;
using namespace caflow::detail;
namespace fx = caflow::detail::effect;
using namespace caflow::testing;

namespace {

// Shards behind a set whose /search and /index shard answers go to uses_after
// (/count does not: its uses_after binds no such endpoint).
ReplicaSet packing_set(uint32_t shards) {
  ReplicaSetOptions o;
  o.name = "dep";
  o.shards = shards;
  o.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"/any", "ANY"}, {"*", "ALL"}}};
  o.clock = [] { return int64_t{7}; };
  o.keep_shard_answers = [](const std::string& endpoint) { return endpoint != "/count"; };
  ReplicaSet set{o};
  for (auto& p : all_of<fx::PlaceSlot>(set.start()))
    (void)set.on_placed(p.slot, "local");
  return set;
}

// The shard's answer: its documents, each with a match named after it.
Response answer(const fx::SendCall& c, int64_t count = 1) {
  Response r;
  r.docs = c.req.docs;
  for (auto& d : r.docs)
    d.matches.emplace_back().id = "from-" + std::to_string(c.to.shard);
  r.parameters = Params{{"count", count}};
  r.shards_answered = 1;
  return r;
}

}  // namespace

TEST_CASE("shard answers: packed one document per shard, and back") {
  std::vector<ShardAnswer> answers(2);
  answers[0].shard = 0;
  answers[0].docs.emplace_back().id = "a";
  answers[0].parameters = Params{{"count", 3}};
  answers[1].shard = 1;
  answers[1].error = "dep/shard-1: boom";
  auto packed = pack_shard_answers(answers);
  REQUIRE(packed.size() == 2);
  CHECK(packed[0].id == "shard-0");
  CHECK(packed[0].tags == Value{{"shard", 0}, {"parameters", Value{{"count", 3}}}});
  REQUIRE(packed[0].chunks.size() == 1);
  CHECK(packed[0].chunks[0].id == "a");
  CHECK(packed[1].tags.get_string("error", "") == "dep/shard-1: boom");
  CHECK(packed[1].chunks.empty());
  auto back = unpack_shard_answers(packed);
  REQUIRE(back.size() == 2);
  CHECK(back[0].shard == 0);
  CHECK(back[0].docs.ids() == std::vector<std::string>{"a"});
  CHECK(back[0].parameters == Value{{"count", 3}});
  CHECK_FALSE(back[0].failed());
  CHECK(back[1].shard == 1);
  CHECK(back[1].failed());
  CHECK(back[1].error == "dep/shard-1: boom");
  // A document in no such form: shard 0, no documents.
  DocumentArray odd;
  odd.emplace_back().tags = Value{{"shard", "x"}};
  auto lone = unpack_shard_answers(odd);
  REQUIRE(lone.size() == 1);
  CHECK(lone[0].shard == 0);
  CHECK(lone[0].docs.empty());
}

TEST_CASE("shard answers: ALL delivers every shard's answer in shard order, failures marked") {
  auto set = packing_set(3);
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/search", {"q1", "q2"})));
  REQUIRE(calls.size() == 3);
  // Out of order, shard 1 failing.
  CHECK(set.on_reply(calls[2].call, answer(calls[2], 5)).empty());
  CHECK(
    set.on_error(calls[1].call, make_error(errc::executor_failed, "dep/shard-1: boom")).empty());
  auto d = one<fx::Deliver>(set.on_reply(calls[0].call, answer(calls[0], 2)));
  REQUIRE(d.result);
  auto shards = unpack_shard_answers(d.result->docs);
  REQUIRE(shards.size() == 3);
  for (uint32_t k = 0; k < 3; ++k)
    CHECK(shards[k].shard == k);
  CHECK(shards[0].docs.ids() == std::vector<std::string>{"q1", "q2"});
  CHECK(shards[0].docs[0].matches[0].id == "from-0");
  CHECK(shards[1].failed());
  CHECK(shards[1].error.find("boom") != std::string::npos);
  CHECK(shards[2].docs[0].matches[0].id == "from-2");
  CHECK(shards[2].parameters == Value{{"count", 5}});
  // Counts and failures as the built-in reduce reports them; its parameters
  // too, for uses_after to build on.
  CHECK(d.result->shards_answered == 2);
  CHECK(d.result->shards_failed == 1);
  REQUIRE(d.result->failures.size() == 1);
  CHECK(d.result->parameters.get_int("count", 0) == 7);
  REQUIRE(d.result->routes.size() == 1);
  CHECK(d.result->routes[0].status == "partial");
}

TEST_CASE("shard answers: an endpoint uses_after does not take is reduced as usual") {
  auto set = packing_set(2);
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/count", {"q"})));
  REQUIRE(calls.size() == 2);
  CHECK(set.on_reply(calls[0].call, answer(calls[0])).empty());
  auto d = one<fx::Deliver>(set.on_reply(calls[1].call, answer(calls[1])));
  REQUIRE(d.result);
  REQUIRE(d.result->docs.size() == 1);
  CHECK(d.result->docs[0].id == "q");
  CHECK(d.result->docs[0].matches.size() == 2);
}

TEST_CASE("shard answers: when the built-in would fail, so does the packed delivery") {
  auto set = packing_set(2);
  auto calls = all_of<fx::SendCall>(set.on_request(1, req("/search", {"q"})));
  CHECK(set.on_error(calls[0].call, make_error(errc::executor_failed, "a")).empty());
  auto all_failed = one<fx::Deliver>(
    set.on_error(calls[1].call, make_error(errc::executor_failed, "b")));
  REQUIRE_FALSE(all_failed.result);
  CHECK(is(all_failed.result.error(), errc::all_shards_failed));

  // PARTITION: one failed part fails the write.
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i)
    ids.push_back("d" + std::to_string(i));
  auto parts = all_of<fx::SendCall>(set.on_request(2, req("/index", ids)));
  REQUIRE(parts.size() == 2);
  CHECK(set.on_reply(parts[0].call, answer(parts[0])).empty());
  auto part_failed = one<fx::Deliver>(
    set.on_error(parts[1].call, make_error(errc::storage_error, "x")));
  REQUIRE_FALSE(part_failed.result);
  CHECK(error_message(part_failed.result.error()).find("1 shard(s) failed") != std::string::npos);
}

TEST_CASE("shard answers: PARTITION packs each shard's part; ANY the one shard that answered") {
  auto set = packing_set(2);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i)
    ids.push_back("d" + std::to_string(i));
  auto parts = all_of<fx::SendCall>(set.on_request(1, req("/index", ids)));
  REQUIRE(parts.size() == 2);
  CHECK(set.on_reply(parts[1].call, answer(parts[1])).empty());
  auto d = one<fx::Deliver>(set.on_reply(parts[0].call, answer(parts[0])));
  REQUIRE(d.result);
  auto shards = unpack_shard_answers(d.result->docs);
  REQUIRE(shards.size() == 2);
  CHECK(shards[0].docs.ids() == parts[0].req.docs.ids());
  CHECK(shards[1].docs.ids() == parts[1].req.docs.ids());

  auto any = one<fx::SendCall>(set.on_request(2, req("/any", {"q"})));
  auto a = one<fx::Deliver>(set.on_reply(any.call, answer(any)));
  REQUIRE(a.result);
  auto only = unpack_shard_answers(a.result->docs);
  REQUIRE(only.size() == 1);
  CHECK(only[0].shard == any.to.shard);
  CHECK(only[0].docs.ids() == std::vector<std::string>{"q"});
}
