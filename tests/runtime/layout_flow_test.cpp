// The cases of #13 through whole flows: a restart with another shard count
// is refused before it serves anything, and with Jina's default polling a
// re-indexed id stays on one shard.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

// No polling given: Jina's defaults (/search ALL, * ANY), as a new user writes it.
caf::expected<RunningFlow> start(const TempWorkspace& dir, uint32_t shards) {
  Flow flow{FlowOptions{.workspace = dir.path.string()}};
  flow.add({.name = "indexer", .uses = "Indexer", .shards = shards});
  return flow.start();
}

DocumentArray docs(size_t n) {
  DocumentArray out;
  for (size_t i = 0; i < n; ++i) {
    auto& d = out.emplace_back();
    d.id = "doc" + std::to_string(i);
    d.embedding = Embedding::dense_vector({float(i % 5), float(i % 3), 1.0f});
  }
  return out;
}

// Every stored copy, over both shards: /search is ALL under Jina's defaults
// (/count and /fetch are ANY: one shard's answer).
size_t stored_copies(RunningFlow& flow) {
  auto q = docs(1);
  auto r = flow.post("/search", q, {.parameters = Params{{"top_k", int64_t{100000}}}});
  REQUIRE_MESSAGE(r, describe(r));
  return r->docs[0].matches.size();
}

}  // namespace

TEST_CASE("Jina's default polling on 2 shards: re-indexing and deleting reach each id's shard") {
  TempWorkspace dir;
  auto flow = start(dir, 2);
  REQUIRE_MESSAGE(flow, describe(flow));
  for (int round = 0; round < 2; ++round)
    REQUIRE(flow->post("/index", docs(300), {.request_size = 7}));
  CHECK(stored_copies(*flow) == 300);  // not 500: no id on two shards
  auto removed = flow->post("/delete", docs(300), {.request_size = 11});
  REQUIRE_MESSAGE(removed, describe(removed));
  const auto* missing = removed->parameters.find("not_found");
  CHECK((missing == nullptr || missing->as_array().empty()));
  CHECK(stored_copies(*flow) == 0);
  auto again = flow->post("/index", docs(300), {.request_size = 13});
  REQUIRE(again);
  CHECK(stored_copies(*flow) == 300);
}

TEST_CASE("a flow restarted with another shard count is refused, saying how to reshard") {
  TempWorkspace dir;
  {
    auto flow = start(dir, 2);
    REQUIRE_MESSAGE(flow, describe(flow));
    REQUIRE(flow->post("/index", docs(300), {.request_size = 50}));
  }
  for (uint32_t shards : {3u, 1u}) {
    auto refused = start(dir, shards);
    REQUIRE_FALSE(refused);
    auto message = describe(refused.error());
    CAPTURE(message);
    CHECK(message.find("shards: stored 2, the flow asks for " + std::to_string(shards))
          != std::string::npos);
    CHECK(message.find("caflow reshard") != std::string::npos);
  }
  auto same = start(dir, 2);
  REQUIRE_MESSAGE(same, describe(same));
}
