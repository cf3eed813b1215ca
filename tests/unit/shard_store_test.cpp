// The storage layer on its own: one shard's documents, embeddings, metadata
// and operation log in RocksDB, shards of one database kept apart.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "storage/shard_store.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

std::unique_ptr<ShardStore> open_store(const TempWorkspace& dir, uint32_t shard) {
  auto store = ShardStore::open(dir.path.string(), shard, {});
  REQUIRE_MESSAGE(store, describe(store.error()));
  return std::move(*store);
}

Document doc(std::string id, std::vector<float> values = {}) {
  Document d;
  d.id = std::move(id);
  d.text = "text of " + d.id;
  d.embedding.values = std::move(values);
  return d;
}

}  // namespace

TEST_CASE("a shard store keeps documents with their embeddings and labels") {
  TempWorkspace dir;
  {
    auto store = open_store(dir, 0);
    ShardBatch batch;
    batch.put(doc("b", {1, 2}), 7);
    batch.put(doc("a"), 0);
    batch.put(doc("c", {3, 4}), 9);
    REQUIRE_FALSE(store->commit(batch, "writing"));
  }
  auto store = open_store(dir, 0);  // reopened: everything on disk
  auto got = store->get({"a", "b", "zz"}, true);
  REQUIRE(got);
  REQUIRE(got->size() == 3);
  REQUIRE((*got)[0]);
  CHECK((*got)[0]->text == "text of a");
  CHECK((*got)[0]->embedding.empty());
  REQUIRE((*got)[1]);
  CHECK((*got)[1]->embedding.values == std::vector<float>{1, 2});
  CHECK_FALSE((*got)[2]);
  auto bodies = store->get({"b"}, false);
  REQUIRE(bodies);
  CHECK((*bodies)[0]->embedding.empty());
  CHECK(*store->count() == 3);
  std::vector<std::pair<std::string, uint64_t>> labels;
  REQUIRE_FALSE(store->scan_labels(
    [&](std::string_view id, uint64_t label) { labels.emplace_back(id, label); }));
  CHECK(labels == std::vector<std::pair<std::string, uint64_t>>{{"b", 7}, {"c", 9}});
  std::vector<std::string> seen;
  REQUIRE_FALSE(store->scan_documents("b", [&](StoredDocument&& d) {
    seen.push_back(d.doc.id + (d.label ? "@" + std::to_string(*d.label) : ""));
    return true;
  }));
  CHECK(seen == std::vector<std::string>{"b@7", "c@9"});
}

TEST_CASE("a shard store replaces, removes and clears, keeping metadata") {
  TempWorkspace dir;
  auto store = open_store(dir, 0);
  ShardBatch batch;
  batch.put(doc("a", {1, 0}), 1);
  batch.put(doc("b", {0, 1}), 2);
  batch.put_meta("layout", "L1");
  REQUIRE_FALSE(store->commit(batch, "writing"));
  ShardBatch second;
  second.put(doc("a"), 0);  // replaced without an embedding: the old one goes
  second.remove("b");
  REQUIRE_FALSE(store->commit(second, "writing"));
  size_t vectors = 0;
  REQUIRE_FALSE(store->scan_embeddings([&](std::string_view, StoredEmbedding&&) { ++vectors; }));
  CHECK(vectors == 0);
  CHECK(*store->count() == 1);
  REQUIRE_FALSE(store->clear());
  CHECK(*store->count() == 0);
  CHECK(*store->get_meta("layout") == std::optional<std::string>{"L1"});
  CHECK_FALSE(*store->get_meta("absent"));
}

TEST_CASE("shards of one database never see each other's records") {
  TempWorkspace dir;
  auto zero = open_store(dir, 0);
  auto one = open_store(dir, 1);
  ShardBatch batch;
  batch.put(doc("x", {1}), 0);
  REQUIRE_FALSE(zero->commit(batch, "writing"));
  CHECK(*zero->count() == 1);
  CHECK(*one->count() == 0);
  CHECK_FALSE((*one->get({"x"}, false))[0]);
  REQUIRE_FALSE(one->clear());
  CHECK(*zero->count() == 1);
}

TEST_CASE("the operation log is kept in sequence order and truncated from below") {
  TempWorkspace dir;
  auto store = open_store(dir, 0);
  ShardBatch batch;
  for (uint64_t seq : {3, 256, 1, 70000})
    batch.append_log(seq, "op" + std::to_string(seq));
  REQUIRE_FALSE(store->commit(batch, "logging"));
  auto read = [&](uint64_t from) {
    std::vector<uint64_t> out;
    REQUIRE_FALSE(store->scan_log(from, [&](uint64_t seq, std::string_view record) {
      CHECK(record == "op" + std::to_string(seq));
      out.push_back(seq);
      return true;
    }));
    return out;
  };
  CHECK(read(0) == std::vector<uint64_t>{1, 3, 256, 70000});
  CHECK(read(4) == std::vector<uint64_t>{256, 70000});
  ShardBatch cut;
  cut.truncate_log(256);
  REQUIRE_FALSE(store->commit(cut, "truncating"));
  CHECK(read(0) == std::vector<uint64_t>{256, 70000});
}
