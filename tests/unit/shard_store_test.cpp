// The storage layer on its own: one shard's documents, embeddings, metadata
// and operation log in RocksDB, shards of one database kept apart.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "storage/shard_store.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

std::unique_ptr<ShardStore> open_store(const TempWorkspace& dir, uint32_t shard) {
  auto store = ShardStore::open(dir.path.string(), shard, {});
  REQUIRE_MESSAGE(store, describe(store));
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

TEST_CASE("usage by kind, and a compaction drops the cut part of the log") {
  TempWorkspace dir;
  auto store = open_store(dir, 0);
  const std::string body(4096, 'b');
  for (int round = 0; round < 3; ++round) {  // every document written 3 times
    ShardBatch batch;
    for (int i = 0; i < 200; ++i) {
      auto d = doc("d" + std::to_string(i), std::vector<float>(64, 0.5f));
      d.text = body + std::to_string(round);
      batch.put(d, static_cast<uint64_t>(i));
    }
    batch.append_log(static_cast<uint64_t>(round + 1), std::string(200 * 4096, 'o'));
    REQUIRE_FALSE(store->commit(batch, "writing"));
  }
  REQUIRE_FALSE(store->compact());  // on disk: memtable estimates are rough
  auto before = store->usage();
  REQUIRE(before);
  CHECK(before->documents > 0);
  CHECK(before->embeddings > 0);
  CHECK(before->log > 0);
  ShardBatch cut;
  cut.truncate_log(3);
  REQUIRE_FALSE(store->commit(cut, "truncating"));
  REQUIRE_FALSE(store->compact());
  auto after = store->usage();
  REQUIRE(after);
  // What is left: each document, one log record of three.
  CHECK(after->documents > 0);
  CHECK(after->log > 0);
  CHECK(after->log < before->log);
  CHECK(*store->count() == 200);
  size_t records = 0;
  REQUIRE_FALSE(store->scan_log(0, [&](uint64_t, std::string_view) {
    ++records;
    return true;
  }));
  CHECK(records == 1);
}

TEST_CASE("the Indexer's memtable_mb and block_cache_mb are what RocksDB runs with") {
  TempWorkspace ws;
  auto check_sizes = [&](Params with, uint64_t memtable, uint64_t cache) {
    TempWorkspace one;
    auto e = make_executor(indexer_context(one.path, std::move(with)));
    // The Indexer's database is open: this store shares its handle.
    auto store = ShardStore::open((one.path / "indexer").string(), 0, {});
    REQUIRE_MESSAGE(store, describe(store));
    auto memory = (*store)->memory();
    REQUIRE(memory);
    CHECK(memory->memtable_bytes == memtable);
    CHECK(memory->block_cache_bytes == cache);
  };
  check_sizes(Params{{"memtable_mb", 2}, {"block_cache_mb", 3}}, uint64_t{2} << 20,
              uint64_t{3} << 20);
  // The documented defaults (README, IndexerOptions: 16 and 32 MiB).
  check_sizes(Params::object(), uint64_t{16} << 20, uint64_t{32} << 20);
}
