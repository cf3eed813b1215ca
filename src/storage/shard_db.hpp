/// The RocksDB database of one executor in one process, shared by its shards.
///
/// Layout: `WORKSPACE/<executor name>/` holds one RocksDB database; each
/// shard owns the column family `shard-<k>` (created on first use), so the
/// shards of a deployment that run in one process share one WAL and one
/// block cache but never see each other's keys.
///
/// Opening a path that is already open in this process returns the same
/// handle (a process-wide registry of weak pointers): replicas of a shard
/// share it, and the database closes when the last holder lets go.
///
/// Durability: the write-ahead log is on. A write that returned OK survives
/// a crash of the process; with `sync` (WriteOptions::sync) it also survives
/// a power loss or OS crash, at the cost of an fsync per write.
///
///   auto db = ShardDb::open("/ws/indexer", {});      // caf::expected
///
/// Executors do not use this class: they read and write through
/// storage/shard_store.hpp, which owns the keys of a shard.
///
/// Thread-safety: all member functions are thread-safe (RocksDB's DB is).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <caf/expected.hpp>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
}  // namespace rocksdb

namespace caflow {

/// Converts a failed RocksDB status into errc::storage_error, prefixed with
/// `what`. The one place where rocksdb::Status becomes a caflow error.
caf::error storage_error(const rocksdb::Status& status, const std::string& what);

/// How a store is opened and written.
struct StoreOptions {
  /// fsync the WAL on every commit, so that acknowledged writes also survive
  /// a power loss or OS crash (not just a crash of the process).
  /// Default: false
  bool sync = false;
};

/// A shared RocksDB database (see the file comment).
class ShardDb {
 public:
  /// Opens the database in directory `path` (created when missing), or
  /// returns the handle already open in this process.
  static caf::expected<std::shared_ptr<ShardDb>> open(const std::string& path,
                                                      const StoreOptions& options);

  ShardDb() = default;
  ~ShardDb();
  ShardDb(const ShardDb&) = delete;
  ShardDb& operator=(const ShardDb&) = delete;

  /// The directory the database lives in.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// The column family of shard `shard` ("shard-<k>"), created when missing.
  /// The handle lives as long as this object.
  caf::expected<rocksdb::ColumnFamilyHandle*> column_family(uint32_t shard);

 private:
  friend class ShardStore;  // the only user of the raw database
  [[nodiscard]] rocksdb::DB* db() const noexcept { return db_; }

  std::string path_;
  rocksdb::DB* db_ = nullptr;
  std::mutex mtx_;  // guards families_
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace caflow
