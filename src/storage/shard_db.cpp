#include "storage/shard_db.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "caflow/errors.hpp"
#include "core/shared_registry.hpp"
#include "storage/db_open.hpp"

namespace caflow {

namespace {

SharedRegistry<ShardDb>& registry() {
  static SharedRegistry<ShardDb> r;
  return r;
}

rocksdb::Options db_options(const StoreOptions& store) {
  rocksdb::Options options;
  options.write_buffer_size = store.memtable_bytes;  // Default: 64 MiB
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(store.block_cache_bytes);  // Default: 32 MiB
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.create_if_missing = true;               // Default: false
  options.create_missing_column_families = true;  // Default: false
  // The WAL stays on (Default: on): an acknowledged write survives a crash
  // of the process. Fsync per write is the caller's choice (WriteOptions).
  return options;
}

}  // namespace

caf::error storage_error(const rocksdb::Status& status, const std::string& what) {
  auto text = status.ToString();
  if (status.IsNoSpace() || text.find("No space left") != std::string::npos)
    text += " (the disk is full: reads are still served, writes fail until space is freed)";
  return make_error(errc::storage_error, what + ": " + text);
}

caf::expected<std::shared_ptr<ShardDb>> ShardDb::open(const std::string& path,
                                                      const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + path + ": " + ec.message());
  auto key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec)
    key = path;
  return registry().get(key, [&]() -> caf::expected<std::unique_ptr<ShardDb>> {
    auto base = db_options(options);  // one block cache for every shard
    auto opened = detail::open_db(key, base, options,
                                  [](const std::string& line) { std::cerr << line << '\n'; });
    if (!opened)
      return std::move(opened.error());
    auto out = std::make_unique<ShardDb>();
    out->path_ = key;
    out->cf_options_ = std::make_unique<rocksdb::ColumnFamilyOptions>(base);
    out->db_ = opened->db;
    out->read_only_ = opened->read_only;
    out->read_only_reason_ = opened->read_only_reason;
    for (auto* h : opened->handles)
      out->families_.emplace(h->GetName(), h);
    return out;
  });
}

ShardDb::~ShardDb() {
  if (db_ == nullptr)
    return;
  for (auto& [name, handle] : families_)
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  // Close flushes nothing the WAL does not already hold; its status only
  // matters to a caller that could retry, and a destructor cannot.
  db_->Close().PermitUncheckedError();
  delete db_;
}

caf::expected<rocksdb::ColumnFamilyHandle*> ShardDb::column_family(uint32_t shard) {
  auto name = "shard-" + std::to_string(shard);
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = families_.find(name); i != families_.end())
    return i->second;
  if (read_only_)
    return make_error(errc::storage_error, path_ + ": cannot create shard " + std::to_string(shard)
                                             + ": the database is read-only because "
                                             + read_only_reason_);
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  auto status = db_->CreateColumnFamily(*cf_options_, name, &handle);
  if (!status.ok())
    return storage_error(status, path_ + ": creating column family " + name);
  families_.emplace(name, handle);
  return handle;
}

void ShardDb::note_write(const rocksdb::Status& status) noexcept {
  if (status.IsIOError())
    write_failed_.store(true);
}

std::vector<uint32_t> ShardDb::shard_ids() const {
  std::vector<uint32_t> out;
  std::lock_guard<std::mutex> guard{mtx_};
  for (const auto& [name, handle] : families_) {
    if (name.rfind("shard-", 0) != 0)
      continue;
    try {
      out.push_back(static_cast<uint32_t>(std::stoul(name.substr(6))));
    } catch (const std::exception&) {
      // not one of ours
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

caf::error ShardDb::drop_shard(uint32_t shard) {
  auto name = "shard-" + std::to_string(shard);
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = families_.find(name);
  if (i == families_.end())
    return {};
  if (auto st = db_->DropColumnFamily(i->second); !st.ok())
    return storage_error(st, path_ + ": dropping " + name);
  if (auto st = db_->DestroyColumnFamilyHandle(i->second); !st.ok())
    return storage_error(st, path_ + ": dropping " + name);
  families_.erase(i);
  return {};
}

}  // namespace caflow
