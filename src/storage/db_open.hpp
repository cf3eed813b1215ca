/// Opening a RocksDB database so that damage and a full disk are loud.
///
/// - The WAL is replayed in RocksDB's kTolerateCorruptedTailRecords mode: a
///   record torn by a crash in the middle of a write (never acknowledged) is
///   dropped; anything damaged before the end refuses the open, with the
///   file, the bytes RocksDB could not read and how many later write batches
///   would be lost, and nothing on disk changed.
/// - `WalRecovery::point_in_time` (opt-in, `wal_recovery: point_in_time`)
///   starts with the records before the damage instead, after copying the
///   logs to `lost+found/` in the database directory, and prints what was
///   dropped.
/// - A disk too full to open for writing opens the database read-only (with
///   a warning): reads are served, writes fail until space is freed and the
///   process restarted.
///
/// Internal to storage/: shard_db.cpp is its only caller.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "storage/shard_db.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
struct Options;
}  // namespace rocksdb

namespace caflow::detail {

/// An open database with its column families.
struct OpenedDb {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  bool read_only = false;
  std::string read_only_reason;  ///< why, when read_only
};

/// Opens `path` with `base` options (see the file comment); `warn` receives
/// the warnings (one line each).
caf::expected<OpenedDb> open_db(const std::string& path, const rocksdb::Options& base,
                                const StoreOptions& options,
                                const std::function<void(const std::string&)>& warn);

}  // namespace caflow::detail
