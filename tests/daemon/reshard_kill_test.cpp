// `caflow reshard` as a child process, killed with SIGKILL in the middle of
// moving documents, then run again: nothing lost, nothing duplicated.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <map>

#include <unistd.h>

#include "caflow/executor.hpp"
#include "daemon/process.hpp"
#include "runtime/partition.hpp"

using namespace caflow;
using namespace caflow::testing;
namespace fs = std::filesystem;

namespace {

ExecutorContext shard_context(const fs::path& ws, uint32_t shard, uint32_t shards) {
  ExecutorContext ctx;
  ctx.name = "indexer";
  ctx.uses = "Indexer";
  ctx.workspace = ws.string();
  ctx.uses_metas["flow_id"] = "kill-test";
  ctx.shard_id = shard;
  ctx.shards = shards;
  return ctx;
}

std::unique_ptr<Executor> open_shard(const fs::path& ws, uint32_t shard, uint32_t shards) {
  auto e = ExecutorRegistry::instance().create(shard_context(ws, shard, shards));
  REQUIRE_MESSAGE(e, describe(e));
  return std::move(*e);
}

}  // namespace

TEST_CASE("reshard killed with SIGKILL mid-way resumes: every document once") {
  auto ws = fs::temp_directory_path() / ("caflow-reshard-kill-" + std::to_string(::getpid()));
  fs::remove_all(ws);
  DocumentArray docs;
  for (int i = 0; i < 5000; ++i) {
    auto& d = docs.emplace_back();
    d.id = "k" + std::to_string(i);
    d.text = "text " + d.id;
    d.embedding = Embedding::dense_vector({float(i % 7), float(i % 11), 1.0f});
  }
  {
    std::vector<std::unique_ptr<Executor>> shards;
    std::vector<DocumentArray> parts(2);
    for (const auto& d : docs)
      parts[detail::shard_of(d.id, 2)].push_back(d);
    for (uint32_t k = 0; k < 2; ++k)
      shards.push_back(open_shard(ws, k, 2));
    for (uint32_t k = 0; k < 2; ++k) {
      shards[k]->handle("/index", parts[k], {});
      shards[k]->close();
    }
  }
  auto db = (ws / "indexer").string();
  auto killed = run({CAFLOW_CLI, "reshard", db, "--shards", "3", "--batch-size", "100",
                     "--kill-after-batches", "4"});
  CAPTURE(killed.output);
  CHECK(killed.code == 128 + SIGKILL);
  auto resumed = run({CAFLOW_CLI, "reshard", db, "--shards", "3"});
  CAPTURE(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK(resumed.output.find("5000 documents, 2 -> 3 shards") != std::string::npos);
  CHECK(resumed.output.find("finished an interrupted reshard") != std::string::npos);
  std::map<std::string, int> holders;
  for (uint32_t k = 0; k < 3; ++k) {
    auto e = open_shard(ws, k, 3);
    auto ids = docs;
    e->handle("/fetch", ids, {});
    for (const auto& d : ids) {
      ++holders[d.id];
      CHECK(detail::shard_of(d.id, 3) == k);
      CHECK(d.text == "text " + d.id);
    }
  }
  size_t once = 0;
  for (const auto& d : docs)
    once += holders[d.id] == 1 ? 1 : 0;
  CHECK(once == docs.size());
  CHECK(holders.size() == docs.size());
  std::error_code ec;
  fs::remove_all(ws, ec);
}
