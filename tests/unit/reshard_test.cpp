// Layout records checked at start and offline resharding (#13): the cases
// of the issue, on the shipped Indexer used directly (no actors).
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>

#include <unistd.h>

#include "caflow/executor.hpp"
#include "caflow/replication.hpp"
#include "runtime/partition.hpp"
#include "storage/reshard.hpp"
#include "tests/random_vectors.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;
namespace fs = std::filesystem;

namespace {

// The Indexer's database in a workspace, as `caflow reshard` is given it.
std::string db(const TempWorkspace& dir) {
  return (dir.path / "indexer").string();
}

ExecutorContext context(const TempWorkspace& dir, uint32_t shard, uint32_t shards,
                        Params uses_with = Params::object(), std::string flow = "flow-1") {
  auto ctx = indexer_context(dir.path, std::move(uses_with));
  ctx.uses_metas["flow_id"] = std::move(flow);
  ctx.shard_id = shard;
  ctx.shards = shards;
  return ctx;
}

DocumentArray corpus(size_t n, uint32_t dim = 16) {
  std::mt19937 rng{7};
  DocumentArray out;
  for (size_t i = 0; i < n; ++i) {
    auto& d = out.emplace_back();
    d.id = "doc-" + std::to_string(i);
    d.text = "text " + d.id;
    d.embedding = test::gaussian_vector(rng, dim);
  }
  return out;
}

// Indexes `docs` as a flow with `shards` shards and PARTITION writes would.
void index_partitioned(const TempWorkspace& dir, const DocumentArray& docs, uint32_t shards,
                       Params uses_with = Params::object()) {
  std::vector<DocumentArray> parts(shards);
  for (const auto& d : docs)
    parts[detail::shard_of(d.id, shards)].push_back(d);
  // All shards start before any data arrives, as in a flow.
  std::vector<std::unique_ptr<Executor>> running;
  for (uint32_t k = 0; k < shards; ++k)
    running.push_back(make_executor(context(dir, k, shards, uses_with)));
  for (uint32_t k = 0; k < shards; ++k) {
    running[k]->handle("/index", parts[k], {});
    running[k]->close();
  }
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, {}).get_int("count", -1);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// How many shards hold each id, checking that the holder is its hash owner.
void check_placement(const TempWorkspace& dir, const DocumentArray& docs, uint32_t shards) {
  std::map<std::string, int> holders;
  int64_t total = 0;
  for (uint32_t k = 0; k < shards; ++k) {
    auto e = make_executor(context(dir, k, shards));
    total += count(*e);
    auto ids = docs;
    auto params = e->handle("/fetch", ids, {});
    for (const auto& d : ids) {
      ++holders[d.id];
      CHECK(detail::shard_of(d.id, shards) == k);
    }
  }
  CHECK(total == static_cast<int64_t>(docs.size()));
  size_t once = 0;
  for (const auto& d : docs)
    once += holders[d.id] == 1 ? 1 : 0;
  CHECK(once == docs.size());
}

std::vector<std::vector<std::pair<std::string, double>>> search(Executor& e,
                                                                const DocumentArray& queries) {
  auto q = queries;
  e.handle("/search", q, Params{{"top_k", 10}});
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (const auto& d : q) {
    auto& row = out.emplace_back();
    for (const auto& m : d.matches)
      row.emplace_back(m.id, m.score("cosine"));
  }
  return out;
}

}  // namespace

TEST_CASE("a start with another shard count is refused, saying how to reshard") {
  TempWorkspace dir;
  index_partitioned(dir, corpus(300), 2);
  for (uint32_t shards : {3u, 1u}) {
    auto refused = start_executor(context(dir, 0, shards));
    REQUIRE_FALSE(refused);
    auto message = describe(refused.error());
    CAPTURE(message);
    CHECK(contains(message, "shards: stored 2, the flow asks for " + std::to_string(shards)));
    CHECK(contains(message, "caflow reshard " + db(dir) + " --shards " + std::to_string(shards)));
  }
  // The new shard of the refused flow records nothing either: a reshard
  // afterwards still knows the data has 2 shards.
  auto newcomer = start_executor(context(dir, 2, 3));
  REQUIRE_FALSE(newcomer);
  CHECK(contains(describe(newcomer.error()), "shards: stored 2, the flow asks for 3"));
  CHECK(count(*make_executor(context(dir, 0, 2))) + count(*make_executor(context(dir, 1, 2)))
        == 300);
  auto moved = reshard(db(dir), 3);
  REQUIRE_MESSAGE(moved, describe(moved));
  CHECK(moved->from == 2);
}

TEST_CASE("another flow's shard is refused; so is a shard whose data is elsewhere") {
  TempWorkspace dir;
  index_partitioned(dir, corpus(100), 2);
  auto other = start_executor(context(dir, 0, 2, Params::object(), "flow-2"));
  REQUIRE_FALSE(other);
  CHECK(contains(describe(other.error()), "flow: stored flow-1, the flow asks for flow-2"));
  // A node's database that holds shard 1 only, asked for shard 0 (hosts
  // swapped): refused rather than served empty.
  TempWorkspace node;
  auto docs = corpus(100);
  DocumentArray part;
  for (const auto& d : docs)
    if (detail::shard_of(d.id, 2) == 1)
      part.push_back(d);
  {
    auto e = make_executor(context(node, 1, 2));
    e->handle("/index", part, {});
    e->close();
  }
  auto swapped = start_executor(context(node, 0, 2));
  REQUIRE_FALSE(swapped);
  CHECK(contains(describe(swapped.error()), "holds shard 1 of 2 of this executor but not shard 0"));
}

TEST_CASE("a metric or index change is applied by rebuilding, with the new scores") {
  TempWorkspace dir;
  auto docs = corpus(200);
  index_partitioned(dir, docs, 1, Params{{"index", "hnsw"}, {"max_elements", 256}});
  auto e = make_executor(context(dir, 0, 1, Params{{"metric", "euclidean"}, {"index", "exact"}}));
  TempWorkspace fresh;
  index_partitioned(fresh, docs, 1, Params{{"metric", "euclidean"}});
  auto f = make_executor(context(fresh, 0, 1, Params{{"metric", "euclidean"}}));
  auto queries = corpus(5);
  auto a = queries;
  auto b = queries;
  e->handle("/search", a, Params{{"top_k", 5}});
  f->handle("/search", b, Params{{"top_k", 5}});
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].matches.size() == b[i].matches.size());
    for (size_t j = 0; j < a[i].matches.size(); ++j) {
      CHECK(a[i].matches[j].id == b[i].matches[j].id);
      CHECK(a[i].matches[j].score("euclidean")
            == doctest::Approx(b[i].matches[j].score("euclidean")));
    }
  }
}

TEST_CASE("reshard 2 -> 3 -> 1 with 10,000 documents: each once, search as a fresh index") {
  TempWorkspace dir;
  auto docs = corpus(10000);
  index_partitioned(dir, docs, 2);
  auto to3 = reshard(db(dir), 3);
  REQUIRE_MESSAGE(to3, describe(to3));
  CHECK(to3->from == 2);
  CHECK(to3->documents == 10000);
  CHECK(to3->moved > 0);
  check_placement(dir, docs, 3);
  auto to1 = reshard(db(dir), 1);
  REQUIRE_MESSAGE(to1, describe(to1));
  CHECK(to1->from == 3);
  check_placement(dir, docs, 1);
  CHECK_FALSE(fs::exists(dir.path / "indexer" / "shard-1.hnsw"));
  TempWorkspace fresh;
  index_partitioned(fresh, docs, 1);
  auto queries = corpus(20, 16);
  for (auto& q : queries)
    q.id = "query-" + q.id;
  auto resharded = make_executor(context(dir, 0, 1));
  auto reference = make_executor(context(fresh, 0, 1));
  auto got = search(*resharded, queries);
  auto want = search(*reference, queries);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].size() == want[i].size());
    for (size_t j = 0; j < got[i].size(); ++j) {
      CHECK(got[i][j].first == want[i][j].first);
      CHECK(got[i][j].second == doctest::Approx(want[i][j].second));
    }
  }
}

TEST_CASE("an interrupted reshard refuses starts and finishes when run again") {
  TempWorkspace dir;
  auto docs = corpus(3000);
  index_partitioned(dir, docs, 2);
  struct Crash {};
  ReshardOptions crash;
  crash.batch_size = 100;
  crash.after_batch = [](uint64_t batches) {
    if (batches == 3)
      throw Crash{};
  };
  CHECK_THROWS_AS((void)reshard(db(dir), 3, crash), Crash);
  auto refused = start_executor(context(dir, 0, 2));
  REQUIRE_FALSE(refused);
  CHECK(contains(describe(refused.error()), "a reshard is unfinished"));
  auto other = reshard(db(dir), 4);  // another count first: refused
  REQUIRE_FALSE(other);
  CHECK(contains(describe(other.error()), "run it again with --shards 3"));
  auto done = reshard(db(dir), 3);
  REQUIRE_MESSAGE(done, describe(done));
  CHECK(done->resumed);
  check_placement(dir, docs, 3);
}

TEST_CASE("documents stored twice under ANY polling end up once") {
  TempWorkspace dir;
  auto docs = corpus(50);
  auto zero = make_executor(context(dir, 0, 2));
  auto one = make_executor(context(dir, 1, 2));
  for (auto* e : {zero.get(), one.get()}) {  // every document on both shards
    auto copy = docs;
    e->handle("/index", copy, {});
    e->close();
  }
  REQUIRE(reshard(db(dir), 2));
  check_placement(dir, docs, 2);
}

TEST_CASE("a saved HNSW graph is not loaded after the metric changed") {
  TempWorkspace dir;
  auto docs = corpus(300);
  index_partitioned(dir, docs, 1, Params{{"index", "hnsw"}, {"max_elements", 400}});
  REQUIRE(fs::exists(dir.path / "indexer" / "shard-0.hnsw"));
  auto e = make_executor(context(dir, 0, 1, Params{{"index", "hnsw"}, {"metric", "euclidean"}}));
  auto queries = corpus(20);
  e->handle("/search", queries, Params{{"top_k", 1}});
  for (size_t i = 0; i < queries.size(); ++i) {
    REQUIRE(queries[i].matches.size() == 1);
    CHECK(queries[i].matches[0].id == docs[i].id);  // itself, at distance 0
    CHECK(queries[i].matches[0].score("euclidean") == doctest::Approx(0.0));
  }
}

TEST_CASE("a reshard drops the op log and numbers every shard past the old writes") {
  // A copy that catches up after a reshard must take a snapshot of the new
  // layout, never replay writes that were split for the old one.
  TempWorkspace dir;
  auto docs = corpus(200);
  index_partitioned(dir, docs, 2);
  uint64_t before = 0;
  for (uint32_t k = 0; k < 2; ++k) {
    auto e = make_executor(context(dir, k, 2));
    auto* r = dynamic_cast<Replicated*>(e.get());
    REQUIRE(r != nullptr);
    DocumentArray one{docs[k]};
    e->handle("/index", one, {}, WriteStamp{r->applied_seq() + 1, "op"});
    before = std::max(before, r->applied_seq());
    e->close();
  }
  REQUIRE(before > 0);
  auto to3 = reshard(db(dir), 3);
  REQUIRE_MESSAGE(to3, describe(to3));
  for (uint32_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    auto e = make_executor(context(dir, k, 3));
    auto* r = dynamic_cast<Replicated*>(e.get());
    REQUIRE(r != nullptr);
    CHECK(r->applied_seq() == before + 1);
    CHECK(r->read_log(0, 1 << 20).truncated);
  }
  check_placement(dir, docs, 3);
}
