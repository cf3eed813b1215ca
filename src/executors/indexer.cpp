// Indexer: the built-in storage and vector search executor (Jina's
// SimpleIndexer / AnnLite role). Each shard persists its documents in the
// executor's RocksDB database and searches them exactly (dense or sparse) or
// with HNSW (dense). See executors/indexer_shard.hpp for the storage layout.
//
//   uses: Indexer
//   uses_with: {metric: cosine, index: exact|hnsw, M: 16, ef_construction: 200,
//               ef: 50, max_elements: 1024, sync: false, default_top_k: 10,
//               merge_min_postings: 65536, merge_minor_share: 32,
//               merge_major_share: 4}
//
// Endpoints: /index, /update, /delete, /search, /fetch, /clear, /count, and a
// default "*" that passes documents through. /search, /fetch and /count only
// read; every other endpoint writes: with `replicas: R` it goes to every
// in-sync copy of the shard, numbered, and is logged (caflow/replication.hpp;
// the newest `log_retention` writes, at most `log_retention_mb` of them, are
// kept for copies that missed them).
//
// Unknown ids: /update, /delete and /fetch answer {"not_found": [ids this
// shard does not hold]}. Under ALL polling the head intersects the shards'
// lists (an id is unknown only if no shard holds it); PARTITION parts and the
// requests of a post are joined (runtime/reduce.hpp).
#include <iostream>
#include <string>
#include <string_view>

#include "caflow/executor.hpp"
#include "executors/indexer_shard.hpp"

namespace caflow {
namespace {

Params not_found_params(const std::vector<std::string>& ids) {
  Value::Array list;
  list.reserve(ids.size());
  for (const auto& id : ids)
    list.emplace_back(id);
  return Params{{"not_found", Value{std::move(list)}}};
}

class Indexer : public Executor, public Replicated {
 public:
  /// What IndexerOptions::from reads; anything else is a typo.
  static constexpr std::string_view uses_with_keys[] = {"metric",
                                                        "index",
                                                        "M",
                                                        "ef_construction",
                                                        "ef",
                                                        "max_elements",
                                                        "sync",
                                                        "wal_recovery",
                                                        "default_top_k",
                                                        "checkpoint_writes",
                                                        "checkpoint_seconds",
                                                        "memtable_mb",
                                                        "block_cache_mb",
                                                        "log_retention",
                                                        "log_retention_mb",
                                                        "merge_min_postings",
                                                        "merge_minor_share",
                                                        "merge_major_share"};

  /// The endpoints that only read: one copy of a shard answers them.
  static constexpr std::string_view read_endpoints[] = {"/search", "/fetch", "/count"};

  /// They run beside writes (the replica's read lane): the shard takes a
  /// shared lock for them and applies each write to memory whole under the
  /// exclusive one (indexer_shard.hpp); nothing else here changes after
  /// construction but shard_, which only close() resets.
  static constexpr bool concurrent_reads = true;

  explicit Indexer(ExecutorContext ctx)
    : Executor(std::move(ctx)),
      options_(IndexerOptions::from(context())),
      shard_(IndexerShard::open(context(), options_)) {
    on("/index", &Indexer::index);
    on("/update", &Indexer::update);
    on("/delete", &Indexer::remove);
    on("/search", &Indexer::search);
    on("/fetch", &Indexer::fetch);
    on("/clear", &Indexer::clear);
    on("/count", &Indexer::count);
    on("*", [](DocumentArray&, const Params&) { return Params::object(); });
  }

  // Syncs the WAL and lets go of the shard; the last holder saves the HNSW
  // graph and closes the database.
  void close() override {
    if (!shard_)
      return;
    try {
      shard_->flush();
    } catch (const std::exception& e) {
      // What was acknowledged is in the WAL already; a failed sync (a full
      // disk) is worth a line, and must not keep the shard open.
      std::cerr << shard_->name() << ": " << e.what() << '\n';
    }
    shard_.reset();
  }

 private:
  IndexerShard& shard() {
    if (!shard_)
      throw Error(errc::unavailable, context().name + ": the indexer is closed");
    return *shard_;
  }

  // Like Jina's indexers, indexing an id that is already stored replaces it.
  // Matches and scores of incoming documents are not stored.
  void index(DocumentArray& docs, const Params&) { shard().index(docs, write_stamp()); }

  Params update(DocumentArray& docs, const Params&) {
    return not_found_params(shard().update(docs, write_stamp()));
  }

  Params remove(DocumentArray& docs, const Params&) {
    return not_found_params(shard().remove(docs, write_stamp()));
  }

  void search(DocumentArray& docs, const Params& params) {
    auto k = params.get_int("top_k", options_.default_top_k);
    if (k < 0)
      throw Error(errc::invalid_argument,
                  shard().name() + ": top_k must not be negative, got " + std::to_string(k));
    auto found = shard().search(docs, static_cast<size_t>(k),
                                params.get_bool("return_embeddings", false));
    for (size_t i = 0; i < docs.size(); ++i)
      docs[i].matches = std::move(found[i]);
  }

  // Answers only the documents this shard holds. Under ALL polling the
  // shards' answers are merged by id with the first copy winning, so a shard
  // that echoed a request document it does not hold would hide the stored
  // one another shard returns; the ids it lacks go to "not_found" instead.
  Params fetch(DocumentArray& docs, const Params&) {
    std::vector<std::string> not_found;
    auto stored = shard().fetch(docs, not_found);
    auto out = not_found_params(not_found);
    docs = std::move(stored);
    return out;
  }

  void clear(DocumentArray&, const Params&) { shard().clear(write_stamp()); }

  Params count(DocumentArray&, const Params&) {
    return Params{{"count", static_cast<int64_t>(shard().count())}};
  }

  // -- Replicated ---------------------------------------------------------------

  uint64_t applied_seq() override { return shard().applied(); }
  void check_write(const std::string& endpoint, const DocumentArray& docs) override {
    if (endpoint == "/index" || endpoint == "/update")
      shard().check_write(docs);
  }
  void skip_write(const WriteStamp& stamp) override { shard().skip(stamp); }
  OpLogChunk read_log(uint64_t after, size_t max_bytes) override {
    return shard().read_log(after, max_bytes);
  }
  SnapshotChunk read_snapshot(const std::string& after, size_t max_docs) override {
    return shard().read_snapshot(after, max_docs);
  }
  void restore_begin() override { shard().restore_begin(); }
  void restore_docs(const DocumentArray& docs) override { shard().index(docs); }
  void restore_end(uint64_t seq) override { shard().restore_end(seq); }

  IndexerOptions options_;
  std::shared_ptr<IndexerShard> shard_;
};

CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(Indexer, "Indexer");

// The head cuts the shards' merged matches to the same top_k a shard uses
// when the request names none.
[[maybe_unused]] static const bool indexer_defaults = ExecutorRegistry::instance().declare_defaults(
  "Indexer", [](const ExecutorContext& ctx) {
    return Params{{"top_k", ctx.get("default_top_k", int64_t{10})}};
  });

}  // namespace
}  // namespace caflow
