// caflow-bench million: a million TF-IDF documents (vectors drawn from the
// mail corpus's term distribution, mail texts, real mail-start queries;
// bench/workload.hpp)
// through an in-process flow with a 2-shard exact Indexer (index PARTITION,
// search ALL): index throughput, single-query search q/s and p99, RSS and
// disk per document, and the time to start the flow again on the workspace
// (every shard reloads its ids and rebuilds its index from RocksDB).
// A benchmark mode, not a test: at 1,000,000 documents it runs for many
// minutes and needs ~6 GiB of memory.
//
//   caflow-bench million [--n=1000000] [--shards=2] [--queries=300] [--data=drawn|copies|zipf]
//                        [--log_retention_mb=M]   (the Indexer's uses_with; default its own)
//
// Prints {"bench": "million", "phase": "index+search", ...} before the
// restart, then {"bench": "million", "data", "n", "shards", "index_docs_per_s",
// "search_qps", "search_p50_ms", "search_p99_ms", "rss_per_doc_kb",
// "disk_per_doc_kb", "raw_per_doc_kb", "restart_s", "count_after_restart"}
// and the disk by kind (bench/store_disk.hpp). `disk_per_doc_kb` is every
// file of the workspace once the flow stopped after indexing (SST files and
// the WAL, before RocksDB compacted); `disk_compacted_per_doc_kb` the same
// after the restart and a full compaction of every shard.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "bench/bench_util.hpp"
#include "bench/indexer_flow.hpp"
#include "bench/store_disk.hpp"
#include "bench/workload.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

Flow million_flow(const fs::path& dir, uint32_t shards, long long log_mb) {
  Params with = Params::object();
  if (log_mb > 0)
    with["log_retention_mb"] = static_cast<int64_t>(log_mb);
  Flow flow;
  flow.add(sharded_indexer(dir.string(), shards, std::move(with)));
  return flow;
}

}  // namespace

int million(int argc, char** argv) {
  auto n = static_cast<size_t>(arg(argc, argv, "n", 1000000));
  auto shards = static_cast<uint32_t>(arg(argc, argv, "shards", 2));
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 300));
  auto log_mb = arg(argc, argv, "log_retention_mb", 0);  // 0: the Indexer's default
  auto dir = fs::temp_directory_path() / ("caflow-bench-million-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto workload = Workload::make(argc, argv, n);
  auto queries = workload->queries(n_queries);
  size_t rss0 = rss_bytes();
  size_t raw = 0;
  double index_s = 0;
  Value line{{"bench", "million"},
             {"data", workload->name()},
             {"n", static_cast<int64_t>(n)},
             {"shards", static_cast<int64_t>(shards)}};
  {
    auto running = million_flow(dir, shards, log_mb).start();
    if (!running)
      throw Error(running.error());
    auto start = clock::now();
    for (size_t from = 0; from < n; from += 1000) {
      DocumentArray docs(workload->documents(from, std::min<size_t>(1000, n - from), true));
      for (const auto& d : docs)
        raw += d.text.size() + 8 * d.embedding.indices.size();
      if (auto r = running->post("/index", std::move(docs), {.request_size = 100, .prefetch = 4});
          !r)
        throw Error(r.error());
    }
    index_s = seconds_since(start);
    size_t rss1 = rss_bytes();
    auto searched = single_searches(*running, queries);
    running->stop();
    auto per_doc_kb = [n](double bytes) { return bytes / static_cast<double>(n) / 1024.0; };
    line["index_docs_per_s"] = static_cast<double>(n) / index_s;
    line["search_qps"] = searched.qps;
    line["search_p50_ms"] = searched.p50_ms;
    line["search_p99_ms"] = searched.p99_ms;
    line["rss_per_doc_kb"] = per_doc_kb(static_cast<double>(rss1) - static_cast<double>(rss0));
    auto files = disk_files(dir.string());
    line["disk_per_doc_kb"] = per_doc_kb(static_cast<double>(files.total));
    line["disk_wal_per_doc_kb"] = per_doc_kb(static_cast<double>(files.wal));
    line["raw_per_doc_kb"] = per_doc_kb(static_cast<double>(raw));
  }
  // The figures so far, before the restart (which can take long, or fail:
  // every shard rebuilds its index from RocksDB).
  Value first = line;
  first["phase"] = "index+search";
  emit(first);
  {
    auto start = clock::now();
    auto running = million_flow(dir, shards, log_mb).start();
    if (!running) {
      std::cerr << "caflow-bench million: restart failed after " << seconds_since(start)
                << " s: " << to_string(running.error()) << '\n';
      fs::remove_all(dir);
      return 1;
    }
    line["restart_s"] = seconds_since(start);
    auto count = running->post("/count", {});
    line["count_after_restart"] = count ? count->parameters.get_int("count", -1) : int64_t{-1};
    running->stop();
  }
  add_compacted_disk(line, (dir / "indexer").string(), shards, n);
  line["load_average"] = load_average();
  emit(line);
  fs::remove_all(dir);
  return 0;
}

}  // namespace caflow::bench
