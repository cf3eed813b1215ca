#include <doctest/doctest.h>

#include <set>

#include "caflow/document.hpp"
#include "caflow/errors.hpp"

using namespace caflow;

TEST_CASE("documents get unique ids") {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i)
    ids.insert(Document{}.id);
  CHECK(ids.size() == 10000);
  CHECK(Document{}.id.size() == 32);
}

TEST_CASE("embeddings: dense, sparse, validation") {
  auto d = Embedding::dense_vector({1, 2, 3});
  CHECK(d.dimension() == 3);
  CHECK_FALSE(d.sparse);
  auto s = Embedding::sparse_vector(5, {1, 3}, {0.5f, 2.0f});
  CHECK(s.dimension() == 5);
  CHECK(s.to_dense() == std::vector<float>{0, 0.5f, 0, 2.0f, 0});
  CHECK(Embedding{}.empty());
  CHECK_THROWS_AS(Embedding::sparse_vector(5, {3, 1}, {1, 1}), Error);
  CHECK_THROWS_AS(Embedding::sparse_vector(2, {3}, {1}), Error);
  CHECK_THROWS_AS(Embedding::sparse_vector(5, {1}, {1, 2}), Error);
}

TEST_CASE("pack_bytes round trip") {
  std::vector<float> xs{1.5f, -2.25f, 0.0f};
  std::vector<float> back;
  REQUIRE(unpack_bytes(pack_bytes(xs), back));
  CHECK(back == xs);
  CHECK_FALSE(unpack_bytes(std::string(5, 'x'), back));
}

TEST_CASE("DocumentArray keeps order and finds by id") {
  DocumentArray docs;
  for (int i = 0; i < 100; ++i) {
    auto& d = docs.emplace_back();
    d.id = "doc-" + std::to_string(i);
    d.text = "text " + std::to_string(i);
  }
  CHECK(docs.size() == 100);
  CHECK(docs[42].id == "doc-42");
  REQUIRE(docs.find("doc-77") != nullptr);
  CHECK(docs.find("doc-77")->text == "text 77");
  CHECK(docs.find("nope") == nullptr);
  // Mutation through a non-const accessor invalidates the index.
  docs[77].id = "renamed";
  CHECK_FALSE(docs.contains("doc-77"));
  CHECK(docs.contains("renamed"));
  DocumentArray more{docs[0], docs[1]};
  docs.append(more);
  CHECK(docs.size() == 102);
  CHECK(docs.ids().front() == "doc-0");
}

TEST_CASE("repeated ids: find returns the first") {
  DocumentArray docs;
  for (int i = 0; i < 20; ++i) {
    auto& d = docs.emplace_back();
    d.id = "same";
    d.text = std::to_string(i);
  }
  CHECK(std::as_const(docs).find("same")->text == "0");
}
