// The Indexer's exact sparse index merges its delta on a thread of the
// shard's own while the shard is written and searched: every search sees
// every write before it (a merge in flight or not), and closing the
// executor with a merge in flight loses nothing.
#include <doctest/doctest.h>

#include <random>

#include "caflow/executor.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

constexpr uint32_t dim = 100000;
constexpr uint32_t common_terms = 60;

/// Document i: its own term 1000 + i (weight 5) and 60 of the first 200
/// terms (weight 1): ~61 postings each, so that merges come due within a
/// few thousand documents.
Document doc(uint32_t i, uint32_t version = 0) {
  std::mt19937 rng{i * 7919 + version};
  std::vector<uint32_t> idx;
  for (uint32_t t = 0; t < 200 && idx.size() < common_terms; ++t)
    if (rng() % 3 == 0)
      idx.push_back(t);
  idx.push_back(1000 + i);
  std::vector<float> val(idx.size(), 1.0f);
  val.back() = 5.0f;
  Document d;
  d.id = "m" + std::to_string(i);
  d.embedding = Embedding::sparse_vector(dim, std::move(idx), std::move(val));
  return d;
}

/// The id of the best match for document i's own term ("" when none).
std::string best_for(Executor& e, uint32_t i) {
  DocumentArray q;
  q.emplace_back().embedding = Embedding::sparse_vector(dim, {1000 + i}, {1.0f});
  e.handle("/search", q, Params{{"top_k", 1}});
  return q[0].matches.empty() ? "" : q[0].matches[0].id;
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, {}).get_int("count", -1);
}

}  // namespace

TEST_CASE("indexer: searches see every write while sparse merges run in the background") {
  TempWorkspace dir;
  std::mt19937 rng{3};
  const uint32_t n = 4000;
  std::vector<bool> present(n + 1200, false);
  int64_t stored = 0;
  {
    auto e = make_executor(indexer_context(dir.path));
    for (uint32_t from = 0; from < n; from += 100) {
      DocumentArray batch;
      for (uint32_t i = from; i < from + 100; ++i)
        batch.push_back(doc(i));
      e->handle("/index", batch, {});
      for (uint32_t i = from; i < from + 100; ++i)
        present[i] = true;
      // Deletes of older documents (merged or not).
      DocumentArray gone;
      for (int j = 0; j < 5; ++j) {
        auto victim = static_cast<uint32_t>(rng() % (from + 100));
        if (present[victim]) {
          gone.emplace_back().id = "m" + std::to_string(victim);
          present[victim] = false;
        }
      }
      e->handle("/delete", gone, {});
      // Every write so far is seen, whatever a merge is doing.
      for (int j = 0; j < 5; ++j) {
        auto probe = static_cast<uint32_t>(rng() % (from + 100));
        CAPTURE(probe);
        CHECK(best_for(*e, probe) == (present[probe] ? "m" + std::to_string(probe) : ""));
      }
      auto newest = from + 99;
      CHECK(best_for(*e, newest) == (present[newest] ? "m" + std::to_string(newest) : ""));
    }
    stored = std::count(present.begin(), present.end(), true);
    CHECK(count(*e) == stored);
    // Updates move a document to another own term's neighbourhood: the
    // old vector must stop matching at once.
    DocumentArray updates;
    for (uint32_t i = 0; i < 50; ++i) {
      if (!present[i])
        continue;
      auto d = doc(i, 1);
      d.embedding.indices.back() = 1000 + 2 * n + i;
      updates.push_back(std::move(d));
    }
    e->handle("/update", updates, {});
    for (const auto& d : updates) {
      auto i = static_cast<uint32_t>(std::stoul(d.id.substr(1)));
      CHECK(best_for(*e, i).empty());
      CHECK(best_for(*e, 2 * n + i) == d.id);
      present[i] = false;  // its own term is another one now
    }
    // Closed right after more writes, a merge possibly in flight: it is
    // cancelled, and nothing is lost.
    for (uint32_t from = n; from < n + 1200; from += 100) {
      DocumentArray batch;
      for (uint32_t i = from; i < from + 100; ++i) {
        batch.push_back(doc(i));
        present[i] = true;
      }
      e->handle("/index", batch, {});
      stored += 100;
    }
  }
  auto e = make_executor(indexer_context(dir.path));
  CHECK(count(*e) == stored);
  for (uint32_t i = 0; i < n + 1200; i += 37) {
    CAPTURE(i);
    CHECK(best_for(*e, i) == (present[i] ? "m" + std::to_string(i) : ""));
  }
}
