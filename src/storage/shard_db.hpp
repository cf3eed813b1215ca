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
///   auto db = ShardDb::open("/ws/indexer");          // caf::expected
///   auto cf = (*db)->column_family(0);              // "shard-0"
///
/// Thread-safety: all member functions are thread-safe (RocksDB's DB is).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

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

/// One shared object per key per process: the first `get` makes it, later
/// ones share it, and it is destroyed when the last holder lets go. A `get`
/// that arrives while the previous object of its key is still being
/// destroyed waits for that to finish, so a reopen never races a close (a
/// RocksDB directory can be open only once). Thread-safe.
template <class T>
class SharedRegistry {
 public:
  /// The live object under `key`, else `make()`'s (a
  /// caf::expected<std::unique_ptr<T>>), which runs under the registry's lock.
  template <class Make>
  caf::expected<std::shared_ptr<T>> get(const std::string& key, Make make) {
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      auto i = open_.find(key);
      if (i == open_.end())
        break;
      if (auto existing = i->second.lock())
        return existing;
      cv_.wait(lock);  // its destructor is running; it erases the entry
    }
    caf::expected<std::unique_ptr<T>> made = make();
    if (!made)
      return std::move(made.error());
    std::shared_ptr<T> out{made->release(), [this, key](T* p) {
                             delete p;  // outside the lock: closing may take time
                             std::lock_guard<std::mutex> guard{mtx_};
                             open_.erase(key);
                             cv_.notify_all();
                           }};
    open_[key] = out;
    return out;
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::weak_ptr<T>> open_;
};

/// A shared RocksDB database (see the file comment).
class ShardDb {
 public:
  /// Opens the database in directory `path` (created when missing), or
  /// returns the handle already open in this process.
  static caf::expected<std::shared_ptr<ShardDb>> open(const std::string& path);

  ShardDb() = default;
  ~ShardDb();
  ShardDb(const ShardDb&) = delete;
  ShardDb& operator=(const ShardDb&) = delete;

  /// The database.
  [[nodiscard]] rocksdb::DB* db() const noexcept { return db_; }

  /// The directory the database lives in.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// The column family of shard `shard` ("shard-<k>"), created when missing.
  /// The handle lives as long as this object.
  caf::expected<rocksdb::ColumnFamilyHandle*> column_family(uint32_t shard);

 private:
  std::string path_;
  rocksdb::DB* db_ = nullptr;
  std::mutex mtx_;  // guards families_
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace caflow
