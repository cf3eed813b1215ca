#include "executors/indexer_shard.hpp"

#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "index/exact_index.hpp"
#include "storage/doc_codec.hpp"
#include "storage/shard_db.hpp"

namespace caflow {

namespace {

const std::string marker_key = "m/hnsw";

std::string doc_key(const std::string& id) {
  return "d/" + id;
}
std::string vec_key(const std::string& id) {
  return "e/" + id;
}

/// The marker's value: the state the saved graph file matches.
struct Marker {
  uint64_t next_label = 0;
  uint64_t live = 0;
  uint32_t dim = 0;

  [[nodiscard]] std::string encode() const {
    std::string out(20, '\0');
    std::memcpy(out.data(), &next_label, 8);
    std::memcpy(out.data() + 8, &live, 8);
    std::memcpy(out.data() + 16, &dim, 4);
    return out;
  }
  static std::optional<Marker> decode(const std::string& bytes) {
    if (bytes.size() != 20)
      return std::nullopt;
    Marker m;
    std::memcpy(&m.next_label, bytes.data(), 8);
    std::memcpy(&m.live, bytes.data() + 8, 8);
    std::memcpy(&m.dim, bytes.data() + 16, 4);
    return m;
  }
};

std::unique_ptr<VectorIndex> make_index(const IndexerOptions& options) {
  if (options.hnsw)
    return std::make_unique<HnswIndex>(options.metric, options.hnsw_options);
  return std::make_unique<ExactIndex>(options.metric);
}

[[noreturn]] void fail(const rocksdb::Status& status, const std::string& what) {
  throw_error(storage_error(status, what));
}

/// Calls fn(suffix, value) for every key starting with `prefix` ("d/").
template <class F>
void scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix, F fn) {
  std::string upper = prefix;
  upper.back() = static_cast<char>(upper.back() + 1);
  rocksdb::Slice bound{upper};
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &bound;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, cf)};
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto key = it->key();
    fn(std::string{key.data() + prefix.size(), key.size() - prefix.size()}, it->value());
  }
  if (!it->status().ok())
    fail(it->status(), "scanning " + prefix);
}

SharedRegistry<IndexerShard>& shards() {
  static SharedRegistry<IndexerShard> r;
  return r;
}

}  // namespace

IndexerOptions IndexerOptions::from(const ExecutorContext& ctx) {
  IndexerOptions out;
  auto metric = ctx.get("metric", "cosine");
  try {
    out.metric = parse_metric(metric);
  } catch (const Error& e) {
    throw Error(errc::invalid_argument, ctx.name + ": uses_with.metric: " + e.what());
  }
  auto kind = ctx.get("index", "exact");
  if (kind != "exact" && kind != "hnsw")
    throw Error(errc::invalid_argument,
                ctx.name + ": uses_with.index: expected 'exact' or 'hnsw', got '" + kind + "'");
  out.hnsw = kind == "hnsw";
  auto positive = [&ctx](const char* key, int64_t fallback) {
    auto v = ctx.get(key, fallback);
    if (v <= 0)
      throw Error(errc::invalid_argument, ctx.name + ": uses_with." + key
                                            + ": expected a positive integer, got "
                                            + std::to_string(v));
    return static_cast<size_t>(v);
  };
  out.hnsw_options.M = positive("M", 16);
  out.hnsw_options.ef_construction = positive("ef_construction", 200);
  out.hnsw_options.ef = positive("ef", 50);
  out.hnsw_options.max_elements = positive("max_elements", 1024);
  out.sync = ctx.get("sync", false);
  out.default_top_k = static_cast<int64_t>(positive("default_top_k", 10));
  return out;
}

std::shared_ptr<IndexerShard> IndexerShard::open(const ExecutorContext& ctx,
                                                 const IndexerOptions& options) {
  auto dir = ctx.executor_workspace();
  if (dir.empty())
    throw Error(errc::invalid_argument,
                ctx.name + ": the Indexer needs a workspace (set `workspace` in the flow's "
                           "with:, on the deployment, or as uses_metas.workspace)");
  auto db = ShardDb::open(dir);
  if (!db) {
    // RocksDB's own words ("While lock file: .../LOCK: Resource temporarily
    // unavailable") do not say what happened: another process has the
    // database open, i.e. two flows or nodes were given one workspace.
    auto message = error_message(db.error());
    if (is(db.error(), errc::storage_error) && message.find("lock file") != std::string::npos)
      throw Error(errc::storage_error,
                  ctx.name + "/shard-" + std::to_string(ctx.shard_id) + ": the workspace " + dir
                    + " is in use by another process (two flows or nodes must not share a "
                      "workspace): "
                    + message);
    throw_error(db.error());
  }
  auto shard_name = "shard-" + std::to_string(ctx.shard_id);
  auto name = ctx.name + "/" + shard_name;
  auto key = (*db)->path() + "#" + shard_name;
  auto shard = shards().get(key, [&]() -> caf::expected<std::unique_ptr<IndexerShard>> {
    auto cf = (*db)->column_family(ctx.shard_id);
    if (!cf)
      return std::move(cf.error());
    try {
      auto s = std::make_unique<IndexerShard>(*db, *cf, name,
                                              (*db)->path() + "/" + shard_name + ".hnsw", options);
      s->load();
      return s;
    } catch (const Error& e) {
      return e.to_error();
    }
  });
  if (!shard)
    throw_error(shard.error());
  return std::move(*shard);
}

IndexerShard::IndexerShard(std::shared_ptr<ShardDb> db, rocksdb::ColumnFamilyHandle* cf,
                           std::string name, std::string graph_path, IndexerOptions options)
  : db_(std::move(db)),
    cf_(cf),
    name_(std::move(name)),
    graph_path_(std::move(graph_path)),
    options_(options) {
  index_ = make_index(options_);
}

IndexerShard::~IndexerShard() {
  save_graph();
}

void IndexerShard::load() {
  auto* db = db_->db();
  scan(db, cf_, "d/",
       [this](std::string id, const rocksdb::Slice&) { ids_.insert(std::move(id)); });
  std::string marker_bytes;
  auto st = db->Get(rocksdb::ReadOptions{}, cf_, marker_key, &marker_bytes);
  if (!st.ok() && !st.IsNotFound())
    fail(st, name_ + ": reading the graph marker");
  marker_present_ = st.ok();
  if (options_.hnsw && marker_present_) {
    // A valid marker: only labels are read, and the saved graph is loaded
    // instead of re-inserting every vector.
    std::vector<uint64_t> labels;
    scan(db, cf_, "e/", [&](std::string id, const rocksdb::Slice& v) {
      auto label = decode_label({v.data(), v.size()});
      if (!label)
        throw_error(label.error());
      labels.push_back(*label);
      id_of_[*label] = id;
      label_of_.emplace(std::move(id), *label);
    });
    auto marker = Marker::decode(marker_bytes);
    auto* graph = static_cast<HnswIndex*>(index_.get());
    if (marker && marker->live == labels.size() && graph->load(graph_path_, marker->dim, labels)) {
      next_label_ = marker->next_label;
      return;
    }
    std::cerr << name_ << ": saved HNSW graph " << graph_path_
              << " does not match the data; rebuilding it\n";
    label_of_.clear();
    id_of_.clear();
  }
  rebuild_index();
}

void IndexerShard::rebuild_index() {
  index_->clear();
  scan(db_->db(), cf_, "e/", [this](std::string id, const rocksdb::Slice& v) {
    auto stored = decode_embedding({v.data(), v.size()});
    if (!stored)
      throw Error(errc::storage_error, name_ + ": " + id + ": " + error_message(stored.error()));
    index_->upsert(stored->label, stored->embedding);
    next_label_ = std::max(next_label_, stored->label + 1);
    id_of_[stored->label] = id;
    label_of_.emplace(std::move(id), stored->label);
  });
}

void IndexerShard::save_graph() noexcept {
  if (!options_.hnsw || marker_present_)
    return;  // nothing to save, or the saved graph is still current
  try {
    std::error_code ec;
    if (index_->size() == 0) {
      std::filesystem::remove(graph_path_, ec);
      return;
    }
    // The file first, the marker after it: a crash in between leaves no
    // marker, so the next open rebuilds rather than trusting a partial file.
    auto tmp = graph_path_ + ".tmp";
    static_cast<HnswIndex*>(index_.get())->save(tmp);
    std::filesystem::rename(tmp, graph_path_);
    Marker m{next_label_, index_->size(), index_->dimension()};
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto st = db_->db()->Put(wo, cf_, marker_key, m.encode());
    if (!st.ok())
      fail(st, "writing the graph marker");
    marker_present_ = true;
  } catch (const std::exception& e) {
    // Not fatal: the next open rebuilds the graph from the stored vectors.
    std::cerr << name_ << ": could not save the HNSW graph: " << e.what() << '\n';
  }
}

void IndexerShard::write(const DocumentArray& docs, const std::vector<bool>& keep) {
  // Check every embedding first, so that a request is stored whole or not at all.
  uint32_t dim = index_->dimension();
  bool sparse = index_->sparse();
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& e = docs[i].embedding;
    if (!keep[i] || e.empty())
      continue;
    index_->check_insertable(e, name_ + ": document " + docs[i].id);
    if (dim == 0) {
      dim = e.dimension();
      sparse = e.sparse;
    } else if (e.sparse != sparse) {
      throw Error(errc::invalid_argument, name_ + ": document " + docs[i].id
                                            + ": dense and sparse embeddings in one index");
    } else if (e.dimension() != dim) {
      throw_dimension_mismatch(name_ + ": document " + docs[i].id, "embedding", e.dimension(), dim);
    }
  }
  rocksdb::WriteBatch batch;
  std::vector<uint64_t> labels(docs.size(), 0);
  std::unordered_map<std::string, uint64_t> fresh;  // labels new in this batch
  uint64_t next = next_label_;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!keep[i])
      continue;
    const auto& d = docs[i];
    auto st = batch.Put(cf_, doc_key(d.id), encode_document(d));
    if (d.embedding.empty()) {
      st = batch.Delete(cf_, vec_key(d.id));  // it may replace one with a vector
    } else {
      // A replaced document keeps its label (hnswlib then updates in place).
      if (auto l = label_of_.find(d.id); l != label_of_.end())
        labels[i] = l->second;
      else if (auto f = fresh.find(d.id); f != fresh.end())
        labels[i] = f->second;
      else
        labels[i] = fresh[d.id] = next++;
      st = batch.Put(cf_, vec_key(d.id), encode_embedding(labels[i], d.embedding));
    }
    if (!st.ok())
      fail(st, name_ + ": batching document " + d.id);
  }
  commit(batch, "writing " + std::to_string(docs.size()) + " documents");
  next_label_ = next;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!keep[i])
      continue;
    const auto& d = docs[i];
    ids_.insert(d.id);
    if (!d.embedding.empty()) {
      index_->upsert(labels[i], d.embedding);
      label_of_[d.id] = labels[i];
      id_of_[labels[i]] = d.id;
    } else if (auto l = label_of_.find(d.id); l != label_of_.end()) {
      index_->remove(l->second);
      id_of_.erase(l->second);
      label_of_.erase(l);
    }
  }
}

void IndexerShard::commit(rocksdb::WriteBatch& batch, const std::string& what) {
  if (marker_present_)
    if (auto st = batch.Delete(cf_, marker_key); !st.ok())
      fail(st, name_ + ": batching");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  if (auto st = db_->db()->Write(wo, &batch); !st.ok())
    fail(st, name_ + ": " + what);
  marker_present_ = false;
}

void IndexerShard::index(const DocumentArray& docs) {
  std::unique_lock<std::shared_mutex> lock{mtx_};
  write(docs, std::vector<bool>(docs.size(), true));
}

std::vector<std::string> IndexerShard::update(const DocumentArray& docs) {
  std::unique_lock<std::shared_mutex> lock{mtx_};
  std::vector<bool> keep(docs.size());
  std::vector<std::string> not_found;
  std::unordered_set<std::string> reported;
  for (size_t i = 0; i < docs.size(); ++i) {
    keep[i] = ids_.count(docs[i].id) > 0;
    if (!keep[i] && reported.insert(docs[i].id).second)
      not_found.push_back(docs[i].id);
  }
  write(docs, keep);
  return not_found;
}

std::vector<std::string> IndexerShard::remove(const DocumentArray& docs) {
  std::unique_lock<std::shared_mutex> lock{mtx_};
  std::vector<std::string> not_found;
  std::vector<std::string> gone;
  std::unordered_set<std::string> seen;
  rocksdb::WriteBatch batch;
  for (const auto& d : docs) {
    if (!seen.insert(d.id).second)
      continue;
    if (ids_.count(d.id) == 0) {
      not_found.push_back(d.id);
      continue;
    }
    auto st = batch.Delete(cf_, doc_key(d.id));
    if (st.ok())
      st = batch.Delete(cf_, vec_key(d.id));
    if (!st.ok())
      fail(st, name_ + ": batching delete of " + d.id);
    gone.push_back(d.id);
  }
  if (gone.empty())
    return not_found;
  commit(batch, "deleting " + std::to_string(gone.size()) + " documents");
  for (const auto& id : gone) {
    ids_.erase(id);
    if (auto l = label_of_.find(id); l != label_of_.end()) {
      index_->remove(l->second);
      id_of_.erase(l->second);
      label_of_.erase(l);
    }
  }
  return not_found;
}

DocumentArray IndexerShard::fetch(const DocumentArray& docs,
                                  std::vector<std::string>& not_found) const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  std::vector<std::string> keys;
  std::vector<const Document*> found;
  for (const auto& d : docs) {
    if (ids_.count(d.id) == 0) {
      not_found.push_back(d.id);
      continue;
    }
    found.push_back(&d);
    keys.push_back(doc_key(d.id));
    keys.push_back(vec_key(d.id));
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  auto statuses = db_->db()->MultiGet(rocksdb::ReadOptions{},
                                      std::vector<rocksdb::ColumnFamilyHandle*>(keys.size(), cf_),
                                      slices, &values);
  DocumentArray out;
  out.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    const auto& body_st = statuses[2 * i];
    const auto& vec_st = statuses[2 * i + 1];
    if (!body_st.ok())
      fail(body_st, name_ + ": reading document " + found[i]->id);
    auto doc = decode_document(values[2 * i]);
    if (!doc)
      throw Error(errc::storage_error,
                  name_ + ": " + found[i]->id + ": " + error_message(doc.error()));
    if (vec_st.ok()) {
      auto vec = decode_embedding(values[2 * i + 1]);
      if (!vec)
        throw Error(errc::storage_error,
                    name_ + ": " + found[i]->id + ": " + error_message(vec.error()));
      doc->embedding = std::move(vec->embedding);
    } else if (!vec_st.IsNotFound()) {
      fail(vec_st, name_ + ": reading embedding of " + found[i]->id);
    }
    out.push_back(std::move(*doc));
  }
  return out;
}

std::vector<std::vector<Document>> IndexerShard::search(const DocumentArray& queries, size_t k,
                                                        bool return_embeddings) const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  std::vector<std::vector<Document>> out(queries.size());
  const uint32_t dim = index_->dimension();
  std::vector<const Embedding*> batch;
  std::vector<size_t> position;
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto& e = queries[i].embedding;
    if (e.empty())
      continue;  // nothing to compare: no matches
    if (dim != 0 && e.dimension() != dim)
      throw_dimension_mismatch(name_, "query", e.dimension(), dim);
    batch.push_back(&e);
    position.push_back(i);
  }
  if (batch.empty() || index_->size() == 0)
    return out;
  auto hits = index_->search(batch, k);
  // Read each matched document once, however many queries it matches.
  std::unordered_map<uint64_t, size_t> slot;
  std::vector<std::string> keys;
  for (const auto& per_query : hits)
    for (const auto& h : per_query)
      if (auto id = id_of_.find(h.label);
          id != id_of_.end() && slot.emplace(h.label, keys.size()).second) {
        keys.push_back(doc_key(id->second));
        if (return_embeddings)
          keys.push_back(vec_key(id->second));
      }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  auto statuses = db_->db()->MultiGet(rocksdb::ReadOptions{},
                                      std::vector<rocksdb::ColumnFamilyHandle*>(keys.size(), cf_),
                                      slices, &values);
  std::vector<std::optional<Document>> matched(keys.size());
  for (auto [label, at] : slot) {
    if (!statuses[at].ok())
      fail(statuses[at], name_ + ": reading match " + id_of_.at(label));
    auto doc = decode_document(values[at]);
    if (!doc)
      throw Error(errc::storage_error, name_ + ": " + error_message(doc.error()));
    doc->chunks.clear();  // a match names a document; its chunks stay stored
    if (return_embeddings && statuses[at + 1].ok())
      if (auto vec = decode_embedding(values[at + 1]))
        doc->embedding = std::move(vec->embedding);
    matched[at] = std::move(*doc);
  }
  const std::string score_name = to_string(options_.metric);
  for (size_t j = 0; j < hits.size(); ++j) {
    auto& matches = out[position[j]];
    matches.reserve(hits[j].size());
    for (const auto& h : hits[j]) {
      auto s = slot.find(h.label);
      if (s == slot.end())
        continue;
      auto& m = matches.emplace_back(*matched[s->second]);
      m.scores[score_name] = h.score;
    }
  }
  return out;
}

void IndexerShard::clear() {
  std::unique_lock<std::shared_mutex> lock{mtx_};
  rocksdb::WriteBatch batch;
  // Every key of this shard is ASCII ("d/", "e/", "m/"), so this range is all.
  auto st = batch.DeleteRange(cf_, "", "\xff");
  if (!st.ok())
    fail(st, name_ + ": batching clear");
  commit(batch, "clearing");
  // Memory back: fresh containers and a fresh index. clear() would keep
  // their capacity (hash buckets, the dense rows, hnswlib's preallocation).
  index_ = make_index(options_);
  ids_ = {};
  label_of_ = {};
  id_of_ = {};
  next_label_ = 0;
  std::error_code ec;
  std::filesystem::remove(graph_path_, ec);  // a stale file is harmless: no marker
}

size_t IndexerShard::count() const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  return ids_.size();
}

void IndexerShard::flush() {
  if (auto st = db_->db()->FlushWAL(true); !st.ok())
    fail(st, name_ + ": flushing the WAL");
}

}  // namespace caflow
