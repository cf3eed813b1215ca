// `when` in a running flow: a flow that branches by a tag and joins again.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

using namespace caflow;

namespace {

DocumentArray priced(size_t n) {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = "d" + std::to_string(i);
    d.tags["price"] = static_cast<int64_t>(i);
  }
  return docs;
}

// cheap (price < 5) and dear (price >= 5) branch from the gateway; join needs
// both. Recorder tags each document it sees with "<name>.shard".
constexpr const char* branching = R"(
executors:
  - name: cheap
    uses: Recorder
    needs: gateway
    when:
      tags__price: {$lt: 5}
  - name: dear
    uses: Recorder
    shards: 2
    polling: ALL
    needs: gateway
    when:
      tags__price: {$gte: 5}
  - name: join
    uses: Recorder
    needs: [cheap, dear]
)";

}  // namespace

TEST_CASE("when: a flow branches by a filter and each document passes one branch") {
  auto flow = Flow::parse(branching, "branching.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  auto running = flow->start();
  REQUIRE_MESSAGE(running, describe(running));
  // Requests of 4: [0..3] all cheap, [4..7] both ways, [8, 9] all dear.
  auto result = running->post("/index", priced(10), {.request_size = 4});
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    const auto& d = result->docs[i];
    INFO("document " << d.id);
    CHECK(d.id == "d" + std::to_string(i));
    CHECK(d.tags.contains("cheap.shard") == (i < 5));
    CHECK(d.tags.contains("dear.shard") == (i >= 5));
    CHECK(d.tags.contains("join.shard"));
  }

  SUBCASE("a targetExecutor request keeps the target's filter") {
    auto only = running->post("/index", priced(10), {.target_executor = "dear"});
    REQUIRE_MESSAGE(only, describe(only));
    REQUIRE(only->docs.size() == 10);
    for (size_t i = 0; i < 10; ++i) {
      CHECK(only->docs[i].id == "d" + std::to_string(i));
      CHECK(only->docs[i].tags.contains("dear.shard") == (i >= 5));
      CHECK_FALSE(only->docs[i].tags.contains("join.shard"));
    }
  }
  SUBCASE("a failing filtered branch fails the request with its message") {
    auto failed = running->post("/fail", priced(6));
    REQUIRE_FALSE(failed);
    CHECK(error_message(failed.error()).find("failing on purpose") != std::string::npos);
  }
}
