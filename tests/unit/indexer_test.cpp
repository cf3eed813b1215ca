// The Indexer executor used directly (no actors): persistence across
// reopen, updates and deletes with unknown ids, errors, fetch/count/clear,
// and replicas of a shard sharing one state.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "caflow/executor.hpp"
#include "tests/random_vectors.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

ExecutorContext context(const TempWorkspace& dir, Params uses_with = Params::object(),
                        uint32_t shard = 0, uint32_t replica = 0) {
  auto ctx = indexer_context(dir.path, std::move(uses_with));
  ctx.shard_id = shard;
  ctx.replica_id = replica;
  ctx.replicas = 2;
  return ctx;
}

DocumentArray docs_with_vectors(size_t n, uint32_t dim, uint32_t seed,
                                const std::string& prefix = "d") {
  std::mt19937 rng{seed};
  DocumentArray out;
  for (size_t i = 0; i < n; ++i) {
    auto& d = out.emplace_back();
    d.id = prefix + std::to_string(i);
    d.text = "text of " + d.id;
    d.uri = "file://" + d.id;
    d.tags["i"] = static_cast<int64_t>(i);
    d.embedding = test::gaussian_vector(rng, dim);
  }
  return out;
}

DocumentArray ids(std::initializer_list<const char*> xs) {
  DocumentArray out;
  for (const char* x : xs)
    out.emplace_back().id = x;
  return out;
}

std::vector<std::string> not_found(const Params& p) {
  std::vector<std::string> out;
  if (const auto* nf = p.find("not_found"))
    for (const auto& v : nf->as_array())
      out.push_back(v.as_string());
  return out;
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, {}).get_int("count", -1);
}

/// (id, score) of every match of every query.
std::vector<std::vector<std::pair<std::string, double>>> search(
  Executor& e, DocumentArray queries, int64_t top_k, const std::string& metric = "cosine") {
  e.handle("/search", queries, Params{{"top_k", top_k}});
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (const auto& q : queries) {
    auto& row = out.emplace_back();
    for (const auto& m : q.matches)
      row.emplace_back(m.id, m.score(metric));
  }
  return out;
}

}  // namespace

TEST_CASE("index, close, reopen: every document and its searchability survive") {
  for (const char* kind : {"exact", "hnsw"}) {
    CAPTURE(kind);
    TempWorkspace dir;
    auto ctx = context(dir, Params{{"index", kind}, {"max_elements", 16}});
    auto docs = docs_with_vectors(300, 12, 1);
    auto queries = docs_with_vectors(10, 12, 2, "q");
    decltype(search(std::declval<Executor&>(), queries, 5)) before;
    {
      auto e = make_executor(ctx);
      auto copy = docs;
      e->handle("/index", copy, {});
      before = search(*e, queries, 5);
      e->close();
    }
    REQUIRE(before[0].size() == 5);
    if (std::string{kind} == "hnsw")
      CHECK(std::filesystem::exists(dir.path / "indexer" / "shard-0.hnsw"));
    {
      auto e = make_executor(ctx);
      CHECK(count(*e) == 300);
      auto after = search(*e, queries, 5);
      REQUIRE(after.size() == before.size());
      for (size_t j = 0; j < after.size(); ++j)
        for (size_t r = 0; r < after[j].size(); ++r) {
          CHECK(after[j][r].first == before[j][r].first);
          CHECK(after[j][r].second == doctest::Approx(before[j][r].second));
        }
      // A write after the graph was loaded invalidates it: a document
      // indexed now must be found after the next reopen too.
      auto extra = docs_with_vectors(1, 12, 3, "extra");
      e->handle("/index", extra, {});
      e->close();
    }
    {
      // Marker present but file gone: the graph is rebuilt from the data.
      std::filesystem::remove(dir.path / "indexer" / "shard-0.hnsw");
      auto e = make_executor(ctx);
      CHECK(count(*e) == 301);
      auto q = docs_with_vectors(1, 12, 3, "extra");
      auto hits = search(*e, q, 1);
      CHECK(hits[0].at(0).first == "extra0");
      CHECK(hits[0][0].second == doctest::Approx(1.0));
      e->close();
    }
  }
}

TEST_CASE("search: matches carry the stored fields, scores, and no embedding unless asked") {
  TempWorkspace dir;
  auto e = make_executor(context(dir, Params{{"metric", "euclidean"}, {"default_top_k", 3}}));
  auto docs = docs_with_vectors(20, 4, 5);
  e->handle("/index", docs, {});
  DocumentArray queries;
  queries.push_back(docs[7]);
  queries.emplace_back().text = "no embedding";
  e->handle("/search", queries, {});
  REQUIRE(queries[0].matches.size() == 3);  // default_top_k
  const auto& best = queries[0].matches[0];
  CHECK(best.id == "d7");
  CHECK(best.text == "text of d7");
  CHECK(best.uri == "file://d7");
  CHECK(best.tags.get_int("i", -1) == 7);
  CHECK(best.embedding.empty());
  CHECK(best.score("euclidean", -1) == doctest::Approx(0.0));
  CHECK(queries[0].matches[1].score("euclidean") >= best.score("euclidean"));
  CHECK(queries[1].matches.empty());
  e->handle("/search", queries, Params{{"top_k", 2}, {"return_embeddings", true}});
  CHECK(queries[0].matches.size() == 2);
  CHECK(queries[0].matches[0].embedding == docs[7].embedding);
}

TEST_CASE("update and delete report unknown ids and never insert them") {
  TempWorkspace dir;
  auto e = make_executor(context(dir));
  auto docs = docs_with_vectors(5, 4, 6);
  e->handle("/index", docs, {});

  auto changed = docs_with_vectors(1, 4, 7, "d");  // id d0, a new vector and text
  changed[0].text = "changed";
  changed.push_back(ids({"ghost"})[0]);
  auto p = e->handle("/update", changed, {});
  CHECK(not_found(p) == std::vector<std::string>{"ghost"});
  CHECK(count(*e) == 5);
  auto fetched = ids({"d0", "ghost"});
  p = e->handle("/fetch", fetched, {});
  REQUIRE(fetched.size() == 1);
  CHECK(fetched[0].text == "changed");
  CHECK(fetched[0].embedding == changed[0].embedding);
  CHECK(not_found(p) == std::vector<std::string>{"ghost"});
  // The update is searchable under its new vector.
  auto q = DocumentArray{changed[0]};
  CHECK(search(*e, q, 1)[0].at(0).first == "d0");

  auto gone = ids({"d1", "nobody", "d2"});
  p = e->handle("/delete", gone, {});
  CHECK(not_found(p) == std::vector<std::string>{"nobody"});
  CHECK(gone.size() == 3);  // the request's documents pass through
  CHECK(count(*e) == 3);
  auto all = docs_with_vectors(5, 4, 6);
  for (const auto& row : search(*e, all, 10))
    for (const auto& [id, score] : row)
      CHECK((id != "d1" && id != "d2"));
  p = e->handle("/delete", gone, {});
  CHECK(not_found(p) == std::vector<std::string>{"d1", "nobody", "d2"});
  // Re-indexing an existing id replaces it (Jina's behaviour).
  auto again = docs_with_vectors(5, 4, 6);
  e->handle("/index", again, {});
  CHECK(count(*e) == 5);
}

TEST_CASE("a query of another dimension fails the request, naming both") {
  TempWorkspace dir;
  auto e = make_executor(context(dir));
  auto docs = docs_with_vectors(3, 5, 8);
  e->handle("/index", docs, {});
  auto queries = docs_with_vectors(1, 3, 9);
  try {
    e->handle("/search", queries, {});
    FAIL("no error");
  } catch (const Error& err) {
    CHECK(err.code() == errc::dimension_mismatch);
    CHECK(std::string{err.what()} == "indexer/shard-0: query dimension 3 != index dimension 5");
  }
  // A document of another dimension is refused; nothing of its request is stored.
  auto mixed = docs_with_vectors(2, 5, 10, "m");
  mixed.push_back(docs_with_vectors(1, 3, 11, "bad")[0]);
  CHECK_THROWS_AS(e->handle("/index", mixed, {}), Error);
  CHECK(count(*e) == 3);
  // Bad options fail construction, naming the key.
  TempWorkspace other;
  auto bad = ExecutorRegistry::instance().create(context(other, Params{{"index", "faiss"}}));
  REQUIRE_FALSE(bad);
  CHECK(error_message(bad.error()).find("uses_with.index") != std::string::npos);
}

TEST_CASE("sparse documents: exact search with sparse and dense queries") {
  TempWorkspace dir;
  auto e = make_executor(context(dir));
  DocumentArray docs;
  for (uint32_t i = 0; i < 10; ++i) {
    auto& d = docs.emplace_back();
    d.id = "s" + std::to_string(i);
    d.embedding = Embedding::sparse_vector(1000, {i, 100 + i, 500}, {1.0f, 2.0f, 0.5f});
  }
  e->handle("/index", docs, {});
  DocumentArray q;
  q.emplace_back().embedding = Embedding::sparse_vector(1000, {4, 104}, {1.0f, 2.0f});
  q.emplace_back().embedding = Embedding::dense_vector(docs[6].embedding.to_dense());
  auto hits = search(*e, q, 3);
  CHECK(hits[0].at(0).first == "s4");
  CHECK(hits[1].at(0).first == "s6");
  CHECK(hits[1][0].second == doctest::Approx(1.0));
  // A dense document cannot join the sparse index.
  auto dense = docs_with_vectors(1, 1000, 12);
  CHECK_THROWS_AS(e->handle("/index", dense, {}), Error);
}

TEST_CASE("fetch, count, clear, and documents without embeddings") {
  TempWorkspace dir;
  auto e = make_executor(context(dir));
  DocumentArray docs = docs_with_vectors(4, 3, 13);
  auto& plain = docs.emplace_back();
  plain.id = "plain";
  plain.text = "no vector";
  plain.mime_type = "text/plain";
  e->handle("/index", docs, {});
  CHECK(count(*e) == 5);
  auto f = ids({"plain", "d2"});
  auto p = e->handle("/fetch", f, {});
  REQUIRE(f.size() == 2);
  CHECK(f[0].text == "no vector");
  CHECK(f[0].mime_type == "text/plain");
  CHECK(f[1].embedding == docs[2].embedding);
  CHECK(not_found(p).empty());
  auto queries = docs_with_vectors(1, 3, 13);
  auto hits = search(*e, queries, 10);
  CHECK(hits[0].size() == 4);
  for (const auto& [id, score] : hits[0])
    CHECK(id != "plain");  // stored, but not searchable
  DocumentArray passthrough = ids({"x"});
  e->handle("/whatever", passthrough, {});
  CHECK(passthrough.size() == 1);
  DocumentArray none;
  e->handle("/clear", none, {});
  CHECK(count(*e) == 0);
  CHECK(search(*e, queries, 10)[0].empty());
  e->close();
  auto reopened = make_executor(context(dir));
  CHECK(count(*reopened) == 0);
}

TEST_CASE("replicas of one shard share its state; shards do not") {
  TempWorkspace dir;
  auto r0 = make_executor(context(dir, Params::object(), 0, 0));
  auto r1 = make_executor(context(dir, Params::object(), 0, 1));
  auto other = make_executor(context(dir, Params::object(), 1, 0));
  auto docs = docs_with_vectors(7, 4, 14);
  r0->handle("/index", docs, {});
  CHECK(count(*r1) == 7);
  CHECK(count(*other) == 0);
  auto q = docs_with_vectors(1, 4, 14);
  CHECK(search(*r1, q, 1)[0].at(0).first == "d0");
  auto gone = ids({"d0"});
  r1->handle("/delete", gone, {});
  CHECK(count(*r0) == 6);
  r0->close();
  CHECK(count(*r1) == 6);  // the shard stays open while a replica holds it
  r1->close();
  other->close();
  auto again = make_executor(context(dir));
  CHECK(count(*again) == 6);
}
