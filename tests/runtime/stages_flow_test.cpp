// uses_before / uses_after on a sharded deployment, in a running flow: the
// head runs one before the shards and one that replaces the reduce.
#include <doctest/doctest.h>

#include <stdexcept>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/shard_answers.hpp"

using namespace caflow;

namespace {

// uses_before: marks every document with uses_with.mark and asks the shards
// for `asked` (a parameter); /reject throws.
class StageRouter : public Executor {
 public:
  static constexpr std::string_view uses_with_keys[] = {"mark"};
  explicit StageRouter(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [this](DocumentArray& docs, const Params&) {
      for (auto& d : docs)
        d.tags["routed"] = context().get("mark", "");
      return Params{{"asked", "by the router"}};
    });
    on("/reject", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("rejected by the router");
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(StageRouter);

// uses_after: every shard's documents, in shard order, each tagged with the
// shard it came from; counts what it saw. Binds /search, /flaky, /index and
// /boom (which throws), not /count.
class ShardConcat : public Executor {
 public:
  explicit ShardConcat(ExecutorContext ctx) : Executor(std::move(ctx)) {
    for (const char* endpoint : {"/search", "/flaky", "/index"})
      on(endpoint, [](DocumentArray& docs, const Params& params) {
        DocumentArray out;
        int64_t failed = 0;
        auto answers = unpack_shard_answers(std::move(docs));
        for (auto& a : answers) {
          failed += a.failed() ? 1 : 0;
          for (auto& d : a.docs) {
            d.tags["after.shard"] = static_cast<int64_t>(a.shard);
            d.tags["after.asked"] = params.get_string("asked", "");
            out.push_back(std::move(d));
          }
        }
        docs = std::move(out);
        return Params{{"shards_seen", static_cast<int64_t>(answers.size())},
                      {"failed_seen", failed}};
      });
    on("/boom", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("boom on purpose");
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(ShardConcat);

DocumentArray queries(size_t n) {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i)
    docs.emplace_back().id = "q" + std::to_string(i);
  return docs;
}

constexpr const char* staged = R"(
executors:
  - name: sharded
    uses: Recorder
    shards: 3
    polling: {/index: PARTITION, '*': ALL}
    uses_with: {fail_shard: 1}
    uses_before: StageRouter
    uses_before_with: {mark: m}
    uses_after: {jtype: ShardConcat}
)";

}  // namespace

TEST_CASE("uses_before and uses_after run around the shards of a deployment") {
  auto flow = Flow::parse(staged, "staged.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = flow->start();
  REQUIRE_MESSAGE(running, describe(running));

  // ALL: uses_after gets three answers of two documents each.
  auto result = running->post("/search", queries(2));
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    const auto& d = result->docs[i];
    INFO("document " << i << ": " << d.tags.dump());
    CHECK(d.id == "q" + std::to_string(i % 2));
    CHECK(d.tags.get_int("after.shard", -1) == static_cast<int64_t>(i / 2));
    CHECK(d.tags.get_int("sharded.shard", -1) == static_cast<int64_t>(i / 2));
    CHECK(d.tags.get_string("routed", "") == "m");
    CHECK(d.tags.get_string("after.asked", "") == "by the router");
  }
  CHECK(result->parameters.get_int("shards_seen", 0) == 3);
  CHECK(result->failed_shards == 0);

  SUBCASE("a failed shard is handed over marked, and still counted") {
    auto flaky = running->post("/flaky", queries(2));
    REQUIRE_MESSAGE(flaky, describe(flaky));
    CHECK(flaky->docs.size() == 4);
    CHECK(flaky->parameters.get_int("shards_seen", 0) == 3);
    CHECK(flaky->parameters.get_int("failed_seen", 0) == 1);
    CHECK(flaky->failed_shards == 1);
    REQUIRE(flaky->failures.size() == 1);
    CHECK(flaky->failures[0].find("shard 1 is flaky") != std::string::npos);
  }
  SUBCASE("PARTITION: each shard's part, in shard order") {
    auto indexed = running->post("/index", queries(12), {.request_size = 12});
    REQUIRE_MESSAGE(indexed, describe(indexed));
    REQUIRE(indexed->docs.size() == 12);
    int64_t last = 0;
    for (const auto& d : indexed->docs) {
      auto shard = d.tags.get_int("after.shard", -1);
      CHECK(shard == d.tags.get_int("sharded.shard", -2));
      CHECK(shard >= last);
      last = shard;
    }
  }
  SUBCASE("an endpoint uses_after does not bind gets the built-in reduce") {
    auto counted = running->post("/count", queries(2));
    REQUIRE_MESSAGE(counted, describe(counted));
    REQUIRE(counted->docs.size() == 2);
    CHECK_FALSE(counted->docs[0].tags.contains("after.shard"));
    CHECK(counted->docs[0].tags.get_string("routed", "") == "m");
  }
  SUBCASE("a throwing uses_after or uses_before fails that request only, with the message") {
    auto boom = running->post("/boom", queries(1));
    REQUIRE_FALSE(boom);
    CHECK(error_message(boom.error()).find("sharded/uses_after (ShardConcat): boom on purpose")
          != std::string::npos);
    auto rejected = running->post("/reject", queries(1));
    REQUIRE_FALSE(rejected);
    CHECK(error_message(rejected.error())
            .find("sharded/uses_before (StageRouter): rejected by the router")
          != std::string::npos);
    auto again = running->post("/search", queries(1));
    REQUIRE_MESSAGE(again, describe(again));
    CHECK(again->docs.size() == 3);
  }
}

TEST_CASE("uses_before and uses_after in code; a stage that cannot start names itself") {
  Flow flow;
  flow.add({.name = "sharded",
            .uses = "Recorder",
            .shards = 2,
            .polling = Polling{{{"*", "ALL"}}},
            .uses_after = "ShardConcat"});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  auto result = running->post("/search", queries(1));
  REQUIRE_MESSAGE(result, describe(result));
  CHECK(result->docs.size() == 2);

  Flow broken;
  broken.add({.name = "sharded",
              .uses = "Recorder",
              .shards = 2,
              .uses_before = "Recorder",
              .uses_before_with = Params{{"fail_start", true}}});
  auto failed = broken.start();
  REQUIRE_FALSE(failed);
  CHECK(error_message(failed.error())
        == "executor 'sharded' could not start: sharded/uses_before (Recorder): refusing to "
           "start on purpose");
}
