#include "bench/store_disk.hpp"

#include <filesystem>
#include <memory>
#include <vector>

#include "caflow/errors.hpp"
#include "storage/shard_store.hpp"

namespace caflow::bench {

DiskFiles disk_files(const std::string& dir) {
  DiskFiles out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec))
      continue;
    auto size = it->file_size(ec);
    out.total += size;
    auto ext = it->path().extension();
    if (ext == ".sst")
      out.sst += size;
    else if (ext == ".log")
      out.wal += size;
  }
  return out;
}

void add_compacted_disk(Value& line, const std::string& db_dir, uint32_t shards, size_t n) {
  auto per_doc_kb = [n](uint64_t bytes) {
    return static_cast<double>(bytes) / static_cast<double>(n) / 1024.0;
  };
  std::vector<std::unique_ptr<ShardStore>> stores;
  for (uint32_t k = 0; k < shards; ++k) {
    auto store = ShardStore::open(db_dir, k, {});
    if (!store)
      throw Error(store.error());
    if (auto err = (*store)->compact())
      throw Error(err);
    stores.push_back(std::move(*store));
  }
  // By kind once compacted: one version of each record, nothing in the
  // memtables (whose sizes RocksDB only estimates roughly).
  ShardUsage sum;
  for (const auto& store : stores) {
    auto usage = store->usage();
    if (!usage)
      throw Error(usage.error());
    sum.documents += usage->documents;
    sum.embeddings += usage->embeddings;
    sum.metadata += usage->metadata;
    sum.log += usage->log;
  }
  line["disk_compacted_per_doc_kb"] = per_doc_kb(disk_files(db_dir).total);
  line["disk_docs_kb"] = per_doc_kb(sum.documents);
  line["disk_vectors_kb"] = per_doc_kb(sum.embeddings);
  line["disk_meta_kb"] = per_doc_kb(sum.metadata);
  line["disk_log_kb"] = per_doc_kb(sum.log);
}

}  // namespace caflow::bench
