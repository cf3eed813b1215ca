#include "storage/reshard.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "runtime/partition.hpp"
#include "storage/layout.hpp"
#include "storage/shard_store.hpp"

namespace caflow {

namespace {

struct State {
  uint32_t from = 0;
  uint32_t to = 0;
  std::string encode() const {
    Value v = Value::object();
    v["from"] = from;
    v["to"] = to;
    return to_json(v);
  }
  static std::optional<State> decode(const std::string& text) {
    auto v = parse_json(text);
    if (!v || !v->is_object())
      return std::nullopt;
    try {
      return State{static_cast<uint32_t>(v->get_int("from", 0)),
                   static_cast<uint32_t>(v->get_int("to", 0))};
    } catch (const Error&) {
      return std::nullopt;
    }
  }
};

template <class T>
caf::expected<T> fail(std::string message) {
  return make_error(errc::storage_error, std::move(message));
}

}  // namespace

caf::expected<ReshardReport> reshard(const std::string& dir, uint32_t to,
                                     const ReshardOptions& options) {
  if (to == 0)
    return make_error(errc::invalid_argument, "reshard: the shard count must be at least 1");
  if (!std::filesystem::exists(std::filesystem::path{dir} / "CURRENT"))
    return make_error(errc::not_found, "reshard: " + dir + " holds no database");
  auto db = ShardDb::open(dir, {});
  if (!db)
    return fail<ReshardReport>("reshard: " + error_message(db.error())
                               + " (is the flow still running? Stop it first)");
  auto existing = (*db)->shard_ids();
  uint32_t span = to;
  for (auto k : existing)
    span = std::max(span, k + 1);
  std::vector<std::unique_ptr<ShardStore>> stores;
  for (uint32_t k = 0; k < span; ++k) {
    auto store = ShardStore::open(dir, k, {.sync = false});
    if (!store)
      return std::move(store.error());
    stores.push_back(std::move(*store));
  }
  auto& zero = *stores[0];
  // The recorded layout: every shard's record, which must agree.
  ReshardReport report;
  report.to = to;
  std::optional<ShardLayout> layout;
  for (auto k : existing) {
    auto text = stores[k]->get_meta("layout");
    if (!text)
      return std::move(text.error());
    if (!*text)
      continue;
    auto l = ShardLayout::decode(**text);
    if (!l)
      return fail<ReshardReport>("reshard: " + stores[k]->name() + ": " + error_message(l.error()));
    if (!layout || k == 0)
      layout = *l;  // shard 0's record, when there is one, says what the flow ran with
    report.from = std::max(report.from, l->shards);
  }
  if (layout)
    report.from = layout->shards;
  if (report.from == 0)  // data from before layout records: what is there
    report.from = existing.empty() ? 1 : *std::max_element(existing.begin(), existing.end()) + 1;
  auto state_text = zero.get_meta(reshard_record);
  if (!state_text)
    return std::move(state_text.error());
  if (*state_text) {
    auto state = State::decode(**state_text);
    if (state && state->to != to)
      return fail<ReshardReport>("reshard: " + dir + ": a reshard from "
                                 + std::to_string(state->from) + " to " + std::to_string(state->to)
                                 + " shards is unfinished; run it again with --shards "
                                 + std::to_string(state->to) + " to finish it first");
    report.resumed = true;
    if (state)
      report.from = state->from;
  } else if (auto err = zero.put_meta(reshard_record, State{report.from, to}.encode())) {
    return err;
  }
  // Fresh labels per target shard: above every label it holds.
  std::vector<uint64_t> next_label(to, 0);
  uint64_t total = 0;
  // The highest write number any shard applied (replicated copies number
  // their writes, README "Replicated stateful shards").
  uint64_t applied = 0;
  for (uint32_t k = 0; k < span; ++k) {
    auto at = stores[k]->get_meta("applied");
    if (!at)
      return std::move(at.error());
    if (*at)
      applied = std::max<uint64_t>(applied, std::stoull(**at));
    if (k < to)
      if (auto err = stores[k]->scan_labels([&](std::string_view, uint64_t label) {
            next_label[k] = std::max(next_label[k], label + 1);
          }))
        return err;
    auto n = stores[k]->count();
    if (!n)
      return std::move(n.error());
    total += *n;
  }
  report.documents = total;
  uint64_t done = 0;
  uint64_t batches = 0;
  for (uint32_t k = 0; k < span; ++k) {
    auto& source = *stores[k];
    ShardBatch batch;
    size_t in_batch = 0;
    auto commit = [&]() -> caf::error {
      if (in_batch == 0)
        return {};
      if (auto err = source.commit(batch, "moving " + std::to_string(in_batch) + " documents"))
        return err;
      report.moved += in_batch;
      batch = ShardBatch{};
      in_batch = 0;
      ++batches;
      if (options.after_batch)
        options.after_batch(batches);
      return {};
    };
    caf::error failed;
    auto err = source.scan_documents({}, [&](StoredDocument&& d) {
      ++done;
      auto target = detail::shard_of(d.doc.id, to);
      if (target != k) {
        batch.put(d.doc, d.doc.embedding.empty() ? 0 : next_label[target]++, stores[target].get());
        batch.remove(d.doc.id);
        ++in_batch;
      }
      if (in_batch >= options.batch_size || (done % options.batch_size) == 0) {
        if ((failed = commit()))
          return false;
        if (options.progress)
          options.progress(done, total);
      }
      return true;
    });
    if (failed)
      return failed;
    if (err)
      return err;
    if (auto e = commit())
      return e;
  }
  if (options.progress)
    options.progress(done, total);
  // The new layout, the stale graphs gone, the shards beyond `to` dropped.
  ShardLayout base = layout.value_or(ShardLayout{});
  if (base.executor.empty())
    base.executor = std::filesystem::path{dir}.filename().string();
  for (uint32_t k = 0; k < to; ++k) {
    auto l = base;
    l.shard = k;
    l.shards = to;
    l.partition = std::string{partition_function};
    ShardBatch meta;
    meta.put_meta("layout", l.encode());
    meta.remove_meta("hnsw");
    // The op log describes the old layout: replayed onto a copy of the new
    // one it would put documents on the wrong shard. Drop it and number the
    // shard past every old write, so that a copy still at an old number (or
    // an empty one) catches up by snapshot, never from a stale log.
    meta.truncate_log(std::numeric_limits<uint64_t>::max());
    meta.put_meta("applied", std::to_string(applied + 1));
    if (auto err = stores[k]->commit(meta, "writing the layout record"))
      return err;
  }
  std::error_code ec;
  for (uint32_t k = 0; k < span; ++k)
    std::filesystem::remove(std::filesystem::path{dir} / ("shard-" + std::to_string(k) + ".hnsw"),
                            ec);
  for (uint32_t k = to; k < span; ++k) {
    auto left = stores[k]->count();
    if (!left)
      return std::move(left.error());
    if (*left != 0)
      return fail<ReshardReport>("reshard: " + stores[k]->name() + " still holds "
                                 + std::to_string(*left) + " documents after moving");
  }
  stores.resize(to);
  for (uint32_t k = to; k < span; ++k)
    if (auto err = (*db)->drop_shard(k))
      return err;
  ShardBatch finish;
  finish.remove_meta(reshard_record);
  if (auto err = stores[0]->commit(finish, "finishing the reshard"))
    return err;
  if (auto err = stores[0]->flush())
    return err;
  return report;
}

}  // namespace caflow
