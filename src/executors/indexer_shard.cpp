#include "executors/indexer_shard.hpp"

#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <utility>

#include "core/shared_registry.hpp"
#include "executors/indexer_layout.hpp"
#include "index/exact_index.hpp"
#include "storage/atomic_file.hpp"
#include "storage/shard_store.hpp"

namespace caflow {

namespace {

constexpr std::string_view marker_name = "hnsw";
constexpr std::string_view journal_prefix = "hnsw-journal/";
constexpr std::string_view applied_name = "applied";
constexpr std::string_view restoring_name = "restoring";

std::string journal_name(std::string_view id) {
  return std::string{journal_prefix}.append(id);
}

/// The marker's value: the state the saved graph file matches, and the
/// file's CRC-32, so that a damaged file is rebuilt rather than loaded
/// (hnswlib trusts the links it reads).
struct Marker {
  uint64_t next_label = 0;
  uint64_t live = 0;
  uint32_t dim = 0;
  uint32_t crc = 0;

  [[nodiscard]] std::string encode() const {
    std::string out(24, '\0');
    std::memcpy(out.data(), &next_label, 8);
    std::memcpy(out.data() + 8, &live, 8);
    std::memcpy(out.data() + 16, &dim, 4);
    std::memcpy(out.data() + 20, &crc, 4);
    return out;
  }
  // A marker of another size (an older one, without a checksum) is none.
  static std::optional<Marker> decode(const std::string& bytes) {
    if (bytes.size() != 24)
      return std::nullopt;
    Marker m;
    std::memcpy(&m.next_label, bytes.data(), 8);
    std::memcpy(&m.live, bytes.data() + 8, 8);
    std::memcpy(&m.dim, bytes.data() + 16, 4);
    std::memcpy(&m.crc, bytes.data() + 20, 4);
    return m;
  }
};

std::unique_ptr<VectorIndex> make_index(const IndexerOptions& options) {
  if (options.hnsw)
    return std::make_unique<HnswIndex>(options.metric, options.hnsw_options);
  auto exact = std::make_unique<ExactIndex>(options.metric, options.merge);
  exact->set_background_merges(true);  // on merge_thread_, off the lock
  return exact;
}

// RocksDB's own words for a held LOCK ("While lock file: .../LOCK: Resource
// temporarily unavailable") do not say what happened: another process has
// the database open, i.e. two flows or nodes were given one workspace.
caf::error explain_lock(caf::error err, const std::string& shard, const std::string& dir) {
  auto message = error_message(err);
  if (!is(err, errc::storage_error) || message.find("lock file") == std::string::npos)
    return err;
  return make_error(errc::storage_error,
                    shard + ": the workspace " + dir
                      + " is in use by another process (two flows or nodes must not share a "
                        "workspace): "
                      + message);
}

// Throws `err` when it is an error.
void check(const caf::error& err) {
  if (err)
    throw_error(err);
}

template <class T>
T check(caf::expected<T> x) {
  if (!x)
    throw_error(x.error());
  return std::move(*x);
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
  auto recovery = ctx.get("wal_recovery", "strict");
  if (recovery == "point_in_time")
    out.wal_recovery = WalRecovery::point_in_time;
  else if (recovery != "strict")
    throw Error(errc::invalid_argument,
                ctx.name + ": uses_with.wal_recovery: expected 'strict' or 'point_in_time', got '"
                  + recovery + "'");
  out.default_top_k = static_cast<int64_t>(positive("default_top_k", 10));
  out.checkpoint_writes = positive("checkpoint_writes", 10000);
  out.memtable_mb = positive("memtable_mb", 16);
  out.block_cache_mb = positive("block_cache_mb", 32);
  out.checkpoint_seconds = positive("checkpoint_seconds", 60);
  out.log_retention = positive("log_retention", 10000);
  out.log_retention_mb = positive("log_retention_mb", 64);
  // A zero bound or major share would make a merge due on every write; a
  // zero minor share is MergePolicy's "two tiers" (flat()).
  const MergePolicy merge_defaults;
  out.merge.min_postings = positive("merge_min_postings",
                                    static_cast<int64_t>(merge_defaults.min_postings));
  auto minor_share = ctx.get("merge_minor_share", static_cast<int64_t>(merge_defaults.minor_share));
  if (minor_share < 0)
    throw Error(errc::invalid_argument, ctx.name
                                          + ": uses_with.merge_minor_share: expected 0 (no minor "
                                            "merges) or a positive integer, got "
                                          + std::to_string(minor_share));
  out.merge.minor_share = static_cast<size_t>(minor_share);
  out.merge.major_share = positive("merge_major_share",
                                   static_cast<int64_t>(merge_defaults.major_share));
  return out;
}

std::shared_ptr<IndexerShard> IndexerShard::open(const ExecutorContext& ctx,
                                                 const IndexerOptions& options) {
  auto dir = ctx.executor_workspace();
  if (dir.empty())
    throw Error(errc::invalid_argument,
                ctx.name + ": the Indexer needs a workspace (set `workspace` in the flow's "
                           "with:, on the deployment, or as uses_metas.workspace)");
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(dir, ec).string();
  if (ec)
    canonical = dir;
  auto shard_name = "shard-" + std::to_string(ctx.shard_id);
  auto name = ctx.name + "/" + shard_name;
  auto key = canonical + "#" + shard_name;
  auto shard = shards().get(key, [&]() -> caf::expected<std::unique_ptr<IndexerShard>> {
    auto store = ShardStore::open(dir, ctx.shard_id,
                                  StoreOptions{.sync = options.sync,
                                               .wal_recovery = options.wal_recovery,
                                               .memtable_bytes = options.memtable_mb << 20,
                                               .block_cache_bytes = options.block_cache_mb << 20});
    if (!store)
      return explain_lock(std::move(store.error()), name, dir);
    auto graph_path = (*store)->path() + "/" + shard_name + ".hnsw";
    try {
      auto* raw = store->get();
      auto layout = check_indexer_layout(*raw, ctx, options, name);
      auto s = std::make_unique<IndexerShard>(std::move(*store), name, std::move(graph_path),
                                              options);
      s->load();
      record_indexer_layout(*raw, layout, s->index_->dimension());
      return s;
    } catch (const Error& e) {
      return e.to_error();
    }
  });
  if (!shard)
    throw_error(shard.error());
  return std::move(*shard);
}

IndexerShard::IndexerShard(std::unique_ptr<ShardStore> store, std::string name,
                           std::string graph_path, IndexerOptions options)
  : store_(std::move(store)),
    name_(std::move(name)),
    graph_path_(std::move(graph_path)),
    options_(options),
    retention_(options.log_retention, uint64_t{options.log_retention_mb} << 20) {
  index_ = make_index(options_);
}

IndexerShard::~IndexerShard() {
  if (auto job = job_.lock())
    job->cancel();
  if (merge_thread_.joinable())
    merge_thread_.join();
  save_graph();
}

void IndexerShard::start_background(std::shared_ptr<IndexJob> job) {
  // The index hands out a job only once the last one was finished (or the
  // index was replaced, its job cancelled): the thread is done or ends
  // without waiting for anything.
  if (merge_thread_.joinable())
    merge_thread_.join();
  job_ = job;
  merge_thread_ = std::thread{[this, job = std::move(job)]() mutable {
    try {
      job->run();
    } catch (const std::exception& e) {
      std::cerr << name_ << ": index merge failed (the index stays as it was): " << e.what()
                << '\n';
    }
    try {
      std::unique_lock<std::shared_mutex> lock{mtx_};
      index_->finish_background(job);  // ignores a job of an index since replaced
    } catch (const std::exception& e) {
      std::cerr << name_ << ": installing an index merge failed: " << e.what() << '\n';
    }
    job.reset();  // the replaced segments are freed here, outside the lock
  }};
}

void IndexerShard::load() {
  if (check(store_->get_meta(restoring_name))) {
    // Half a snapshot is not a state any copy was in: start empty, at 0,
    // and catch up from another copy again.
    std::cerr << name_ << ": a snapshot was being installed when it stopped: emptying the shard "
              << "(it catches up from another copy)\n";
    ShardBatch batch;
    batch.remove_meta(restoring_name);
    batch.remove_meta(applied_name);
    batch.truncate_log(UINT64_MAX);
    batch.remove_meta(marker_name);
    batch.remove_meta_prefix(journal_prefix);
    check(store_->clear(&batch));
  }
  auto applied = check(store_->get_meta(applied_name));
  try {
    applied_ = applied ? std::stoull(*applied) : 0;
  } catch (const std::exception&) {
    throw Error(errc::storage_error, name_ + ": unreadable applied record '" + *applied + "'");
  }
  uint64_t first = 0;
  retention_.clear();
  check(store_->scan_log(0, [&](uint64_t seq, std::string_view record) {
    if (first == 0)
      first = seq;
    retention_.add_existing(seq, record.size());
    return true;
  }));
  // Documents written before writes were numbered are in no log: a copy
  // that starts from nothing must take a snapshot of them.
  bool any = false;
  if (!applied && first == 0)
    check(store_->scan_documents({}, [&any](StoredDocument&&) {
      any = true;
      return false;
    }));
  log_first_ = first != 0 ? first : applied_ + (any ? 2 : 1);
  auto marker_bytes = check(store_->get_meta(marker_name));
  marker_present_ = marker_bytes.has_value();
  auto scan_ids = [this] {
    return store_->scan_ids([this](std::string_view id) { ids_.emplace(id); });
  };
  if (!options_.hnsw && marker_present_) {
    // Exact mode keeps no journal: a graph saved before is stale from now on.
    ShardBatch batch;
    batch.remove_meta(marker_name);
    commit(batch, "deleting the graph marker");
    marker_present_ = false;
  }
  if (options_.hnsw && marker_present_) {
    // A checkpoint: only labels are read, the saved graph is loaded and only
    // the journaled vectors (written since) are re-added. The graph file's
    // checksum and the document ids are read on other threads meanwhile
    // (other files, other key ranges; the futures join before any throw
    // leaves this scope).
    auto crc_job = std::async(std::launch::async, [this] { return file_crc32(graph_path_); });
    auto ids_job = std::async(std::launch::async, scan_ids);
    if (auto saved = Marker::decode(*marker_bytes)) {  // a size hint only
      auto hint = static_cast<size_t>(std::min<uint64_t>(saved->next_label, uint64_t{1} << 24));
      label_of_.reserve(hint);
      id_of_.reserve(hint);
    }
    std::vector<uint64_t> labels;
    check(store_->scan_labels([&](std::string_view id, uint64_t label) {
      labels.push_back(label);
      next_label_ = std::max(next_label_, label + 1);
      id_of_[label] = id;
      label_of_.emplace(id, label);
    }));
    std::vector<std::string> journal;
    check(store_->scan_meta(
      journal_prefix, [&](std::string_view id, std::string_view) { journal.emplace_back(id); }));
    journaled_ = journal.size();
    first_journaled_ = std::chrono::steady_clock::now();
    std::vector<std::pair<uint64_t, Embedding>> changed;
    auto stored = check(store_->get(journal, true));
    for (size_t i = 0; i < stored.size(); ++i)
      if (stored[i] && !stored[i]->embedding.empty())  // else deleted since: labels cover it
        changed.emplace_back(label_of_.at(journal[i]), std::move(stored[i]->embedding));
    check(ids_job.get());
    auto marker = Marker::decode(*marker_bytes);
    auto* graph = static_cast<HnswIndex*>(index_.get());
    auto crc = crc_job.get();
    if (marker && crc && *crc != marker->crc) {
      std::cerr << "WARNING: " << name_ << ": the saved HNSW graph " << graph_path_
                << " is damaged (CRC-32 " << *crc << ", saved as " << marker->crc
                << "); rebuilding it from the " << labels.size() << " stored vectors\n";
    } else if (marker && crc && graph->restore(graph_path_, marker->dim, labels, changed)) {
      next_label_ = std::max(next_label_, marker->next_label);
      return;
    } else {
      std::cerr << name_ << ": saved HNSW graph " << graph_path_
                << " does not match the data; rebuilding it\n";
    }
    label_of_.clear();
    id_of_.clear();
    next_label_ = 0;
    journaled_ = std::max<size_t>(journaled_, 1);  // the rebuilt graph is not saved yet
    rebuild_index();
    return;
  }
  check(scan_ids());
  rebuild_index();
}

void IndexerShard::rebuild_index() {
  index_->clear();
  // In bulk: the exact sparse index builds one base from all the vectors.
  auto loader = index_->loader();
  check(store_->scan_embeddings([&](std::string_view id, StoredEmbedding&& stored) {
    loader->add(stored.label, stored.embedding);
    next_label_ = std::max(next_label_, stored.label + 1);
    id_of_[stored.label] = id;
    label_of_.emplace(id, stored.label);
  }));
  loader->finish();
}

// Deletes the saved graph's marker and the journal of writes since it: the
// next open rebuilds the graph from the stored vectors.
void IndexerShard::forget_graph(const char* what) {
  ShardBatch batch;
  batch.remove_meta(marker_name);
  batch.remove_meta_prefix(journal_prefix);
  commit(batch, what);
  marker_present_ = false;
  journaled_ = 0;
}

void IndexerShard::save_graph() noexcept {
  if (!options_.hnsw || (marker_present_ && journaled_ == 0))
    return;  // nothing to save, or the saved graph is still current
  try {
    std::error_code ec;
    if (index_->size() == 0) {
      // Nothing to load: without a marker the next open rebuilds (from nothing).
      forget_graph("deleting the graph marker");
      std::filesystem::remove(graph_path_, ec);
      return;
    }
    // The file is renamed into place whole, so a crash leaves the old file
    // or the new one, never a partial one.
    auto tmp = graph_path_ + ".tmp";
    try {
      static_cast<HnswIndex*>(index_.get())->save(tmp);
    } catch (...) {
      std::filesystem::remove(tmp, ec);  // a full disk leaves no partial file
      throw;
    }
    auto crc = file_crc32(tmp);
    if (!crc) {
      std::filesystem::remove(tmp, ec);
      throw_error(crc.error());
    }
    std::filesystem::rename(tmp, graph_path_);
    // The marker (with the new file's CRC) and the journal's end in one
    // batch: a crash before it leaves a file the old marker's CRC does not
    // match, so the next open rebuilds rather than trusting it.
    Marker m{next_label_, index_->size(), index_->dimension(), *crc};
    ShardBatch batch;
    batch.put_meta(marker_name, m.encode());
    batch.remove_meta_prefix(journal_prefix);
    commit(batch, "writing the graph marker");
    marker_present_ = true;
    journaled_ = 0;
  } catch (const std::exception& e) {
    // Not fatal: the next open rebuilds the graph from the stored vectors.
    std::cerr << name_ << ": could not save the HNSW graph: " << e.what() << '\n';
  }
}

void IndexerShard::validate(const DocumentArray& docs, const std::vector<bool>& keep) const {
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
}

void IndexerShard::check_write(const DocumentArray& docs) const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  validate(docs, std::vector<bool>(docs.size(), true));
}

void IndexerShard::write(const DocumentArray& docs, const std::vector<bool>& keep,
                         const WriteStamp* stamp_of) {
  // Every embedding first, so that a request is stored whole or not at all.
  validate(docs, keep);
  ShardBatch batch;
  std::vector<uint64_t> labels(docs.size(), 0);
  std::unordered_map<std::string, uint64_t> fresh;  // labels new in this batch
  uint64_t next = next_label_;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!keep[i])
      continue;
    const auto& d = docs[i];
    if (!d.embedding.empty()) {
      // A replaced document keeps its label (hnswlib then updates in place).
      if (auto l = label_of_.find(d.id); l != label_of_.end())
        labels[i] = l->second;
      else if (auto f = fresh.find(d.id); f != fresh.end())
        labels[i] = f->second;
      else
        labels[i] = fresh[d.id] = next++;
    }
    batch.put(d, labels[i]);  // without an embedding, deletes a stored one
    if (options_.hnsw && !d.embedding.empty())
      batch.put_meta(journal_name(d.id), {});
  }
  stamp(batch, stamp_of);
  commit(batch, "writing " + std::to_string(docs.size()) + " documents");
  std::unique_lock<std::shared_mutex> lock{mtx_};
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
  size_t vectors = 0;
  for (size_t i = 0; i < docs.size(); ++i)
    vectors += keep[i] && !docs[i].embedding.empty() ? 1 : 0;
  auto job = index_->begin_background();
  lock.unlock();  // a checkpoint only reads the graph: searches go on
  if (job)
    start_background(std::move(job));
  maybe_checkpoint(vectors);
}

void IndexerShard::commit(ShardBatch& batch, const std::string& what) {
  if (auto err = store_->commit(batch, what)) {
    discard_pending();
    throw Error(errc::storage_error, name_ + ": " + error_message(err));
  }
  committed();
}

void IndexerShard::committed() {
  auto applied = std::exchange(pending_applied_, 0);
  auto first = std::exchange(pending_first_, 0);
  if (applied != 0)
    applied_ = applied;
  if (std::exchange(pending_log_, false))
    retention_.appended(applied, std::exchange(pending_log_bytes_, 0), first);
  if (first != 0)
    log_first_ = first;
}

void IndexerShard::discard_pending() noexcept {
  pending_applied_ = 0;
  pending_first_ = 0;
  pending_log_bytes_ = 0;
  pending_log_ = false;
}

void IndexerShard::stamp(ShardBatch& batch, const WriteStamp* s) {
  discard_pending();
  if (!s)
    return;
  batch.put_meta(applied_name, std::to_string(s->seq));
  batch.append_log(s->seq, s->record);
  if (auto cut = retention_.cut_for(s->seq, s->record.size()); cut != 0) {
    pending_first_ = cut;
    batch.truncate_log(cut);
  }
  pending_applied_ = s->seq;
  pending_log_bytes_ = s->record.size();
  pending_log_ = true;
}

void IndexerShard::maybe_checkpoint(size_t written) {
  if (!options_.hnsw || written == 0)
    return;
  auto now = std::chrono::steady_clock::now();
  if (journaled_ == 0)
    first_journaled_ = now;
  journaled_ += written;
  if (journaled_ >= options_.checkpoint_writes
      || now - first_journaled_ >= std::chrono::seconds(options_.checkpoint_seconds))
    save_graph();
}

void IndexerShard::index(const DocumentArray& docs, const WriteStamp* s) {
  std::lock_guard<std::mutex> writer{write_mtx_};
  if (seen(s))
    return;
  write(docs, std::vector<bool>(docs.size(), true), s);
}

std::vector<std::string> IndexerShard::update(const DocumentArray& docs, const WriteStamp* s) {
  std::lock_guard<std::mutex> writer{write_mtx_};
  if (seen(s))
    return {};
  std::vector<bool> keep(docs.size());
  std::vector<std::string> not_found;
  std::unordered_set<std::string> reported;
  for (size_t i = 0; i < docs.size(); ++i) {
    keep[i] = ids_.count(docs[i].id) > 0;
    if (!keep[i] && reported.insert(docs[i].id).second)
      not_found.push_back(docs[i].id);
  }
  write(docs, keep, s);
  return not_found;
}

std::vector<std::string> IndexerShard::remove(const DocumentArray& docs, const WriteStamp* s) {
  // Exclusive across the commit: a search must not find a document whose
  // body is already deleted.
  std::lock_guard<std::mutex> writer{write_mtx_};
  std::unique_lock<std::shared_mutex> lock{mtx_};
  if (seen(s))
    return {};
  std::vector<std::string> not_found;
  std::vector<std::string> gone;
  std::unordered_set<std::string> seen;
  ShardBatch batch;
  for (const auto& d : docs) {
    if (!seen.insert(d.id).second)
      continue;
    if (ids_.count(d.id) == 0) {
      not_found.push_back(d.id);
      continue;
    }
    batch.remove(d.id);
    gone.push_back(d.id);
  }
  stamp(batch, s);
  if (gone.empty()) {
    if (s)
      commit(batch, "recording write " + std::to_string(s->seq));
    return not_found;
  }
  commit(batch, "deleting " + std::to_string(gone.size()) + " documents");
  for (const auto& id : gone) {
    ids_.erase(id);
    if (auto l = label_of_.find(id); l != label_of_.end()) {
      index_->remove(l->second);
      id_of_.erase(l->second);
      label_of_.erase(l);
    }
  }
  if (auto job = index_->begin_background()) {
    lock.unlock();
    start_background(std::move(job));
  }
  maybe_checkpoint(gone.size());  // no journal needed: restore drops unstored labels
  return not_found;
}

DocumentArray IndexerShard::fetch(const DocumentArray& docs,
                                  std::vector<std::string>& not_found) const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  std::vector<std::string> ids;
  for (const auto& d : docs) {
    if (ids_.count(d.id) == 0)
      not_found.push_back(d.id);
    else
      ids.push_back(d.id);
  }
  auto stored = check(store_->get(ids, true));
  DocumentArray out;
  out.reserve(stored.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    if (!stored[i])  // in memory but not on disk: the store lost it
      throw Error(errc::storage_error, name_ + ": document " + ids[i] + " is missing");
    out.push_back(std::move(*stored[i]));
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
  // Equal scores rank by document id, so that any sharding of the same
  // documents returns the same ids (the head's merge breaks ties the same way).
  TieBreak by_id = [this](uint64_t a, uint64_t b) {
    auto x = id_of_.find(a);
    auto y = id_of_.find(b);
    if (x == id_of_.end() || y == id_of_.end())
      return a < b;
    return x->second < y->second;
  };
  auto hits = index_->search(batch, k, by_id);
  // Read each matched document once, however many queries it matches.
  std::unordered_map<uint64_t, size_t> slot;
  std::vector<std::string> ids;
  for (const auto& per_query : hits)
    for (const auto& h : per_query)
      if (auto id = id_of_.find(h.label);
          id != id_of_.end() && slot.emplace(h.label, ids.size()).second)
        ids.push_back(id->second);
  auto matched = check(store_->get(ids, return_embeddings));
  for (size_t i = 0; i < matched.size(); ++i) {
    if (!matched[i])
      throw Error(errc::storage_error, name_ + ": match " + ids[i] + " is missing");
    matched[i]->chunks.clear();  // a match names a document; its chunks stay stored
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

void IndexerShard::clear(const WriteStamp* s) {
  std::lock_guard<std::mutex> writer{write_mtx_};
  std::unique_lock<std::shared_mutex> lock{mtx_};
  if (seen(s))
    return;
  if (marker_present_ || journaled_ > 0) {
    forget_graph("clearing");
  }
  ShardBatch with;
  stamp(with, s);
  if (auto err = store_->clear(&with)) {
    discard_pending();
    throw_error(err);
  }
  committed();
  reset_memory();
}

void IndexerShard::reset_memory() {
  // Memory back: fresh containers and a fresh index. clear() would keep
  // their capacity (hash buckets, the dense rows, hnswlib's preallocation).
  if (auto job = job_.lock())
    job->cancel();  // its result is for the index replaced here
  index_ = make_index(options_);
  ids_ = {};
  label_of_ = {};
  id_of_ = {};
  next_label_ = 0;
  std::error_code ec;
  std::filesystem::remove(graph_path_, ec);  // a stale file is harmless: no marker
}

void IndexerShard::skip(const WriteStamp& s) {
  std::lock_guard<std::mutex> writer{write_mtx_};
  if (seen(&s))
    return;
  // No record: a replay of this operation changes nothing either.
  WriteStamp empty{s.seq, {}};
  ShardBatch batch;
  stamp(batch, &empty);
  commit(batch, "recording refused write " + std::to_string(s.seq));
}

OpLogChunk IndexerShard::read_log(uint64_t after, size_t max_bytes) const {
  OpLogChunk out;
  out.applied = applied_;
  if (after >= out.applied)
    return out;
  if (after + 1 < log_first_) {
    out.truncated = true;
    return out;
  }
  size_t bytes = 0;
  check(store_->scan_log(after + 1, [&](uint64_t seq, std::string_view record) {
    if (!out.seqs.empty() && bytes + record.size() > max_bytes)
      return false;
    out.seqs.push_back(seq);
    out.records.emplace_back(record);
    bytes += record.size();
    return true;
  }));
  // Truncated between the check and the scan.
  if (out.seqs.empty() || out.seqs.front() != after + 1) {
    out.seqs.clear();
    out.records.clear();
    out.truncated = true;
  }
  return out;
}

SnapshotChunk IndexerShard::read_snapshot(const std::string& after, size_t max_docs) const {
  SnapshotChunk out;
  out.applied = applied_;  // before the scan: every write up to it is stored
  std::string from = after;
  if (!from.empty())
    from.push_back('\0');  // the first id after `after`
  check(store_->scan_documents(from, [&](StoredDocument&& stored) {
    out.docs.push_back(std::move(stored.doc));
    return out.docs.size() < max_docs;
  }));
  if (out.docs.size() >= max_docs && !out.docs.empty())
    out.next = out.docs[out.docs.size() - 1].id;
  return out;
}

void IndexerShard::restore_begin() {
  std::lock_guard<std::mutex> writer{write_mtx_};
  std::unique_lock<std::shared_mutex> lock{mtx_};
  ShardBatch batch;
  batch.put_meta(restoring_name, "1");
  batch.remove_meta(applied_name);
  batch.truncate_log(UINT64_MAX);
  batch.remove_meta(marker_name);
  batch.remove_meta_prefix(journal_prefix);
  check(store_->clear(&batch));
  marker_present_ = false;
  journaled_ = 0;
  applied_ = 0;
  log_first_ = 1;
  retention_.clear();
  reset_memory();
}

void IndexerShard::restore_end(uint64_t seq) {
  std::lock_guard<std::mutex> writer{write_mtx_};
  ShardBatch batch;
  batch.remove_meta(restoring_name);
  batch.put_meta(applied_name, std::to_string(seq));
  commit(batch, "ending a snapshot at " + std::to_string(seq));
  applied_ = seq;
  log_first_ = seq + 1;
}

size_t IndexerShard::count() const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  return ids_.size();
}

void IndexerShard::flush() {
  check(store_->flush());
}

MergeCounts IndexerShard::merges() const {
  std::shared_lock<std::shared_mutex> lock{mtx_};
  const auto* exact = dynamic_cast<const ExactIndex*>(index_.get());
  return exact != nullptr ? exact->sparse_index().merges() : MergeCounts{};
}

void IndexerShard::wait_background() {
  std::lock_guard<std::mutex> writer{write_mtx_};
  if (merge_thread_.joinable())
    merge_thread_.join();
}

}  // namespace caflow
