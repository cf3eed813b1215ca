// ShardStore::usage, memory and compact (storage/shard_store.hpp): what a
// shard's records take by kind, the memory settings in effect, and giving
// back the space of overwritten and deleted ones. Used by the benchmarks and tests; no write
// path depends on them.
#include <array>

#include <rocksdb/db.h>

#include "caflow/errors.hpp"
#include "storage/shard_store.hpp"

namespace caflow {

caf::expected<ShardUsage> ShardStore::usage() const {
  // The key kinds are ASCII prefixes: each is one range ["x/", "x0").
  static constexpr std::array<const char*, 8> bounds = {"d/", "d0", "e/", "e0",
                                                        "m/", "m0", "o/", "o0"};
  std::array<rocksdb::Range, 4> ranges;
  for (size_t i = 0; i < ranges.size(); ++i)
    ranges[i] = rocksdb::Range{bounds[2 * i], bounds[2 * i + 1]};
  std::array<uint64_t, 4> sizes{};
  rocksdb::SizeApproximationOptions options;
  options.include_memtables = true;
  options.include_files = true;
  auto st = db_->db()->GetApproximateSizes(options, cf_, ranges.data(),
                                           static_cast<int>(ranges.size()), sizes.data());
  if (!st.ok())
    return storage_error(st, name_ + ": estimating its size");
  return ShardUsage{sizes[0], sizes[1], sizes[2], sizes[3]};
}

caf::expected<ShardMemory> ShardStore::memory() const {
  ShardMemory out;
  out.memtable_bytes = db_->db()->GetOptions(cf_).write_buffer_size;
  if (!db_->db()->GetIntProperty(cf_, rocksdb::DB::Properties::kBlockCacheCapacity,
                                 &out.block_cache_bytes))
    return make_error(errc::storage_error, name_ + ": RocksDB does not report its block cache");
  return out;
}

caf::error ShardStore::compact() {
  if (db_->read_only())
    return {};  // nothing was written
  if (auto st = db_->db()->Flush(rocksdb::FlushOptions{}, cf_); !st.ok())
    return storage_error(st, name_ + ": flushing the memtable");
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto st = db_->db()->CompactRange(options, cf_, nullptr, nullptr); !st.ok())
    return storage_error(st, name_ + ": compacting");
  return {};
}

}  // namespace caflow
