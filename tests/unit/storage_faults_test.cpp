// The Indexer's storage under faults (#14.3, #14.4): a damaged write-ahead
// log refuses the start (or starts loudly with what precedes the damage), a
// torn tail is tolerated, a damaged HNSW graph is rebuilt, and a full disk
// (a real, small tmpfs, when this process may mount one) fails writes with
// a clear message while reads keep serving and a restart starts read-only.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include <sys/mount.h>
#include <unistd.h>

#include "caflow/executor.hpp"
#include "executors/tfidf/tfidf_model.hpp"
#include "tests/random_vectors.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;
namespace fs = std::filesystem;

namespace {

// A workspace, with a tmpfs of `size` mounted on it when given (and allowed).
struct FaultDir : TempWorkspace {
  bool mounted = false;
  explicit FaultDir(const char* size = nullptr) {
    if (size != nullptr)
      mounted = ::mount("tmpfs", path.c_str(), "tmpfs", 0, (std::string{"size="} + size).c_str())
                == 0;
  }
  FaultDir(const FaultDir&) = delete;
  FaultDir& operator=(const FaultDir&) = delete;
  ~FaultDir() {  // before the base removes the directory
    if (mounted)
      ::umount2(path.c_str(), MNT_DETACH);
  }
};

ExecutorContext context(const FaultDir& dir, Params uses_with = Params::object()) {
  return indexer_context(dir.path, std::move(uses_with));
}

DocumentArray docs(size_t n, size_t first, uint32_t dim = 8, size_t text_bytes = 0) {
  std::mt19937 rng{static_cast<uint32_t>(first + 1)};
  DocumentArray out;
  for (size_t i = first; i < first + n; ++i) {
    auto& d = out.emplace_back();
    d.id = "d" + std::to_string(i);
    d.text = std::string(text_bytes, 'x') + d.id;
    d.embedding = test::gaussian_vector(rng, dim);
  }
  return out;
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, {}).get_int("count", -1);
}

// Indexes 300 documents in 30 requests and closes (the WAL keeps them).
void index_300(const ExecutorContext& ctx) {
  auto e = make_executor(ctx);
  for (size_t r = 0; r < 30; ++r) {
    auto batch = docs(10, r * 10);
    e->handle("/index", batch, {});
  }
  e->close();
}

fs::path only_file(const fs::path& dir, const std::string& extension) {
  fs::path found;
  for (const auto& entry : fs::directory_iterator{dir})
    if (entry.path().extension() == extension) {
      REQUIRE_MESSAGE(found.empty(), "two " << extension << " files in " << dir);
      found = entry.path();
    }
  REQUIRE_MESSAGE(!found.empty(), "no " << extension << " file in " << dir);
  return found;
}

void overwrite(const fs::path& file, uintmax_t offset, const std::string& bytes) {
  std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string slurp(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a write-ahead log damaged in the middle refuses the start, then starts when told") {
  FaultDir dir;
  auto ctx = context(dir);
  index_300(ctx);
  auto log = only_file(dir.path / "indexer", ".log");
  overwrite(log, fs::file_size(log) / 2, "GARBAGE!");
  auto damaged = slurp(log);
  auto refused = start_executor(ctx);
  REQUIRE_FALSE(refused);
  auto message = describe(refused.error());
  CAPTURE(message);
  CHECK(contains(message, "write-ahead log"));
  CHECK(contains(message, "damaged"));
  CHECK(contains(message, "would be lost"));
  CHECK(contains(message, "wal_recovery: point_in_time"));
  // Refusing changed nothing: a second start refuses the same way.
  CHECK(slurp(log) == damaged);
  CHECK_FALSE(start_executor(ctx));
  // Told to, it starts with what precedes the damage and keeps the logs.
  auto told = context(dir, Params{{"wal_recovery", "point_in_time"}});
  auto e = make_executor(told);
  auto kept = count(*e);
  CHECK(kept > 0);
  CHECK(kept < 300);
  CHECK(fs::exists(dir.path / "indexer" / "lost+found"));
  e->close();
  e.reset();
  CHECK(count(*make_executor(ctx)) == kept);  // now consistent: strict starts again
}

TEST_CASE("a torn last record (a crash in the middle of a write) is dropped quietly") {
  FaultDir dir;
  auto ctx = context(dir);
  index_300(ctx);
  auto log = only_file(dir.path / "indexer", ".log");
  fs::resize_file(log, fs::file_size(log) - 7);
  auto e = make_executor(ctx);
  CHECK(count(*e) == 290);  // the last request's batch was never complete
}

TEST_CASE("an unknown wal_recovery is refused by name") {
  FaultDir dir;
  auto e = start_executor(context(dir, Params{{"wal_recovery", "yolo"}}));
  REQUIRE_FALSE(e);
  CHECK(contains(describe(e.error()), "uses_with.wal_recovery"));
}

TEST_CASE("a damaged HNSW graph file is rebuilt from the stored vectors, not loaded") {
  FaultDir dir;
  auto ctx = context(dir, Params{{"index", "hnsw"}, {"max_elements", 400}});
  index_300(ctx);
  auto graph = dir.path / "indexer" / "shard-0.hnsw";
  REQUIRE(fs::exists(graph));
  overwrite(graph, fs::file_size(graph) / 2, "GARBAGE!");
  auto e = make_executor(ctx);
  CHECK(count(*e) == 300);
  // Every document finds itself first: the graph is whole again.
  DocumentArray queries;
  for (size_t r = 0; r < 30; ++r)
    for (auto& q : docs(10, r * 10))
      queries.push_back(std::move(q));
  for (auto& q : queries)
    q.id = "query-" + q.id;
  e->handle("/search", queries, Params{{"top_k", 1}});
  size_t self = 0;
  for (size_t i = 0; i < queries.size(); ++i)
    if (!queries[i].matches.empty() && queries[i].matches[0].id == "d" + std::to_string(i))
      ++self;
  CHECK(self == 300);
}

TEST_CASE("a full disk fails writes clearly, keeps serving reads, and restarts read-only") {
  FaultDir dir{"6m"};
  if (!dir.mounted) {
    MESSAGE("skipped: cannot mount a tmpfs here (needs root)");
    return;
  }
  auto ctx = context(dir);
  int64_t acknowledged = 0;
  std::string failure;
  {
    auto e = make_executor(ctx);
    for (size_t r = 0; r < 1000 && failure.empty(); ++r) {
      auto batch = docs(10, r * 10, 8, 4096);
      try {
        e->handle("/index", batch, {});
        acknowledged += 10;
      } catch (const std::exception& x) {
        failure = x.what();
      }
    }
    REQUIRE_MESSAGE(!failure.empty(), "6 MB never filled up");
    CAPTURE(failure);
    CHECK(contains(failure, "the disk is full"));
    CHECK(count(*e) == acknowledged);  // reads keep serving
    auto first = docs(1, 0);
    first[0].id = "q";
    e->handle("/search", first, Params{{"top_k", 1}});
    REQUIRE(first[0].matches.size() == 1);
    CHECK(first[0].matches[0].id == "d0");
    e->close();
  }
  // Nothing left at all: a restart cannot even write a new log, so it starts
  // read-only, with every acknowledged document, and refuses writes saying why.
  auto filler = dir.path / "filler";
  {
    std::ofstream out{filler, std::ios::binary};
    std::string block(4096, 'f');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())))
      ;
  }
  {
    auto e = make_executor(ctx);
    CHECK(count(*e) == acknowledged);
    auto more = docs(1, 999999);
    try {
      e->handle("/index", more, {});
      FAIL("a write on a full disk succeeded");
    } catch (const std::exception& x) {
      CHECK(contains(x.what(), "read-only"));
      CHECK(contains(x.what(), "disk is full"));
    }
    e->close();
  }
  // Space again: the next start writes.
  fs::remove(filler);
  auto e = make_executor(ctx);
  auto more = docs(1, 999999);
  e->handle("/index", more, {});
  CHECK(count(*e) == acknowledged + 1);
}

TEST_CASE("a TF-IDF model save that runs out of space fails and leaves no temporary file") {
  FaultDir dir{"64k"};
  if (!dir.mounted) {
    MESSAGE("skipped: cannot mount a tmpfs here (needs root)");
    return;
  }
  tfidf::TfidfFitter fitter{tfidf::TfidfOptions{}};
  for (int i = 0; i < 20000; ++i)
    fitter.add("term" + std::to_string(i) + " common words here");
  auto model = std::move(fitter).finish();
  REQUIRE(model);
  auto path = (dir.path / "tfidf.model").string();
  auto err = (*model)->save(path);
  REQUIRE(err);
  CHECK(contains(describe(err), "disk is full"));
  for (const auto& entry : fs::directory_iterator{dir.path})
    CHECK_MESSAGE(entry.path().filename().string().find(".tmp") == std::string::npos,
                  "left behind: " << entry.path());
}
