/// The state of one Indexer shard: its stored documents (RocksDB column
/// family `shard-<k>`) and its in-memory vector index.
///
/// Replicas of a shard in one process share one IndexerShard (a process-wide
/// registry keyed by database path and shard); the last one to let go saves
/// the HNSW graph and closes. Searches, fetches and counts hold a shared
/// lock; writes are serialised by a writer mutex and hold the lock
/// exclusively only while they update memory (index and update commit to
/// RocksDB before that; a delete or clear holds it across its commit).
///
/// Storage goes through storage/shard_store.hpp (documents, embeddings with
/// their index labels, metadata). One metadata record is the Indexer's own:
///   hnsw                marker: a graph checkpoint was saved (next label,
///                       live count, dimension)
///   hnsw-journal/<id>   (HNSW only) the id's vector was written after the
///                       last checkpoint, in the same batch as the vector
///   applied             the sequence number of the last replicated write
///                       applied (caflow/replication.hpp), in the batch of
///                       that write, whose operation goes to the log o/<seq>
///   restoring           a snapshot is being installed: an open finds the
///                       shard half-filled, empties it and starts at 0
///
/// The operation log keeps the last `log_retention` writes and at most
/// `log_retention_mb` of them (storage/log_retention.hpp); older records are
/// deleted in the batch of a later write, in ranges (64 writes or an eighth
/// of the byte bound at a time), not one per write.
///
/// The HNSW graph is checkpointed after `checkpoint_writes` writes or, at
/// the next write, `checkpoint_seconds` after the first unsaved one, and on
/// close: the graph file is renamed into place, then the marker is put and
/// the journal deleted in one batch. An open after a crash loads the
/// checkpoint, deletes the labels no longer stored and re-adds only the
/// journaled vectors (seconds, not a rebuild); whatever does not add up
/// exactly falls back to rebuilding from the stored vectors.
///
/// A write returns only after RocksDB accepted its WriteBatch (WAL on);
/// memory is updated after that, so what a search sees is on disk.
///
/// The index's upkeep (exact sparse: merging its delta into its base) runs
/// on a thread of the shard's own, without the lock, as the index hands it
/// out after a write (index/index_job.hpp); only installing it takes the
/// lock, briefly. So neither searches nor writes wait for a merge.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/executor.hpp"
#include "caflow/replication.hpp"
#include "index/hnsw_index.hpp"
#include "index/merge_policy.hpp"
#include "index/metric.hpp"
#include "index/vector_index.hpp"
#include "storage/log_retention.hpp"
#include "storage/shard_db.hpp"

namespace caflow {

class ShardBatch;
class ShardStore;

/// The Indexer's uses_with options.
struct IndexerOptions {
  Metric metric = Metric::cosine;  ///< `metric`. Default: cosine
  bool hnsw = false;               ///< `index: hnsw` (else exact). Default: exact
  HnswOptions hnsw_options{};      ///< `M`, `ef_construction`, `ef`, `max_elements`
  /// `sync`: fsync the WAL on every write, so acknowledged writes also
  /// survive a power loss (not just a process crash). Default: false
  bool sync = false;
  int64_t default_top_k = 10;  ///< `default_top_k`. Default: 10
  /// `checkpoint_writes`: HNSW writes between graph checkpoints. Default: 10000
  size_t checkpoint_writes = 10000;
  /// `checkpoint_seconds`: at most this long between the first write after a
  /// checkpoint and the next one (checked at writes). Default: 60
  size_t checkpoint_seconds = 60;
  /// `memtable_mb`: each shard's RocksDB memtable (up to two are held).
  /// Default: 16
  size_t memtable_mb = 16;
  /// `block_cache_mb`: the database's RocksDB block cache. Default: 32
  size_t block_cache_mb = 32;
  /// `log_retention`: replicated writes kept in the shard's operation log
  /// for copies that missed them; a copy further behind takes a snapshot.
  /// Default: 10000
  size_t log_retention = 10000;
  /// `log_retention_mb`: at most this many MiB of the newest writes are kept
  /// in the operation log (the bound that holds first when writes are large:
  /// without it, 10,000 writes of 50 mails kept every document twice).
  /// Default: 64
  size_t log_retention_mb = 64;
  /// `wal_recovery`: a write-ahead log damaged before its end refuses the
  /// start (`strict`) or starts with the records before the damage
  /// (`point_in_time`, loudly; see storage/db_open.hpp). Default: strict
  WalRecovery wal_recovery = WalRecovery::strict;
  /// When exact sparse search folds its tiers (index/merge_policy.hpp):
  /// `merge_min_postings` (Default: 65536), `merge_minor_share` (0: no minor
  /// merges; Default: 32) and `merge_major_share` (Default: 4). Dense and
  /// HNSW indexes ignore it.
  MergePolicy merge{};

  /// Reads the options; errors (caflow::Error, invalid_argument) name the
  /// executor and key.
  static IndexerOptions from(const ExecutorContext& ctx);
};

/// One shard's documents and index (see the file comment). Thread-safe.
class IndexerShard {
 public:
  /// The shard `ctx.shard_id` of the executor at `ctx.executor_workspace()`,
  /// shared with other holders in this process or opened (rebuilding or
  /// loading its index). The first opener's options win. Throws caflow::Error.
  static std::shared_ptr<IndexerShard> open(const ExecutorContext& ctx,
                                            const IndexerOptions& options);

  IndexerShard(std::unique_ptr<ShardStore> store, std::string name, std::string graph_path,
               IndexerOptions options);
  ~IndexerShard();
  IndexerShard(const IndexerShard&) = delete;
  IndexerShard& operator=(const IndexerShard&) = delete;

  /// "indexer/shard-0": prefixes error messages.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  // Writes take the replicated write's stamp (nullptr: not replicated),
  // committed in the batch of the data; a stamp at or below applied() is a
  // write this copy has applied already and changes nothing.

  /// Stores `docs` (without matches and scores); an existing id is replaced.
  void index(const DocumentArray& docs, const WriteStamp* stamp = nullptr);
  /// Replaces the stored documents of `docs`; returns the ids it does not
  /// hold (which are not inserted).
  std::vector<std::string> update(const DocumentArray& docs, const WriteStamp* stamp = nullptr);
  /// Deletes the documents with the ids of `docs`; returns the unknown ids.
  std::vector<std::string> remove(const DocumentArray& docs, const WriteStamp* stamp = nullptr);
  /// The stored documents (with embeddings) for the ids of `docs`, in their
  /// order; `not_found` receives the ids it does not hold.
  DocumentArray fetch(const DocumentArray& docs, std::vector<std::string>& not_found) const;
  /// Per query document, its `k` best matches (empty without an embedding).
  std::vector<std::vector<Document>> search(const DocumentArray& queries, size_t k,
                                            bool return_embeddings) const;
  /// Deletes every document of this shard.
  void clear(const WriteStamp* stamp = nullptr);
  /// Throws the input error index() would for `docs`, writing nothing.
  void check_write(const DocumentArray& docs) const;
  /// Records `stamp` as applied, changing no document.
  void skip(const WriteStamp& stamp);

  // Replication (caflow/replication.hpp).

  /// The last replicated write applied (0: none).
  [[nodiscard]] uint64_t applied() const noexcept { return applied_; }
  /// Log records after `after` (see Replicated::read_log).
  [[nodiscard]] OpLogChunk read_log(uint64_t after, size_t max_bytes) const;
  /// Documents after id `after` (see Replicated::read_snapshot).
  [[nodiscard]] SnapshotChunk read_snapshot(const std::string& after, size_t max_docs) const;
  /// Empties the shard and marks it as being restored.
  void restore_begin();
  /// Ends a restore at `seq`: applied, the log emptied.
  void restore_end(uint64_t seq);
  /// The number of stored documents.
  [[nodiscard]] size_t count() const;
  /// Syncs the WAL to disk.
  void flush();
  /// The merges the exact sparse index installed since it was built (at
  /// open, a /clear or a restore); none for dense and HNSW. Tests.
  [[nodiscard]] MergeCounts merges() const;
  /// Waits for the index's background job in flight, if any (tests: so
  /// that the next write sees the merge installed, whatever the load).
  void wait_background();

 private:
  void load();
  void rebuild_index();
  void save_graph() noexcept;
  void forget_graph(const char* what);
  // Runs `job` (the index's, handed out under the lock) on merge_thread_.
  // Called by writers (write_mtx_ held), without mtx_.
  void start_background(std::shared_ptr<IndexJob> job);
  void reset_memory();  // a fresh, empty index and id maps (under both locks)  // marker and
                        // journal deleted in one batch
  // Saves the graph when enough writes or time have gone by since the last.
  void maybe_checkpoint(size_t written);
  void write(const DocumentArray& docs, const std::vector<bool>& keep, const WriteStamp* stamp);
  // Throws when an embedding of `docs` (those kept) cannot go into the index.
  void validate(const DocumentArray& docs, const std::vector<bool>& keep) const;
  // True when `stamp` was applied already (a duplicate).
  bool seen(const WriteStamp* stamp) const noexcept { return stamp && stamp->seq <= applied_; }
  // Adds `stamp`'s sequence number and log record to `batch` (and the end of
  // records past the retention); commit() then advances applied_.
  void stamp(ShardBatch& batch, const WriteStamp* stamp);
  // Writes `batch` (plus the deletion of a saved graph's marker: the graph
  // is stale from now on); throws naming `what` when the store refuses it.
  void commit(ShardBatch& batch, const std::string& what);
  // The batch stamp() went into was written: applied_ and the log advance.
  void committed();
  // The batch stamp() went into was not written.
  void discard_pending() noexcept;

  std::unique_ptr<ShardStore> store_;
  std::string name_;
  std::string graph_path_;
  IndexerOptions options_;
  mutable std::shared_mutex mtx_;
  // Serialises writers. index/update commit to RocksDB holding only this, and
  // take mtx_ exclusively just for the in-memory update that follows, so
  // searches wait for memory work, not for the WAL.
  std::mutex write_mtx_;
  std::unique_ptr<VectorIndex> index_;
  std::unordered_set<std::string> ids_;                 // stored documents
  std::unordered_map<std::string, uint64_t> label_of_;  // id -> label (with embedding)
  std::unordered_map<uint64_t, std::string> id_of_;     // label -> id
  uint64_t next_label_ = 0;
  size_t journaled_ = 0;  // writes since the last checkpoint
  std::chrono::steady_clock::time_point first_journaled_{};
  bool marker_present_ = false;         // the hnsw marker is stored
  std::atomic<uint64_t> applied_{0};    // last replicated write applied
  std::atomic<uint64_t> log_first_{1};  // oldest sequence number in the log
  LogRetention retention_;              // the log's records (writer)
  // Set by stamp(), taken by committed() once the batch is written.
  uint64_t pending_applied_ = 0;
  uint64_t pending_first_ = 0;
  uint64_t pending_log_bytes_ = 0;
  bool pending_log_ = false;
  // The index's background job and the thread running it (write_mtx_).
  std::weak_ptr<IndexJob> job_;
  std::thread merge_thread_;
};

}  // namespace caflow
