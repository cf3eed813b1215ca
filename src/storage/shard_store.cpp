#include "storage/shard_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "caflow/errors.hpp"

namespace caflow {

namespace {

constexpr std::string_view doc_prefix = "d/";
constexpr std::string_view vec_prefix = "e/";
constexpr std::string_view meta_prefix = "m/";
constexpr std::string_view log_prefix = "o/";

std::string key(std::string_view prefix, std::string_view rest) {
  std::string out;
  out.reserve(prefix.size() + rest.size());
  out.append(prefix).append(rest);
  return out;
}

// The first key after every key that starts with `prefix` ("d/" -> "d0").
std::string upper_bound(std::string_view prefix) {
  std::string out{prefix};
  out.back() = static_cast<char>(out.back() + 1);
  return out;
}

std::string log_key(uint64_t seq) {
  std::string out{log_prefix};
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((seq >> shift) & 0xff));
  return out;
}

// The sequence number of a log key without its prefix.
uint64_t log_seq(const rocksdb::Slice& suffix) {
  uint64_t seq = 0;
  for (size_t i = 0; i < suffix.size(); ++i)
    seq = (seq << 8) | static_cast<uint8_t>(suffix[i]);
  return seq;
}

std::string_view view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

// Calls fn(key without prefix, value) for the keys of `prefix` from
// prefix+`from` on, while fn returns true.
template <class F>
caf::error scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view prefix,
                std::string_view from, const std::string& name, F fn) {
  auto upper = upper_bound(prefix);
  rocksdb::Slice bound{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &bound;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, cf)};
  for (it->Seek(key(prefix, from)); it->Valid(); it->Next()) {
    auto k = it->key();
    k.remove_prefix(prefix.size());
    if (!fn(k, it->value()))
      break;
  }
  if (!it->status().ok())
    return storage_error(it->status(), name + ": scanning " + std::string{prefix});
  return {};
}

caf::error decode_failure(const std::string& name, std::string_view id, const caf::error& err) {
  return make_error(errc::storage_error, name + ": " + std::string{id} + ": " + error_message(err));
}

}  // namespace

// -- ShardBatch ---------------------------------------------------------------

struct ShardBatch::Op {
  enum kind_t : uint8_t { put, remove, remove_range } kind;
  std::string key;
  std::string value;                          // the value, or the range's end
  rocksdb::ColumnFamilyHandle* cf = nullptr;  // nullptr: the committing shard's
  const ShardDb* db = nullptr;                // cf's database
};

ShardBatch::ShardBatch() = default;
ShardBatch::~ShardBatch() = default;
ShardBatch::ShardBatch(ShardBatch&&) noexcept = default;
ShardBatch& ShardBatch::operator=(ShardBatch&&) noexcept = default;

void ShardBatch::put(const Document& doc, uint64_t label, const ShardStore* into) {
  auto* cf = into ? into->cf_ : nullptr;
  const auto* db = into ? into->db_.get() : nullptr;
  ops_.push_back({Op::put, key(doc_prefix, doc.id), encode_document(doc), cf, db});
  if (doc.embedding.empty())
    ops_.push_back({Op::remove, key(vec_prefix, doc.id), {}, cf, db});
  else
    ops_.push_back(
      {Op::put, key(vec_prefix, doc.id), encode_embedding(label, doc.embedding), cf, db});
}

void ShardBatch::remove(std::string_view id, const ShardStore* from) {
  auto* cf = from ? from->cf_ : nullptr;
  const auto* db = from ? from->db_.get() : nullptr;
  ops_.push_back({Op::remove, key(doc_prefix, id), {}, cf, db});
  ops_.push_back({Op::remove, key(vec_prefix, id), {}, cf, db});
}

void ShardBatch::put_meta(std::string_view name, std::string_view value) {
  ops_.push_back({Op::put, key(meta_prefix, name), std::string{value}});
}

void ShardBatch::remove_meta(std::string_view name) {
  ops_.push_back({Op::remove, key(meta_prefix, name), {}});
}

void ShardBatch::remove_meta_prefix(std::string_view prefix) {
  auto from = key(meta_prefix, prefix);
  ops_.push_back({Op::remove_range, from, upper_bound(from)});
}

void ShardBatch::append_log(uint64_t seq, std::string_view record) {
  ops_.push_back({Op::put, log_key(seq), std::string{record}});
}

void ShardBatch::truncate_log(uint64_t seq) {
  ops_.push_back({Op::remove_range, log_key(0), log_key(seq)});
}

void ShardBatch::clear_documents() {
  ops_.push_back({Op::remove_range, std::string{doc_prefix}, upper_bound(doc_prefix)});
  ops_.push_back({Op::remove_range, std::string{vec_prefix}, upper_bound(vec_prefix)});
}

size_t ShardBatch::size() const noexcept {
  return ops_.size();
}

// -- ShardStore ---------------------------------------------------------------

caf::expected<std::unique_ptr<ShardStore>> ShardStore::open(const std::string& dir, uint32_t shard,
                                                            const StoreOptions& options) {
  auto db = ShardDb::open(dir, options);
  if (!db)
    return std::move(db.error());
  auto cf = (*db)->column_family(shard);
  if (!cf)
    return std::move(cf.error());
  return std::make_unique<ShardStore>(std::move(*db), *cf, shard, options.sync);
}

ShardStore::ShardStore(std::shared_ptr<ShardDb> db, rocksdb::ColumnFamilyHandle* cf, uint32_t shard,
                       bool sync)
  : db_(std::move(db)),
    cf_(cf),
    shard_(shard),
    sync_(sync),
    name_(db_->path() + "#shard-" + std::to_string(shard)) {
  // nop
}

ShardStore::~ShardStore() = default;

const std::string& ShardStore::path() const noexcept {
  return db_->path();
}

caf::error ShardStore::writable(const std::string& what) const {
  if (!db_->read_only())
    return {};
  return make_error(errc::storage_error, name_ + ": " + what
                                           + ": refused: the database is read-only because "
                                           + db_->read_only_reason()
                                           + " when it opened; free space and restart to write");
}

caf::error ShardStore::commit(const ShardBatch& batch, const std::string& what) {
  if (auto err = writable(what))
    return err;
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops_) {
    if (op.db != nullptr && op.db != db_.get())
      return make_error(errc::invalid_argument,
                        name_ + ": " + what + ": a batch may only span shards of one database");
    auto* cf = op.cf != nullptr ? op.cf : cf_;
    rocksdb::Status st;
    switch (op.kind) {
      case ShardBatch::Op::put:
        st = wb.Put(cf, op.key, op.value);
        break;
      case ShardBatch::Op::remove:
        st = wb.Delete(cf, op.key);
        break;
      case ShardBatch::Op::remove_range:
        st = wb.DeleteRange(cf, op.key, op.value);
        break;
    }
    if (!st.ok())
      return storage_error(st, name_ + ": " + what);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  if (auto st = db_->db()->Write(wo, &wb); !st.ok()) {
    db_->note_write(st);
    return storage_error(st, name_ + ": " + what);
  }
  return {};
}

caf::expected<std::vector<std::optional<Document>>> ShardStore::get(
  const std::vector<std::string>& ids, bool with_embeddings) const {
  const size_t per_id = with_embeddings ? 2 : 1;
  std::vector<std::string> keys;
  keys.reserve(ids.size() * per_id);
  for (const auto& id : ids) {
    keys.push_back(key(doc_prefix, id));
    if (with_embeddings)
      keys.push_back(key(vec_prefix, id));
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  auto statuses = db_->db()->MultiGet(rocksdb::ReadOptions{},
                                      std::vector<rocksdb::ColumnFamilyHandle*>(keys.size(), cf_),
                                      slices, &values);
  std::vector<std::optional<Document>> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& body_st = statuses[per_id * i];
    if (body_st.IsNotFound())
      continue;
    if (!body_st.ok())
      return storage_error(body_st, name_ + ": reading document " + ids[i]);
    auto doc = decode_document(values[per_id * i]);
    if (!doc)
      return decode_failure(name_, ids[i], doc.error());
    if (with_embeddings) {
      const auto& vec_st = statuses[per_id * i + 1];
      if (vec_st.ok()) {
        auto vec = decode_embedding(values[per_id * i + 1]);
        if (!vec)
          return decode_failure(name_, ids[i], vec.error());
        doc->embedding = std::move(vec->embedding);
      } else if (!vec_st.IsNotFound()) {
        return storage_error(vec_st, name_ + ": reading the embedding of " + ids[i]);
      }
    }
    out[i] = std::move(*doc);
  }
  return out;
}

caf::error ShardStore::scan_ids(const std::function<void(std::string_view)>& fn) const {
  return scan(db_->db(), cf_, doc_prefix, {}, name_, [&](rocksdb::Slice id, const rocksdb::Slice&) {
    fn(view(id));
    return true;
  });
}

caf::error ShardStore::scan_labels(
  const std::function<void(std::string_view, uint64_t)>& fn) const {
  caf::error failed;
  auto err = scan(db_->db(), cf_, vec_prefix, {}, name_,
                  [&](rocksdb::Slice id, const rocksdb::Slice& value) {
                    auto label = decode_label(view(value));
                    if (!label) {
                      failed = decode_failure(name_, view(id), label.error());
                      return false;
                    }
                    fn(view(id), *label);
                    return true;
                  });
  return failed ? failed : err;
}

caf::error ShardStore::scan_embeddings(
  const std::function<void(std::string_view, StoredEmbedding&&)>& fn) const {
  caf::error failed;
  auto err = scan(db_->db(), cf_, vec_prefix, {}, name_,
                  [&](rocksdb::Slice id, const rocksdb::Slice& value) {
                    auto stored = decode_embedding(view(value));
                    if (!stored) {
                      failed = decode_failure(name_, view(id), stored.error());
                      return false;
                    }
                    fn(view(id), std::move(*stored));
                    return true;
                  });
  return failed ? failed : err;
}

caf::error ShardStore::scan_documents(const std::string& from,
                                      const std::function<bool(StoredDocument&&)>& fn) const {
  // Bodies and embeddings both sort by id: walk them side by side.
  auto vec_upper = upper_bound(vec_prefix);
  rocksdb::Slice vec_bound{vec_upper};
  rocksdb::ReadOptions vro;
  vro.iterate_upper_bound = &vec_bound;
  std::unique_ptr<rocksdb::Iterator> vec{db_->db()->NewIterator(vro, cf_)};
  vec->Seek(key(vec_prefix, from));
  caf::error failed;
  auto err = scan(db_->db(), cf_, doc_prefix, from, name_,
                  [&](rocksdb::Slice id, const rocksdb::Slice& body) {
                    auto doc = decode_document(view(body));
                    if (!doc) {
                      failed = decode_failure(name_, view(id), doc.error());
                      return false;
                    }
                    StoredDocument out{std::move(*doc)};
                    auto vec_id = [&] {
                      auto k = vec->key();
                      k.remove_prefix(vec_prefix.size());
                      return k;
                    };
                    while (vec->Valid() && vec_id().compare(id) < 0)
                      vec->Next();
                    if (vec->Valid() && vec_id().compare(id) == 0) {
                      auto stored = decode_embedding(view(vec->value()));
                      if (!stored) {
                        failed = decode_failure(name_, view(id), stored.error());
                        return false;
                      }
                      out.doc.embedding = std::move(stored->embedding);
                      out.label = stored->label;
                    }
                    return fn(std::move(out));
                  });
  if (failed)
    return failed;
  if (err)
    return err;
  if (!vec->status().ok())
    return storage_error(vec->status(), name_ + ": scanning embeddings");
  return {};
}

caf::expected<size_t> ShardStore::count() const {
  size_t n = 0;
  if (auto err = scan(db_->db(), cf_, doc_prefix, {}, name_,
                      [&n](const rocksdb::Slice&, const rocksdb::Slice&) {
                        ++n;
                        return true;
                      }))
    return err;
  return n;
}

caf::expected<std::optional<std::string>> ShardStore::get_meta(std::string_view name) const {
  std::string value;
  auto st = db_->db()->Get(rocksdb::ReadOptions{}, cf_, key(meta_prefix, name), &value);
  if (st.IsNotFound())
    return std::optional<std::string>{};
  if (!st.ok())
    return storage_error(st, name_ + ": reading " + std::string{name});
  return std::optional<std::string>{std::move(value)};
}

caf::error ShardStore::scan_meta(
  std::string_view prefix,
  const std::function<void(std::string_view, std::string_view)>& fn) const {
  return scan(db_->db(), cf_, key(meta_prefix, prefix), {}, name_,
              [&](const rocksdb::Slice& name, const rocksdb::Slice& value) {
                fn(view(name), view(value));
                return true;
              });
}

caf::error ShardStore::put_meta(std::string_view name, std::string_view value) {
  if (auto err = writable("writing " + std::string{name}))
    return err;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->db()->Put(wo, cf_, key(meta_prefix, name),
                           rocksdb::Slice{value.data(), value.size()});
  if (!st.ok()) {
    db_->note_write(st);
    return storage_error(st, name_ + ": writing " + std::string{name});
  }
  return {};
}

caf::error ShardStore::scan_log(uint64_t from,
                                const std::function<bool(uint64_t, std::string_view)>& fn) const {
  auto start = log_key(from).substr(log_prefix.size());
  return scan(db_->db(), cf_, log_prefix, start, name_,
              [&](const rocksdb::Slice& seq, const rocksdb::Slice& value) {
                return fn(log_seq(seq), view(value));
              });
}

caf::error ShardStore::clear(const ShardBatch* with) {
  if (auto err = writable("clearing"))
    return err;
  ShardBatch batch;
  batch.clear_documents();
  if (with)
    batch.ops_.insert(batch.ops_.end(), with->ops_.begin(), with->ops_.end());
  if (auto err = commit(batch, "clearing"))
    return err;
  // DeleteRange only hides the keys; compacting the ranges drops them from
  // disk, so that /clear gives the space back.
  for (auto prefix : {doc_prefix, vec_prefix}) {
    auto lo = std::string{prefix};
    auto hi = upper_bound(prefix);
    rocksdb::Slice begin{lo};
    rocksdb::Slice end{hi};
    if (auto st = db_->db()->CompactRange(rocksdb::CompactRangeOptions{}, cf_, &begin, &end);
        !st.ok())
      return storage_error(st, name_ + ": compacting after clear");
  }
  return {};
}

caf::error ShardStore::flush() {
  if (db_->read_only())
    return {};  // nothing was written
  if (db_->write_failed())
    return make_error(errc::storage_error,
                      name_ + ": the WAL is not synced: an earlier write failed (see above)");
  if (auto st = db_->db()->FlushWAL(true); !st.ok()) {
    db_->note_write(st);
    return storage_error(st, name_ + ": flushing the WAL");
  }
  return {};
}

}  // namespace caflow
