// HNSW checkpoints: restoring a saved graph plus the vectors written since
// equals the stored data exactly (or is refused); and an Indexer process
// killed after checkpoints and more writes (no close, no save) reopens with
// every acknowledged vector searchable, deleted ones gone, updated ones new.
// Also: the graph file's checksum is the standard CRC-32.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <unistd.h>
#include <boost/crc.hpp>

#include "caflow/executor.hpp"
#include "index/hnsw_index.hpp"
#include "storage/atomic_file.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

Embedding random_vector(std::mt19937& rng, uint32_t dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (auto& x : v)
    x = g(rng);
  return Embedding::dense_vector(std::move(v));
}

const char* crash_env = "CAFLOW_TEST_HNSW_CRASH_DIR";

ExecutorContext context(const std::string& dir) {
  return indexer_context(dir, Params{{"index", "hnsw"}, {"checkpoint_writes", 50}});
}

DocumentArray docs(size_t from, size_t to, uint32_t seed) {
  std::mt19937 rng{seed};
  DocumentArray out;
  for (size_t i = from; i < to; ++i) {
    auto& d = out.emplace_back();
    d.id = "d" + std::to_string(i);
    d.embedding = random_vector(rng, 32);
  }
  return out;
}

}  // namespace

TEST_CASE("HNSW restore: a checkpoint plus the changed vectors equals the data") {
  TempWorkspace dir;
  auto path = (dir.path / "graph.hnsw").string();
  std::mt19937 rng{3};
  HnswIndex index{Metric::cosine, {}};
  std::vector<Embedding> vectors;
  for (uint64_t l = 0; l < 200; ++l) {
    vectors.push_back(random_vector(rng, 24));
    index.upsert(l, vectors.back());
  }
  index.save(path);
  // After the checkpoint: 20 deleted, 20 updated, 30 added.
  std::vector<uint64_t> stored;
  std::vector<std::pair<uint64_t, Embedding>> changed;
  for (uint64_t l = 20; l < 200; ++l)
    stored.push_back(l);
  for (uint64_t l = 20; l < 40; ++l) {
    vectors[l] = random_vector(rng, 24);
    changed.emplace_back(l, vectors[l]);
  }
  for (uint64_t l = 200; l < 230; ++l) {
    vectors.push_back(random_vector(rng, 24));
    changed.emplace_back(l, vectors.back());
    stored.push_back(l);
  }
  HnswIndex restored{Metric::cosine, {}};
  REQUIRE(restored.restore(path, 24, stored, changed));
  CHECK(restored.size() == stored.size());
  for (auto l : stored) {
    auto hits = restored.search({&vectors[l]}, 1)[0];
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].label == l);
  }
  // A stored label that neither the file nor the changes hold: refused.
  stored.push_back(999);
  HnswIndex refused{Metric::cosine, {}};
  CHECK_FALSE(refused.restore(path, 24, stored, changed));
  CHECK(refused.size() == 0);
  CHECK_FALSE(refused.restore((dir.path / "missing").string(), 24, {}, {}));
}

// Runs only when re-executed by the next test: writes, checkpoints, writes
// more, then dies without closing anything.
TEST_CASE("HNSW crash child (a no-op unless re-executed)") {
  const char* dir = std::getenv(crash_env);
  if (dir == nullptr)
    return;
  auto e = ExecutorRegistry::instance().create(context(dir));
  if (!e)
    std::_Exit(2);
  for (size_t from = 0; from < 120; from += 10) {  // checkpoints at 50 and 100
    auto batch = docs(from, from + 10, static_cast<uint32_t>(from));
    (*e)->handle("/index", batch, {});
  }
  auto updated = docs(0, 10, 777);  // new vectors for d0..d9
  (*e)->handle("/update", updated, {});
  auto gone = docs(110, 120, 0);
  (*e)->handle("/delete", gone, {});
  auto more = docs(120, 135, 120);
  (*e)->handle("/index", more, {});
  std::_Exit(0);  // a crash: no destructor saves the graph
}

TEST_CASE("HNSW crash restart: every acknowledged vector is searchable") {
  TempWorkspace dir;
  char self[4096];
  auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  self[n] = '\0';
  auto cmd = std::string{crash_env} + "='" + dir.path.string() + "' '" + self
             + "' -tc='HNSW crash child*' > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(std::filesystem::exists(dir.path / "indexer" / "shard-0.hnsw"));  // a checkpoint

  auto e = ExecutorRegistry::instance().create(context(dir.path.string()));
  REQUIRE_MESSAGE(e, describe(e));
  DocumentArray none;
  CHECK((*e)->handle("/count", none, {}).get_int("count", -1) == 125);
  // Expected: d0..d9 with their updated vectors, d10..d109, d120..d134.
  DocumentArray expected = docs(0, 10, 777);
  for (size_t from = 10; from < 110; from += 10)
    for (auto& d : docs(from, from + 10, static_cast<uint32_t>(from)))
      expected.push_back(std::move(d));
  for (auto& d : docs(120, 135, 120))
    expected.push_back(std::move(d));
  DocumentArray queries = expected;
  (*e)->handle("/search", queries, Params{{"top_k", 3}});
  std::set<std::string> deleted;
  for (size_t i = 110; i < 120; ++i)
    deleted.insert("d" + std::to_string(i));
  for (size_t j = 0; j < queries.size(); ++j) {
    CAPTURE(expected[j].id);
    REQUIRE(!queries[j].matches.empty());
    CHECK(queries[j].matches[0].id == expected[j].id);
    CHECK(queries[j].matches[0].score("cosine") == doctest::Approx(1.0).epsilon(1e-4));
    for (const auto& m : queries[j].matches)
      CHECK(deleted.count(m.id) == 0);
  }
}

TEST_CASE("file_crc32 is the standard CRC-32 (graph markers saved by earlier builds stay valid)") {
  TempWorkspace ws;
  auto write = [&](const std::string& name, const std::string& bytes) {
    auto path = (ws.path / name).string();
    std::ofstream{path, std::ios::binary} << bytes;
    return path;
  };
  CHECK(*file_crc32(write("check", "123456789")) == 0xCBF43926u);  // the CRC-32 check value
  CHECK(*file_crc32(write("empty", "")) == 0u);
  // Several read buffers' worth, against boost::crc_32_type (what markers
  // were computed with before zlib).
  std::mt19937 rng{3};
  std::string big(3 * (1 << 20) + 12345, '\0');
  for (auto& c : big)
    c = static_cast<char>(rng());
  boost::crc_32_type reference;
  reference.process_bytes(big.data(), big.size());
  CHECK(*file_crc32(write("big", big)) == reference.checksum());
  CHECK_FALSE(file_crc32((ws.path / "missing").string()));
}
