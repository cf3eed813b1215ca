// caflow-bench memory: what an exact sparse Indexer shard costs per
// document (bench/workload.hpp: by default drawn from the mail corpus's term
// distribution, with mail texts) in memory and on disk, against the raw size of what it holds
// (text bytes + 8 bytes per non-zero), and whether re-indexing everything
// twice under the same ids (churn) gives its memory back.
//
//   caflow-bench memory [--n=30000] [--data=drawn|copies|zipf]
//
// Prints {"bench": "memory", "data", "n", "rss_per_doc_kb", "disk_per_doc_kb",
// "raw_per_doc_kb", "rss_after_churn_ratio"} (RSS growth over the process's
// RSS before the shard opened; ratio = growth after churn / growth after the
// first pass). `disk_per_doc_kb`: the database's files after the first pass
// (the executor open, WAL included; no operation log: the executor is
// called without write stamps); with the records by kind and the files
// after churn and a full compaction (bench/store_disk.hpp).
#include <unistd.h>

#include <filesystem>

#include "bench/bench_util.hpp"
#include "bench/store_disk.hpp"
#include "bench/workload.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

constexpr size_t request_size = 100;

/// Batch `b` of the corpus: the same documents (ids, texts, vectors) every pass.
DocumentArray batch(const Workload& workload, size_t b, size_t n, size_t& raw_bytes) {
  size_t first = b * request_size;
  DocumentArray out(workload.documents(first, std::min(n, first + request_size) - first, true));
  for (const auto& d : out)
    raw_bytes += d.text.size() + 8 * d.embedding.indices.size();
  return out;
}

}  // namespace

int memory(int argc, char** argv) {
  auto n = static_cast<size_t>(arg(argc, argv, "n", 30000));
  auto dir
    = (fs::temp_directory_path() / ("caflow-bench-memory-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  auto workload = Workload::make(argc, argv, n);
  ExecutorContext ctx;
  ctx.name = "indexer";
  ctx.uses = "Indexer";
  ctx.workspace = dir;
  size_t rss0 = rss_bytes();
  auto made = ExecutorRegistry::instance().create(ctx);
  if (!made)
    throw Error(made.error());
  auto& e = **made;
  size_t raw = 0;
  size_t batches = (n + request_size - 1) / request_size;
  auto pass = [&](size_t& raw_bytes) {
    for (size_t b = 0; b < batches; ++b) {
      auto docs = batch(*workload, b, n, raw_bytes);
      e.handle("/index", docs, {});
    }
  };
  pass(raw);
  size_t rss1 = rss_bytes();
  size_t disk = disk_bytes(dir);
  size_t ignored = 0;
  pass(ignored);
  pass(ignored);
  size_t rss2 = rss_bytes();
  auto per_doc_kb = [n](double bytes) { return bytes / static_cast<double>(n) / 1024.0; };
  double growth1 = static_cast<double>(rss1) - static_cast<double>(rss0);
  double growth2 = static_cast<double>(rss2) - static_cast<double>(rss0);
  Value line{{"bench", "memory"},
             {"data", workload->name()},
             {"n", static_cast<int64_t>(n)},
             {"rss_per_doc_kb", per_doc_kb(growth1)},
             {"disk_per_doc_kb", per_doc_kb(static_cast<double>(disk))},
             {"raw_per_doc_kb", per_doc_kb(static_cast<double>(raw))},
             {"rss_after_churn_ratio", growth1 > 0 ? growth2 / growth1 : 0.0},
             {"rss_before_mib", static_cast<double>(rss0) / (1 << 20)},
             {"rss_after_index_mib", static_cast<double>(rss1) / (1 << 20)},
             {"rss_after_churn_mib", static_cast<double>(rss2) / (1 << 20)}};
  // After the RSS figures: opening the store again shares the executor's
  // handle, and a compaction allocates.
  add_compacted_disk(line, (fs::path{dir} / "indexer").string(), 1, n);
  line["load_average"] = load_average();
  emit(line);
  e.close();
  made->reset();
  fs::remove_all(dir);
  return 0;
}

}  // namespace caflow::bench
