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

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
struct ColumnFamilyOptions;
class Status;
}  // namespace rocksdb

namespace caflow {

/// Converts a failed RocksDB status into errc::storage_error, prefixed with
/// `what`. The one place where rocksdb::Status becomes a caflow error.
caf::error storage_error(const rocksdb::Status& status, const std::string& what);

/// What opening a database does when its write-ahead log is damaged before
/// its end (storage/db_open.hpp).
enum class WalRecovery : uint8_t {
  /// Refuse to open, saying where and how much would be lost.
  strict,
  /// Open with the records before the damage, after copying the logs to
  /// `lost+found/`, and warn with what was dropped.
  point_in_time,
};

/// How a store is opened and written.
struct StoreOptions {
  /// fsync the WAL on every commit, so that acknowledged writes also survive
  /// a power loss or OS crash (not just a crash of the process).
  /// Default: false
  bool sync = false;
  /// A damaged WAL refuses the open, or opens with what precedes the damage
  /// (a database's first opener decides). Default: strict
  WalRecovery wal_recovery = WalRecovery::strict;
  /// The memtable of each shard (column family): writes are buffered up to
  /// this size before a flush to disk; RocksDB keeps up to two per shard.
  /// Default: 16 MiB (RocksDB's own 64 MiB held ~128 MiB per shard)
  size_t memtable_bytes = size_t{16} << 20;
  /// The block cache shared by the database's shards (uncompressed blocks
  /// read from disk: document bodies of matches). Default: 32 MiB
  size_t block_cache_bytes = size_t{32} << 20;
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

  /// The shards that have a column family, in order.
  [[nodiscard]] std::vector<uint32_t> shard_ids() const;

  /// Drops shard `shard`'s column family with all its records. No store of
  /// that shard may be used afterwards.
  [[nodiscard]] caf::error drop_shard(uint32_t shard);

  /// True when the database was opened read-only (the disk was full).
  [[nodiscard]] bool read_only() const noexcept { return read_only_; }

  /// True once a write failed with an I/O error (a full disk): RocksDB 7.8
  /// then must not be asked to sync its WAL again (it asserts), and
  /// refuses further writes itself.
  [[nodiscard]] bool write_failed() const noexcept { return write_failed_.load(); }

  /// Records that a write failed with `status` (see write_failed).
  void note_write(const rocksdb::Status& status) noexcept;

  /// Why it is read-only: "the disk is full (...)".
  [[nodiscard]] const std::string& read_only_reason() const noexcept { return read_only_reason_; }

 private:
  friend class ShardStore;  // the only user of the raw database
  [[nodiscard]] rocksdb::DB* db() const noexcept { return db_; }

  std::string path_;
  rocksdb::DB* db_ = nullptr;
  bool read_only_ = false;
  std::atomic<bool> write_failed_{false};
  std::string read_only_reason_;
  // The first opener's, for shards created later (sharing its block cache).
  std::unique_ptr<rocksdb::ColumnFamilyOptions> cf_options_;
  mutable std::mutex mtx_;  // guards families_
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace caflow
