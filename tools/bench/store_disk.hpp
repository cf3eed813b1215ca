// What an Indexer's RocksDB database takes on disk, for the index
// benchmarks (`memory`, `million`): the files by kind, the records by kind,
// and the files again after a full compaction.
#pragma once

#include <cstdint>
#include <string>

#include "caflow/value.hpp"

namespace caflow::bench {

/// The files of a database directory, by kind (bytes).
struct DiskFiles {
  uint64_t total = 0;  ///< every file under the directory
  uint64_t sst = 0;    ///< *.sst: the records
  uint64_t wal = 0;    ///< *.log: the write-ahead log (what the memtables hold)
};

/// The files under `dir`, by kind.
DiskFiles disk_files(const std::string& dir);

/// Opens shards 0..`shards`-1 of the database in `db_dir` (sharing the
/// handle when it is open in this process), compacts them fully, and adds
/// to `line`, per document of `n`: "disk_compacted_per_doc_kb" (the files
/// under `db_dir` afterwards) and the records by kind ("disk_docs_kb",
/// "disk_vectors_kb", "disk_meta_kb", "disk_log_kb": the operation log that
/// is kept). Throws caflow::Error when a store cannot be opened.
void add_compacted_disk(Value& line, const std::string& db_dir, uint32_t shards, size_t n);

}  // namespace caflow::bench
