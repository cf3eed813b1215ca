#include "storage/shard_db.hpp"

#include <filesystem>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "caflow/errors.hpp"
#include "core/shared_registry.hpp"

namespace caflow {

namespace {

SharedRegistry<ShardDb>& registry() {
  static SharedRegistry<ShardDb> r;
  return r;
}

rocksdb::Options db_options() {
  rocksdb::Options options;
  options.create_if_missing = true;               // Default: false
  options.create_missing_column_families = true;  // Default: false
  // The WAL stays on (Default: on): an acknowledged write survives a crash
  // of the process. Fsync per write is the caller's choice (WriteOptions).
  return options;
}

}  // namespace

caf::error storage_error(const rocksdb::Status& status, const std::string& what) {
  return make_error(errc::storage_error, what + ": " + status.ToString());
}

caf::expected<std::shared_ptr<ShardDb>> ShardDb::open(const std::string& path,
                                                      const StoreOptions&) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + path + ": " + ec.message());
  auto key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec)
    key = path;
  return registry().get(key, [&key]() -> caf::expected<std::unique_ptr<ShardDb>> {
    auto options = db_options();
    std::vector<std::string> names;
    auto listed = rocksdb::DB::ListColumnFamilies(options, key, &names);
    if (!listed.ok() || names.empty())
      names = {rocksdb::kDefaultColumnFamilyName};  // a new database
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    auto status = rocksdb::DB::Open(options, key, descriptors, &handles, &db);
    if (!status.ok())
      return storage_error(status, "opening " + key);
    auto out = std::make_unique<ShardDb>();
    out->path_ = key;
    out->db_ = db;
    for (auto* h : handles)
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
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  auto status = db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(db_options()), name, &handle);
  if (!status.ok())
    return storage_error(status, path_ + ": creating column family " + name);
  families_.emplace(name, handle);
  return handle;
}

}  // namespace caflow
