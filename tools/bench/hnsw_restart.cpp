// caflow-bench hnsw-restart: how long an HNSW Indexer shard takes to open
// after a clean close and after kill -9 (a write after the last checkpoint),
// against rebuilding the graph from the stored vectors (what every crash
// cost before checkpoints), in the same run.
//
//   caflow-bench hnsw-restart [--n=100000] [--dim=128] [--workspace=DIR] [--no-rebuild]
//
// --workspace keeps the indexed shard in DIR and reuses it when it is there
// (profiling the restarts without re-indexing); --no-rebuild skips the
// baseline.
// Prints {"bench": "hnsw-restart", "n", "dim", "index_s", "clean_restart_s",
// "crash_restart_s", "rebuild_s", "crash_write_found"}.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

ExecutorContext context(const std::string& dir) {
  ExecutorContext ctx;
  ctx.name = "indexer";
  ctx.uses = "Indexer";
  ctx.workspace = dir;
  ctx.uses_with = Params{{"index", "hnsw"}, {"max_elements", 1 << 17}};
  return ctx;
}

std::unique_ptr<Executor> open(const std::string& dir) {
  auto e = ExecutorRegistry::instance().create(context(dir));
  if (!e)
    throw Error(e.error());
  return std::move(*e);
}

DocumentArray vectors(size_t from, size_t to, uint32_t dim, uint32_t seed) {
  std::mt19937 rng{seed};
  std::normal_distribution<float> g;
  DocumentArray out;
  for (size_t i = from; i < to; ++i) {
    auto& d = out.emplace_back();
    d.id = "v" + std::to_string(i);
    std::vector<float> v(dim);
    for (auto& x : v)
      x = g(rng);
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return out;
}

/// The child: opens the shard, writes one vector, says so, waits to be killed.
int child(const std::string& dir, uint32_t dim) {
  auto e = open(dir);
  auto doc = vectors(0, 1, dim, 4242);
  doc[0].id = "after-checkpoint";
  e->handle("/index", doc, {});
  std::printf("written %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::minutes(10));
  return 0;
}

double timed_open(const std::string& dir) {
  auto start = clock::now();
  auto e = open(dir);
  auto secs = seconds_since(start);
  return secs;
}

}  // namespace

int hnsw_restart(int argc, char** argv) {
  auto dim = static_cast<uint32_t>(arg(argc, argv, "dim", 128));
  if (auto dir = arg_string(argc, argv, "child", ""); !dir.empty())
    return child(dir, dim);
  auto n = static_cast<size_t>(arg(argc, argv, "n", 100000));
  auto kept = arg_string(argc, argv, "workspace", "");
  bool rebuild = !flag(argc, argv, "no-rebuild");
  auto dir = !kept.empty()
               ? kept
               : (fs::temp_directory_path() / ("caflow-bench-hnsw-" + std::to_string(::getpid())))
                   .string();
  bool reuse = !kept.empty() && fs::exists(fs::path(dir) / "indexer" / "shard-0.hnsw");
  if (!reuse)
    fs::remove_all(dir);
  auto start = clock::now();
  if (!reuse) {
    auto e = open(dir);
    for (size_t from = 0; from < n; from += 1000) {
      auto batch = vectors(from, std::min(n, from + 1000), dim, static_cast<uint32_t>(from));
      e->handle("/index", batch, {});
    }
    e->close();  // saves the graph
  }
  double index_s = seconds_since(start);
  double clean_s = timed_open(dir);

  // kill -9 after a write that follows the last checkpoint.
  char self[4096];
  auto len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0)
    throw Error(errc::io_error, "cannot find /proc/self/exe");
  self[len] = '\0';
  auto cmd = shell_quote(self) + " hnsw-restart --dim=" + std::to_string(dim)
             + " --child=" + shell_quote(dir);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  int pid = 0;
  if (pipe == nullptr || std::fscanf(pipe, "written %d", &pid) != 1 || pid <= 0)
    throw Error(errc::io_error, "the child did not write");
  ::kill(pid, SIGKILL);
  ::pclose(pipe);
  start = clock::now();
  bool found = false;
  {
    auto e = open(dir);
    double crash_s = seconds_since(start);
    auto q = vectors(0, 1, dim, 4242);
    e->handle("/search", q, Params{{"top_k", 1}});
    found = !q[0].matches.empty() && q[0].matches[0].id == "after-checkpoint";
    e->close();
    e.reset();
    // The baseline: the same open with no usable graph file.
    double rebuild_s = 0;
    if (rebuild) {
      fs::remove(fs::path(dir) / "indexer" / "shard-0.hnsw");
      rebuild_s = timed_open(dir);
    }
    emit(Value{{"bench", "hnsw-restart"},
               {"n", static_cast<int64_t>(n)},
               {"dim", static_cast<int64_t>(dim)},
               {"index_s", reuse ? Value{} : Value{index_s}},
               {"clean_restart_s", clean_s},
               {"crash_restart_s", crash_s},
               {"rebuild_s", rebuild ? Value{rebuild_s} : Value{}},
               {"crash_write_found", found}});
  }
  if (kept.empty())
    fs::remove_all(dir);
  return 0;
}

}  // namespace caflow::bench
