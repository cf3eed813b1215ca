#include "executors/indexer_layout.hpp"

#include <iostream>

#include "executors/indexer_shard.hpp"
#include "runtime/partition.hpp"
#include "storage/reshard.hpp"
#include "storage/shard_store.hpp"

namespace caflow {

namespace {

template <class T>
T checked(caf::expected<T> x) {
  if (!x)
    throw_error(x.error());
  return std::move(*x);
}

[[noreturn]] void refuse(const std::string& message) {
  throw Error(errc::invalid_config, message);
}

std::optional<ShardLayout> read_layout(const ShardStore& store, const std::string& name) {
  auto text = checked(store.get_meta("layout"));
  if (!text)
    return std::nullopt;
  auto layout = ShardLayout::decode(*text);
  if (!layout)
    refuse(name + ": " + store.path() + ": " + error_message(layout.error()));
  return std::move(*layout);
}

}  // namespace

IndexerLayoutCheck check_indexer_layout(ShardStore& store, const ExecutorContext& ctx,
                                        const IndexerOptions& options, const std::string& name) {
  IndexerLayoutCheck out;
  auto& w = out.wanted;
  w.flow = ctx.uses_metas.is_object() ? ctx.uses_metas.get_string("flow_id", "") : "";
  w.executor = ctx.name;
  w.uses = ctx.uses;
  w.shard = ctx.shard_id;
  w.shards = ctx.shards == 0 ? 1 : ctx.shards;
  w.data = {{"metric", to_string(options.metric)}, {"index", options.hnsw ? "hnsw" : "exact"}};
  // Shard 0 marks an unfinished reshard: every shard's data is half-moved.
  auto zero = store.shard() == 0 ? nullptr : checked(ShardStore::open(store.path(), 0, {}));
  auto& first = zero ? *zero : store;
  if (auto state = checked(first.get_meta(reshard_record)))
    refuse(name + ": " + store.path() + ": a reshard is unfinished (" + *state
           + "); run `caflow reshard " + store.path()
           + " --shards N` again with its shard count to finish it before starting");
  out.stored = read_layout(store, name);
  if (out.stored) {
    auto verdict = judge_layout(*out.stored, w, {"metric", "index"}, name, store.path());
    if (verdict.refusal)
      refuse(*verdict.refusal);
    if (!verdict.to_apply.empty()) {
      for (const auto& d : verdict.to_apply)
        std::cerr << name << ": " << d.key.substr(5) << " changed from " << d.stored << " to "
                  << d.wanted << ": rebuilding the index from the stored vectors\n";
      ShardBatch batch;
      batch.remove_meta("hnsw");  // a saved graph holds the old metric's links
      if (auto err = store.commit(batch, "invalidating the saved graph"))
        throw_error(err);
    }
    return out;
  }
  auto count = checked(store.count());
  if (count == 0) {
    // A new shard. If this database holds other shards of the same layout
    // with data, this one's data is elsewhere (another node's database).
    for (auto other : store.shard_ids()) {
      if (other == store.shard())
        continue;
      auto sibling = checked(ShardStore::open(store.path(), other, {}));
      auto l = read_layout(*sibling, name);
      if (l && (l->shards != w.shards || l->flow != w.flow)) {
        // A sibling written under another layout refuses its own start;
        // this shard must not record a layout beside it either.
        auto verdict = judge_layout(
          *l, ShardLayout{w.flow, l->executor, l->uses, l->shard, w.shards, l->partition, l->data},
          {"metric", "index"}, name, store.path());
        if (verdict.refusal)
          refuse(*verdict.refusal);
      }
      if (l && l->shards == w.shards && l->flow == w.flow && checked(sibling->count()) > 0)
        refuse(name + ": " + store.path() + " holds shard " + std::to_string(other) + " of "
               + std::to_string(w.shards) + " of this executor but not shard "
               + std::to_string(w.shard)
               + ": that shard's data is on another node (did the order of `hosts:` change?). "
                 "Place each shard where its data is, or move the database there.");
    }
    return out;
  }
  // Data from before layout records: adopt it, saying so, and count the
  // documents that do not hash to this shard (written with another shard
  // count, or under ANY polling): `caflow reshard` puts them in place.
  size_t misplaced = 0;
  if (auto err = store.scan_ids([&](std::string_view id) {
        if (detail::shard_of(id, w.shards) != w.shard)
          ++misplaced;
      }))
    throw_error(err);
  std::cerr << name << ": " << store.path() << " has no layout record (written by an older "
            << "caflow): recording shard " << w.shard << " of " << w.shards;
  if (misplaced > 0)
    std::cerr << "; WARNING: " << misplaced << " of its " << count
              << " documents do not belong to this shard under " << w.shards
              << " shards (written with another shard count or ANY polling): stop the flow and "
                 "run `caflow reshard "
              << store.path() << " --shards " << w.shards << "` to put them in place";
  std::cerr << '\n';
  return out;
}

void record_indexer_layout(ShardStore& store, const IndexerLayoutCheck& check, uint32_t dimension) {
  auto record = check.wanted;
  if (dimension > 0)
    record.data["dimension"] = std::to_string(dimension);
  else if (check.stored)
    if (auto d = check.stored->data.find("dimension"); d != check.stored->data.end())
      record.data["dimension"] = d->second;
  if (check.stored && compare_layouts(*check.stored, record).empty()
      && check.stored->data == record.data && check.stored->flow == record.flow)
    return;  // unchanged
  if (store.read_only())
    return;  // recorded at the next writable start
  if (auto err = store.put_meta("layout", record.encode()))
    throw_error(err);
}

}  // namespace caflow
