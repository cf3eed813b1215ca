/// One shard's records: the column family `shard-<k>` of its executor's
/// database (storage/shard_db.hpp), with the key layout, iterators and
/// RocksDB statuses kept here so that executors see documents, not keys.
///
/// Keys of a shard (all ASCII prefixes, so each kind is one key range):
///   d/<id>        the document body (storage/doc_codec.hpp)
///   e/<id>        its label and embedding (absent for documents without one)
///   m/<name>      the executor's metadata records, e.g. m/hnsw (the saved
///                 graph's marker) and m/layout (the shard's layout record)
///   o/<seq>       the per-shard operation log: seq as 8 big-endian bytes,
///                 so that keys sort by sequence number
///
/// A write is a `ShardBatch` committed atomically (one RocksDB WriteBatch):
/// documents, metadata and log records of one operation land together or not
/// at all, which is what lets a shard store "the last applied sequence
/// number" beside the data it describes.
///
///   auto store = ShardStore::open("/ws/indexer", 0, {});   // caf::expected
///   ShardBatch batch;
///   batch.put(doc, label);
///   batch.put_meta("applied", "17");
///   if (auto err = (*store)->commit(batch)) ...
///   auto docs = (*store)->get({"a", "b"}, true);          // optional per id
///
/// Thread-safety: every member function is thread-safe; a `ShardBatch` is
/// not (build it in one thread). Errors are caf::error (errc::storage_error
/// naming the shard and what failed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "storage/doc_codec.hpp"
#include "storage/shard_db.hpp"

namespace rocksdb {
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace caflow {

/// A document as stored: its body with its embedding, and the embedding's
/// label (an executor's handle for it, e.g. the vector index's id).
struct StoredDocument {
  Document doc;                        ///< body, and the embedding if stored
  std::optional<uint64_t> label = {};  ///< set when an embedding is stored
};

/// What a shard's records take, by kind: approximate bytes in SST files and
/// memtables (RocksDB's estimate, compressed as stored). The WAL is not
/// counted: it duplicates what the memtables hold.
struct ShardUsage {
  uint64_t documents = 0;   ///< d/<id>: bodies (text, tags, ...)
  uint64_t embeddings = 0;  ///< e/<id>: labels and vectors
  uint64_t metadata = 0;    ///< m/<name>
  uint64_t log = 0;         ///< o/<seq>: the operation log
};

/// The RocksDB memory settings a shard's database runs with (as RocksDB
/// reports them, not as asked for).
struct ShardMemory {
  uint64_t memtable_bytes = 0;     ///< the shard's write buffer size
  uint64_t block_cache_bytes = 0;  ///< the database's block cache capacity
};

/// The writes of one atomic commit (see the file comment). Not thread-safe.
class ShardStore;

class ShardBatch {
 public:
  ShardBatch();
  ~ShardBatch();
  ShardBatch(ShardBatch&&) noexcept;
  ShardBatch& operator=(ShardBatch&&) noexcept;

  /// Stores `doc` (body without embedding, scores and matches) under its id,
  /// replacing what was there; its embedding under `label`, or, when it has
  /// none, deletes a stored one. `into`: another shard of the same database
  /// (one batch may move documents between shards atomically); nullptr for
  /// the shard that commits the batch.
  void put(const Document& doc, uint64_t label, const ShardStore* into = nullptr);
  /// Deletes the document `id` and its embedding (of shard `from`, or of the
  /// committing shard when nullptr).
  void remove(std::string_view id, const ShardStore* from = nullptr);
  /// Sets the metadata record `name`.
  void put_meta(std::string_view name, std::string_view value);
  /// Deletes the metadata record `name`.
  void remove_meta(std::string_view name);
  /// Deletes every metadata record whose name starts with `prefix` (which
  /// must be non-empty).
  void remove_meta_prefix(std::string_view prefix);
  /// Appends record `seq` of the operation log.
  void append_log(uint64_t seq, std::string_view record);
  /// Deletes the log records below `seq`.
  void truncate_log(uint64_t seq);
  /// Deletes every document and embedding of the shard (not its metadata or
  /// log). Ordered with the other writes of the batch.
  void clear_documents();

  /// The number of writes in the batch.
  [[nodiscard]] size_t size() const noexcept;

 private:
  friend class ShardStore;
  struct Op;
  std::vector<Op> ops_;
};

/// The records of one shard (see the file comment). Thread-safe.
class ShardStore {
 public:
  /// Opens shard `shard` of the database in `dir` (created when missing),
  /// sharing the database with other shards and holders in this process.
  /// The first opener's `options` configure the database.
  static caf::expected<std::unique_ptr<ShardStore>> open(const std::string& dir, uint32_t shard,
                                                         const StoreOptions& options);

  ShardStore(std::shared_ptr<ShardDb> db, rocksdb::ColumnFamilyHandle* cf, uint32_t shard,
             bool sync);
  ~ShardStore();
  ShardStore(const ShardStore&) = delete;
  ShardStore& operator=(const ShardStore&) = delete;

  /// "/ws/indexer#shard-0": names the shard in messages.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The database directory.
  [[nodiscard]] const std::string& path() const noexcept;
  /// The shard's id.
  [[nodiscard]] uint32_t shard() const noexcept { return shard_; }
  /// The shards of this database (column families), in order.
  [[nodiscard]] std::vector<uint32_t> shard_ids() const { return db_->shard_ids(); }
  /// True when the database is read-only (opened on a full disk).
  [[nodiscard]] bool read_only() const noexcept { return db_->read_only(); }

  /// Commits `batch` atomically (fsynced when the store was opened with
  /// `sync`). `what` names the operation in an error ("writing 3 documents").
  /// A read-only database (opened on a full disk) refuses every commit.
  [[nodiscard]] caf::error commit(const ShardBatch& batch, const std::string& what);

  /// The stored documents with ids `ids`, in their order (nullopt for an
  /// absent id); embeddings only when `with_embeddings`.
  [[nodiscard]] caf::expected<std::vector<std::optional<Document>>> get(
    const std::vector<std::string>& ids, bool with_embeddings) const;

  /// Calls fn(id) for every stored document, in id order.
  [[nodiscard]] caf::error scan_ids(const std::function<void(std::string_view)>& fn) const;
  /// Calls fn(id, label) for every stored embedding (without decoding it).
  [[nodiscard]] caf::error scan_labels(
    const std::function<void(std::string_view, uint64_t)>& fn) const;
  /// Calls fn(id, embedding) for every stored embedding.
  [[nodiscard]] caf::error scan_embeddings(
    const std::function<void(std::string_view, StoredEmbedding&&)>& fn) const;
  /// Calls fn(document) for every stored document whose id is `from` or
  /// after, in id order, with its embedding; stops when fn returns false.
  [[nodiscard]] caf::error scan_documents(const std::string& from,
                                          const std::function<bool(StoredDocument&&)>& fn) const;

  /// The number of stored documents (a scan of the keys).
  [[nodiscard]] caf::expected<size_t> count() const;

  /// The metadata record `name`, nullopt when absent.
  [[nodiscard]] caf::expected<std::optional<std::string>> get_meta(std::string_view name) const;
  /// Calls fn(name without `prefix`, value) for every metadata record whose
  /// name starts with `prefix` (non-empty), in name order.
  [[nodiscard]] caf::error scan_meta(
    std::string_view prefix,
    const std::function<void(std::string_view, std::string_view)>& fn) const;
  /// Writes the metadata record `name` on its own, fsynced.
  [[nodiscard]] caf::error put_meta(std::string_view name, std::string_view value);

  /// Calls fn(seq, record) for the log records from `from` on, in order;
  /// stops when fn returns false.
  [[nodiscard]] caf::error scan_log(
    uint64_t from, const std::function<bool(uint64_t, std::string_view)>& fn) const;

  /// Deletes every document and embedding and gives their disk space back
  /// (a compaction of the deleted ranges); metadata and log stay. The
  /// writes of `with` (e.g. the operation's sequence number) are committed
  /// in the same batch.
  [[nodiscard]] caf::error clear(const ShardBatch* with = nullptr);

  /// Writes the WAL to disk (fsync).
  [[nodiscard]] caf::error flush();

  /// What the shard's records take on disk and in memtables, by kind
  /// (storage/shard_usage.cpp).
  [[nodiscard]] caf::expected<ShardUsage> usage() const;

  /// The memtable and block cache sizes in effect (StoreOptions of the
  /// database's first opener).
  [[nodiscard]] caf::expected<ShardMemory> memory() const;

  /// Flushes the shard's memtable and compacts all of its records down to
  /// the last level, so that overwritten and deleted records (an upsert's
  /// old version, the cut part of the log) leave the disk now rather than at
  /// RocksDB's next compaction of their files. Blocks until done.
  [[nodiscard]] caf::error compact();

 private:
  friend class ShardBatch;
  caf::error writable(const std::string& what) const;

  std::shared_ptr<ShardDb> db_;
  rocksdb::ColumnFamilyHandle* cf_;
  uint32_t shard_;
  bool sync_;
  std::string name_;
};

}  // namespace caflow
