/// Offline resharding: moving a stopped deployment's documents to the shard
/// count `to`, inside its database (all shards of one executor in one
/// process share a database, one column family per shard).
///
/// Each document whose id hashes (runtime/partition.hpp) to another shard
/// under the new count moves in one atomic RocksDB batch that writes it to
/// its new shard and deletes it from its old one, so a kill at any point
/// leaves every document on exactly one shard: running it again finishes the
/// job, with nothing lost and nothing duplicated. A document stored on two
/// shards (written under ANY polling) ends up once, on its own shard.
/// Moved embeddings get labels that are fresh in their new shard. At the end
/// the layout records say `to` shards, the saved HNSW graphs are invalidated
/// (their markers and files removed: the next start rebuilds each index from
/// the stored vectors) and shards beyond `to` are dropped. While it runs, a
/// `reshard` record in shard 0 makes a start refuse the half-moved data.
///
///   auto report = reshard("/ws/indexer", 3, {.progress = [](auto done, auto total) {}});
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <caf/expected.hpp>

namespace caflow {

/// Callbacks and tuning of a reshard.
struct ReshardOptions {
  /// Called after each batch with the documents examined and the total.
  std::function<void(uint64_t done, uint64_t total)> progress{};
  /// Called after each committed batch with the number of batches so far
  /// (tests use it to kill the process mid-way).
  std::function<void(uint64_t batches)> after_batch{};
  /// Documents moved per atomic batch. Default: 1000
  size_t batch_size = 1000;
};

/// What a reshard did.
struct ReshardReport {
  uint32_t from = 0;       ///< shard count before (as recorded)
  uint32_t to = 0;         ///< shard count after
  uint64_t documents = 0;  ///< documents in the deployment
  uint64_t moved = 0;      ///< documents moved by this run
  bool resumed = false;    ///< finished a reshard that an earlier run began
};

/// Reshards the database in `dir` (WORKSPACE/<executor>) to `to` shards
/// (see the file comment). Fails with errc::storage_error when the database
/// is open elsewhere (a running flow) or another reshard is unfinished.
caf::expected<ReshardReport> reshard(const std::string& dir, uint32_t to,
                                     const ReshardOptions& options = {});

/// The name of the metadata record that marks an unfinished reshard.
inline constexpr const char* reshard_record = "reshard";

}  // namespace caflow
