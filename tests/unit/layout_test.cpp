// Layout records (pure): encoding, and what a start with a different layout
// does (refuse with a way to migrate, or apply what can be rebuilt).
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "runtime/flow_identity.hpp"
#include "storage/layout.hpp"

using namespace caflow;

namespace {

ShardLayout layout(uint32_t shard = 0, uint32_t shards = 2) {
  ShardLayout l;
  l.flow = "seed-0123";
  l.executor = "indexer";
  l.uses = "Indexer";
  l.shard = shard;
  l.shards = shards;
  l.data = {{"metric", "cosine"}, {"index", "exact"}, {"dimension", "16"}};
  return l;
}

}  // namespace

TEST_CASE("a layout record survives encoding") {
  auto l = layout(1, 3);
  auto back = ShardLayout::decode(l.encode());
  REQUIRE_MESSAGE(back, describe(back));
  CHECK(back->flow == l.flow);
  CHECK(back->shard == 1);
  CHECK(back->shards == 3);
  CHECK(back->partition == partition_function);
  CHECK(back->data == l.data);
  CHECK(compare_layouts(l, *back).empty());
}

TEST_CASE("a malformed layout record is an error, not a default") {
  CHECK_FALSE(ShardLayout::decode("nope"));
  CHECK_FALSE(ShardLayout::decode(R"({"format": 9, "shard": 0, "shards": 1})"));
  CHECK_FALSE(ShardLayout::decode(R"({"format": 1, "shard": 2, "shards": 2})"));
  CHECK_FALSE(ShardLayout::decode(R"({"format": 1, "shard": 0, "shards": 0})"));
}

TEST_CASE("a different shard count is refused with the reshard command") {
  auto verdict = judge_layout(layout(0, 2), layout(0, 3), {"metric", "index"}, "indexer/shard-0",
                              "/ws/indexer");
  REQUIRE(verdict.refusal);
  CHECK(verdict.refusal->find("shards: stored 2, the flow asks for 3") != std::string::npos);
  CHECK(verdict.refusal->find("caflow reshard /ws/indexer --shards 3") != std::string::npos);
  CHECK(verdict.refusal->find("shards: 2") != std::string::npos);
}

TEST_CASE("another flow's data is refused") {
  auto other = layout();
  other.flow = "other-9";
  auto verdict = judge_layout(layout(), other, {}, "indexer/shard-0", "/node/ws");
  REQUIRE(verdict.refusal);
  CHECK(verdict.refusal->find("flow: stored seed-0123, the flow asks for other-9")
        != std::string::npos);
}

TEST_CASE("a metric or index change is applied, a dimension change is not") {
  auto wanted = layout();
  wanted.data["metric"] = "euclidean";
  wanted.data["index"] = "hnsw";
  auto verdict = judge_layout(layout(), wanted, {"metric", "index"}, "indexer/shard-0", "/ws");
  CHECK_FALSE(verdict.refusal);
  REQUIRE(verdict.to_apply.size() == 2);
  CHECK(verdict.to_apply[0].key == "data.index");
  CHECK(verdict.to_apply[1].key == "data.metric");
  CHECK(verdict.to_apply[1].stored == "cosine");
  wanted.data["dimension"] = "32";
  CHECK(judge_layout(layout(), wanted, {"metric", "index"}, "i", "/ws").refusal);
  wanted.data["dimension"] = "";  // not known yet: no difference
  CHECK_FALSE(judge_layout(layout(), wanted, {"metric", "index"}, "i", "/ws").refusal);
}

TEST_CASE("unknown stored identity fields are adopted") {
  auto stored = layout();
  stored.flow.clear();
  stored.uses.clear();
  CHECK(compare_layouts(stored, layout()).empty());
}

TEST_CASE("stateful write endpoints default to PARTITION; explicit ANY is kept with a warning") {
  DeploymentOptions jina_default{.name = "indexer", .uses = "Indexer", .shards = 2};
  CHECK(detail::apply_stateful_defaults(jina_default).empty());
  for (const char* endpoint : {"/index", "/update", "/delete"})
    CHECK(jina_default.polling.mode_for(endpoint) == PollingMode::partition);
  CHECK(jina_default.polling.mode_for("/search") == PollingMode::all);
  CHECK(jina_default.polling.mode_for("/count") == PollingMode::any);

  DeploymentOptions star_all{.name = "indexer", .uses = "Indexer", .shards = 2};
  star_all.polling = Polling{std::map<std::string, std::string>{{"*", "ALL"}}};
  CHECK(detail::apply_stateful_defaults(star_all).empty());
  CHECK(star_all.polling.mode_for("/index") == PollingMode::partition);
  CHECK(star_all.polling.mode_for("/delete") == PollingMode::all);  // reaches the holder

  DeploymentOptions explicit_any{.name = "indexer", .uses = "Indexer", .shards = 3};
  explicit_any.polling = Polling{{{"/index", "ANY"}, {"/search", "ALL"}, {"*", "ALL"}}};
  auto warnings = detail::apply_stateful_defaults(explicit_any);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("polling['/index'] is ANY") != std::string::npos);
  CHECK(warnings[0].find("/update and /delete then reach only one copy") != std::string::npos);
  CHECK(explicit_any.polling.mode_for("/index") == PollingMode::any);  // allowed

  DeploymentOptions one_shard{.name = "indexer", .uses = "Indexer", .shards = 1};
  one_shard.polling = Polling{{{"/index", "ANY"}, {"/search", "ALL"}, {"*", "ALL"}}};
  CHECK(detail::apply_stateful_defaults(one_shard).empty());  // nothing to go wrong
}
