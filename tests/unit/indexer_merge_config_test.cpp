// The Indexer's merge policy keys (merge_min_postings, merge_minor_share,
// merge_major_share): read into IndexerOptions with their defaults, refused
// with the key named when they make no sense, and passed to the shard's
// exact sparse index (a small policy merges on little data; minor share 0
// never merges minor).
#include <doctest/doctest.h>

#include <string>

#include "caflow/errors.hpp"
#include "executors/indexer_shard.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

// The message IndexerOptions::from throws for `uses_with` ("" if none).
std::string refusal(Params uses_with) {
  try {
    (void)IndexerOptions::from(indexer_context("/unused", std::move(uses_with)));
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

// Document i: its own term 500 + i and up to 12 of the first 40 terms: about
// 13 postings each.
Document doc(uint32_t i) {
  std::vector<uint32_t> idx;
  for (uint32_t t = i % 3; t < 40 && idx.size() < 12; t += 3)
    idx.push_back(t);
  idx.push_back(500 + i);
  Document d;
  d.id = "d" + std::to_string(i);
  std::vector<float> val(idx.size(), 1.0f + static_cast<float>(i % 7));
  d.embedding = Embedding::sparse_vector(10000, std::move(idx), std::move(val));
  return d;
}

// Indexes `n` documents (20 per write) into an Indexer with `uses_with` and
// returns the merges its shard installed; every document is searchable.
// Each write waits for the merge it started, so that the merges due are the
// policy's, not the machine's (a merge still running when the next write
// comes lets the delta grow past the minor rule's share).
MergeCounts merges_after(const TempWorkspace& dir, Params uses_with, uint32_t n) {
  auto ctx = indexer_context(dir.path, std::move(uses_with));
  auto e = make_executor(ctx);
  // The executor's shard, shared with this second holder (one per process).
  auto shard = IndexerShard::open(ctx, IndexerOptions::from(ctx));
  for (uint32_t from = 0; from < n; from += 20) {
    DocumentArray batch;
    for (uint32_t i = from; i < from + 20; ++i)
      batch.push_back(doc(i));
    e->handle("/index", batch, {});
    shard->wait_background();
  }
  for (uint32_t i = 0; i < n; i += 17) {
    DocumentArray q;
    q.emplace_back().embedding = Embedding::sparse_vector(10000, {500 + i}, {1.0f});
    e->handle("/search", q, Params{{"top_k", 1}});
    REQUIRE(q[0].matches.size() == 1);
    CHECK(q[0].matches[0].id == "d" + std::to_string(i));
  }
  return shard->merges();
}

}  // namespace

TEST_CASE("indexer merge keys: defaults are MergePolicy's, given values are read") {
  auto defaults = IndexerOptions::from(indexer_context("/unused"));
  CHECK(defaults.merge.min_postings == MergePolicy{}.min_postings);
  CHECK(defaults.merge.minor_share == MergePolicy{}.minor_share);
  CHECK(defaults.merge.major_share == MergePolicy{}.major_share);
  auto given = IndexerOptions::from(indexer_context(
    "/unused",
    Params{{"merge_min_postings", 64}, {"merge_minor_share", 8}, {"merge_major_share", 2}}));
  CHECK(given.merge.min_postings == 64);
  CHECK(given.merge.minor_share == 8);
  CHECK(given.merge.major_share == 2);
  // JSON clients' 8.0 is 8; minor share 0 is MergePolicy::flat()'s "no minors".
  auto flat = IndexerOptions::from(
    indexer_context("/unused", Params{{"merge_minor_share", 0.0}, {"merge_major_share", 4.0}}));
  CHECK(flat.merge.minor_share == 0);
  CHECK(flat.merge.major_share == 4);
}

TEST_CASE("indexer merge keys: nonsense is refused, naming the executor and key") {
  CHECK(refusal(Params{{"merge_min_postings", 0}})
        == "indexer: uses_with.merge_min_postings: expected a positive integer, got 0");
  CHECK(refusal(Params{{"merge_min_postings", -5}})
        == "indexer: uses_with.merge_min_postings: expected a positive integer, got -5");
  CHECK(refusal(Params{{"merge_major_share", 0}})
        == "indexer: uses_with.merge_major_share: expected a positive integer, got 0");
  CHECK(refusal(Params{{"merge_minor_share", -1}})
        == "indexer: uses_with.merge_minor_share: expected 0 (no minor merges) or a positive "
           "integer, got -1");
  for (const char* key : {"merge_min_postings", "merge_minor_share", "merge_major_share"}) {
    CAPTURE(key);
    auto fraction = refusal(Params{{key, 2.5}});
    CHECK(fraction.find(std::string{"indexer: uses_with."} + key + ": expected an integer") == 0);
    auto text = refusal(Params{{key, "many"}});
    CHECK(text.find(std::string{"indexer: uses_with."} + key + ": expected an integer") == 0);
  }
}

TEST_CASE("indexer merge keys: the policy reaches the shard's sparse index") {
  // About 13 postings a document, 600 documents: ~8,000 postings.
  SUBCASE("the default policy merges nothing this small") {
    TempWorkspace dir;
    auto m = merges_after(dir, Params::object(), 600);
    CHECK(m.minor == 0);
    CHECK(m.major == 0);
  }
  SUBCASE("a small policy merges both ways") {
    TempWorkspace dir;
    auto m = merges_after(
      dir, Params{{"merge_min_postings", 64}, {"merge_minor_share", 16}, {"merge_major_share", 2}},
      600);
    CHECK(m.minor > 0);
    CHECK(m.major > 0);
  }
  SUBCASE("minor share 0: majors only") {
    TempWorkspace dir;
    auto m = merges_after(dir, Params{{"merge_min_postings", 64}, {"merge_minor_share", 0}}, 600);
    CHECK(m.minor == 0);
    CHECK(m.major > 0);
  }
}
