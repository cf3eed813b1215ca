// The Indexer in whole flows: shards=1 and shards=3 (/index by ANY or
// PARTITION, /search ALL) give the same exact top-k, counts add up, /fetch
// under ALL returns the stored documents, and unknown ids are reported only
// when no shard holds them.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "tests/random_vectors.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

DocumentArray make_docs(size_t n, uint32_t seed, const std::string& prefix) {
  std::mt19937 rng{seed};
  DocumentArray out;
  for (size_t i = 0; i < n; ++i) {
    auto& d = out.emplace_back();
    d.id = prefix + std::to_string(i);
    d.text = "text of " + d.id;
    d.embedding = gaussian_vector(rng, 16);
  }
  return out;
}

DocumentArray ids(std::initializer_list<std::string> xs) {
  DocumentArray out;
  for (const auto& x : xs)
    out.emplace_back().id = x;
  return out;
}

std::set<std::string> not_found(const PostResult& r) {
  std::set<std::string> out;
  if (const auto* nf = r.parameters.find("not_found"))
    for (const auto& v : nf->as_array())
      out.insert(v.as_string());
  return out;
}

RunningFlow start(const TempWorkspace& dir, uint32_t shards, const char* index_polling) {
  Flow flow{FlowOptions{.workspace = dir.path.string()}};
  flow.add({.name = "indexer",
            .uses = "Indexer",
            .shards = shards,
            .polling = {{"/index", index_polling}, {"/search", "ALL"}, {"*", "ALL"}}});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  return std::move(*running);
}

int64_t count(RunningFlow& flow) {
  auto r = flow.post("/count", {});
  REQUIRE_MESSAGE(r, describe(r));
  return r->parameters.get_int("count", -1);
}

/// id and score of every match, per query.
std::vector<std::vector<std::pair<std::string, double>>> search(RunningFlow& flow) {
  auto r = flow.post("/search", make_docs(20, 99, "q"),
                     {.request_size = 7, .parameters = {{"top_k", 5}}});
  REQUIRE_MESSAGE(r, describe(r));
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (const auto& q : r->docs) {
    auto& row = out.emplace_back();
    for (const auto& m : q.matches)
      row.emplace_back(m.id, m.score("cosine"));
  }
  return out;
}

}  // namespace

TEST_CASE("shards=3 gives the same exact top-k and count as shards=1") {
  for (const char* index_polling : {"ANY", "PARTITION"}) {
    CAPTURE(index_polling);
    TempWorkspace one_dir, three_dir;
    auto one = start(one_dir, 1, "ANY");
    auto three = start(three_dir, 3, index_polling);
    auto docs = make_docs(300, 1, "d");
    REQUIRE(one.post("/index", docs, {.request_size = 10}));
    REQUIRE(three.post("/index", docs, {.request_size = 10}));
    CHECK(count(one) == 300);
    CHECK(count(three) == 300);  // the shards' counts, summed by the head
    auto a = search(one);
    auto b = search(three);
    REQUIRE(a.size() == 20);
    REQUIRE(b.size() == 20);
    for (size_t j = 0; j < a.size(); ++j) {
      REQUIRE(a[j].size() == 5);
      REQUIRE(b[j].size() == 5);
      for (size_t r = 0; r < 5; ++r) {
        CHECK(a[j][r].first == b[j][r].first);
        CHECK(a[j][r].second == doctest::Approx(b[j][r].second));
      }
    }
  }
}

TEST_CASE("fetch and unknown ids under ALL over 3 shards") {
  TempWorkspace dir;
  auto flow = start(dir, 3, "ANY");
  auto docs = make_docs(30, 2, "d");
  REQUIRE(flow.post("/index", docs, {.request_size = 4}));

  // Every id lives on one shard; the stored copy comes back, not the empty
  // request document another shard saw.
  auto fetched = flow.post("/fetch", ids({"d3", "d17", "ghost", "d29"}));
  REQUIRE_MESSAGE(fetched, describe(fetched));
  std::set<std::string> got;
  for (const auto& d : fetched->docs) {
    got.insert(d.id);
    CHECK(d.text == "text of " + d.id);
    CHECK(d.embedding == docs.find(d.id)->embedding);
  }
  CHECK(got == std::set<std::string>{"d3", "d17", "d29"});
  CHECK(not_found(*fetched) == std::set<std::string>{"ghost"});

  // /update and /delete go to every shard: an id is unknown only if no shard has it.
  auto changed = ids({"d5", "nobody"});
  changed[0].text = "changed";
  changed[0].embedding = docs[5].embedding;
  auto updated = flow.post("/update", changed);
  REQUIRE_MESSAGE(updated, describe(updated));
  CHECK(not_found(*updated) == std::set<std::string>{"nobody"});
  CHECK(count(flow) == 30);
  auto again = flow.post("/fetch", ids({"d5"}));
  REQUIRE(again);
  REQUIRE(again->docs.size() == 1);
  CHECK(again->docs[0].text == "changed");

  // Several requests of one post: their reports are joined.
  auto deleted = flow.post("/delete", ids({"d1", "x1", "d2", "x2", "d3"}), {.request_size = 2});
  REQUIRE_MESSAGE(deleted, describe(deleted));
  CHECK(not_found(*deleted) == std::set<std::string>{"x1", "x2"});
  CHECK(count(flow) == 27);
}

TEST_CASE("PARTITION routes updates and deletes to the owning shard") {
  TempWorkspace dir;
  Flow flow{FlowOptions{.workspace = dir.path.string()}};
  flow.add({.name = "indexer",
            .uses = "Indexer",
            .shards = 3,
            .polling = {{"/search", "ALL"}, {"/count", "ALL"}, {"*", "PARTITION"}}});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  REQUIRE(running->post("/index", make_docs(30, 3, "d")));
  auto deleted = running->post("/delete", ids({"d1", "x1", "d2", "x2", "x3", "d3"}));
  REQUIRE_MESSAGE(deleted, describe(deleted));
  CHECK(not_found(*deleted) == std::set<std::string>{"x1", "x2", "x3"});
  CHECK(count(*running) == 27);
  auto fetched = running->post("/fetch", ids({"d4", "d1"}));
  REQUIRE(fetched);
  REQUIRE(fetched->docs.size() == 1);
  CHECK(fetched->docs[0].text == "text of d4");
  CHECK(not_found(*fetched) == std::set<std::string>{"d1"});
}

TEST_CASE("searches without top_k (or with a null one) return the Indexer's default over shards") {
  for (uint32_t shards : {2u, 3u}) {
    CAPTURE(shards);
    TempWorkspace dir;
    auto flow = start(dir, shards, "PARTITION");
    REQUIRE(flow.post("/index", make_docs(100, 3, "d"), {.request_size = 25}));
    for (auto params : {Params::object(), Params{{"top_k", nullptr}}}) {
      auto r = flow.post("/search", make_docs(4, 7, "q"), {.parameters = params});
      REQUIRE_MESSAGE(r, describe(r));
      REQUIRE(r->docs.size() == 4);
      for (const auto& q : r->docs)
        CHECK(q.matches.size() == 10);  // not 10 per shard
    }
  }
  // A default changed in uses_with is the one the head cuts to.
  TempWorkspace dir;
  Flow flow{FlowOptions{.workspace = dir.path.string()}};
  flow.add({.name = "indexer",
            .uses = "Indexer",
            .uses_with = {{"default_top_k", 3}},
            .shards = 2,
            .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  REQUIRE(running->post("/index", make_docs(50, 3, "d")));
  auto r = running->post("/search", make_docs(2, 7, "q"));
  REQUIRE(r);
  for (const auto& q : r->docs)
    CHECK(q.matches.size() == 3);
}

TEST_CASE("ties: three shards return exactly the ids of one shard, ordered by id") {
  // 90 documents over 3 distinct vectors, written in a shuffled order (so
  // labels do not follow ids): every query ties 30 ways at the top-k cut.
  for (bool sparse : {false, true}) {
    CAPTURE(sparse);
    std::vector<Embedding> distinct;
    for (uint32_t v = 0; v < 3; ++v)
      distinct.push_back(sparse ? Embedding::sparse_vector(50, {v, v + 10}, {1.0f, 0.5f})
                                : Embedding::dense_vector({1.0f * v, 1.0f, 0.5f}));
    DocumentArray docs;
    for (int i = 0; i < 90; ++i) {
      auto& d = docs.emplace_back();
      d.id = "doc-" + std::to_string(1000 + i * 37 % 90);
      d.embedding = distinct[static_cast<size_t>(i % 3)];
    }
    std::mt19937 rng{7};
    std::shuffle(docs.begin(), docs.end(), rng);
    TempWorkspace one_dir, three_dir;
    auto one = start(one_dir, 1, "ANY");
    auto three = start(three_dir, 3, "PARTITION");
    REQUIRE(one.post("/index", docs, {.request_size = 7}));
    REQUIRE(three.post("/index", docs, {.request_size = 7}));
    DocumentArray queries;
    for (const auto& e : distinct)
      queries.emplace_back().embedding = e;
    auto a = one.post("/search", queries, {.parameters = {{"top_k", 11}}});
    auto b = three.post("/search", queries, {.parameters = {{"top_k", 11}}});
    REQUIRE_MESSAGE(a, describe(a));
    REQUIRE_MESSAGE(b, describe(b));
    REQUIRE(a->docs.size() == 3);
    REQUIRE(b->docs.size() == 3);
    for (size_t j = 0; j < 3; ++j) {
      std::vector<std::string> ids_a, ids_b;
      for (const auto& m : a->docs[j].matches)
        ids_a.push_back(m.id);
      for (const auto& m : b->docs[j].matches)
        ids_b.push_back(m.id);
      CHECK(ids_a.size() == 11);
      CHECK(ids_a == ids_b);
      // The 30 copies of the query's own vector tie first: the smallest ids.
      std::vector<std::string> own;
      for (const auto& d : docs)
        if (d.embedding.values == distinct[j].values && d.embedding.indices == distinct[j].indices)
          own.push_back(d.id);
      std::sort(own.begin(), own.end());
      own.resize(11);
      CHECK(ids_a == own);
    }
  }
}
