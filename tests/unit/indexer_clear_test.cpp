// /clear gives back what the shard held: its disk (the RocksDB files of its
// column family, measured like du) and its memory, and stays a clear across
// reopen without touching the other shards.
#include <doctest/doctest.h>

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "caflow/executor.hpp"
#include "tests/random_vectors.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Executor> indexer(const TempWorkspace& dir, const char* kind, uint32_t shard = 0) {
  auto ctx = indexer_context(dir.path, Params{{"index", kind}, {"max_elements", 4096}});
  ctx.shard_id = shard;
  ctx.shards = 2;
  return make_executor(ctx);
}

// `n` documents with ~2 KB of text and a 64-d vector each.
DocumentArray docs(size_t n, const std::string& prefix) {
  std::mt19937 rng{7};
  DocumentArray out;
  for (size_t i = 0; i < n; ++i) {
    auto& d = out.emplace_back();
    d.id = prefix + std::to_string(i);
    for (int w = 0; w < 200; ++w)
      d.text += "word" + std::to_string(rng() % 100000) + " ";
    d.embedding = test::gaussian_vector(rng, 64);
  }
  return out;
}

// What `du -s` counts: the bytes of every file under `dir`.
uintmax_t disk_bytes(const fs::path& dir) {
  uintmax_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec))
      total += it->file_size(ec);
  return total;
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, {}).get_int("count", -1);
}

// Bytes allocated by this thread's malloc arena (the indexer runs here).
size_t heap_in_use() {
  return mallinfo2().uordblks;
}

}  // namespace

TEST_CASE("clear: the disk and the memory come back") {
  for (const char* kind : {"exact", "hnsw"}) {
    CAPTURE(kind);
    TempWorkspace dir;
    auto baseline_heap = heap_in_use();
    auto ex = indexer(dir, kind);
    auto empty_disk = disk_bytes(dir.path);
    for (int batch = 0; batch < 6; ++batch) {
      auto d = docs(500, "b" + std::to_string(batch) + "-");
      ex->handle("/index", d, {});
    }
    REQUIRE(count(*ex) == 3000);
    auto full_disk = disk_bytes(dir.path);
    auto full_heap = heap_in_use();
    REQUIRE(full_disk > empty_disk + 5'000'000);  // 3000 x ~2 KB of text, at least
    DocumentArray none;
    ex->handle("/clear", none, {});
    CHECK(count(*ex) == 0);
    // Obsolete files are deleted by RocksDB after the compaction: wait for
    // it, bounded.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (disk_bytes(dir.path) > empty_disk + (full_disk - empty_disk) / 10
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto cleared_disk = disk_bytes(dir.path);
    INFO("disk: empty " << empty_disk << ", full " << full_disk << ", cleared " << cleared_disk);
    CHECK(cleared_disk < empty_disk + (full_disk - empty_disk) / 10);
    auto cleared_heap = heap_in_use();
    INFO("heap: baseline " << baseline_heap << ", full " << full_heap << ", cleared "
                           << cleared_heap);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // ASan's allocator keeps freed memory in quarantine, TSan's has its own
    // heap: glibc's heap figures say nothing under either.
    CHECK(cleared_heap < baseline_heap + (full_heap - baseline_heap) / 2);
#endif

    // Still an indexer: new documents (of another dimension, too) go in.
    DocumentArray again;
    auto& d = again.emplace_back();
    d.id = "new";
    d.embedding = Embedding::dense_vector({1, 2, 3});
    ex->handle("/index", again, {});
    CHECK(count(*ex) == 1);
    ex.reset();
    auto reopened = indexer(dir, kind);
    CHECK(count(*reopened) == 1);  // the clear was durable, the new doc too
  }
}

TEST_CASE("clear: one shard's clear leaves the other shard of the database alone") {
  TempWorkspace dir;
  auto zero = indexer(dir, "exact", 0);
  auto one = indexer(dir, "exact", 1);
  auto a = docs(50, "a");
  auto b = docs(70, "b");
  zero->handle("/index", a, {});
  one->handle("/index", b, {});
  DocumentArray none;
  zero->handle("/clear", none, {});
  CHECK(count(*zero) == 0);
  CHECK(count(*one) == 70);
  DocumentArray query;
  query.emplace_back().embedding = b[3].embedding;
  one->handle("/search", query, Params{{"top_k", 1}});
  REQUIRE(query[0].matches.size() == 1);
  CHECK(query[0].matches[0].id == "b3");
  // Clearing an empty shard is fine, twice.
  zero->handle("/clear", none, {});
  zero->handle("/clear", none, {});
  zero.reset();
  one.reset();
  CHECK(count(*indexer(dir, "exact", 1)) == 70);
  CHECK(count(*indexer(dir, "exact", 0)) == 0);
}
