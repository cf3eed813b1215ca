/// The Indexer's layout record (storage/layout.hpp): what it checks when a
/// shard opens, and what it records.
///
/// Its data depends on `metric` and `index` (applied on a change: the index
/// is rebuilt from the stored vectors, with a log line) and on the dimension
/// of its vectors (recorded once known). A different flow, executor, shard
/// or shard count is refused with what differs and how to migrate; so is a
/// shard left half-moved by an unfinished `caflow reshard`, and a shard that
/// this database does not hold while it holds others of the same layout
/// (its data is elsewhere: e.g. the order of `hosts:` changed).
#pragma once

#include <optional>
#include <string>

#include "caflow/executor.hpp"
#include "storage/layout.hpp"

namespace caflow {

struct IndexerOptions;
class ShardStore;

/// The outcome of a check, to complete once the shard is loaded.
struct IndexerLayoutCheck {
  ShardLayout wanted;                   ///< what the flow asks for
  std::optional<ShardLayout> stored{};  ///< the record found, if any
};

/// Checks the layout of `store` against the flow (see the file comment).
/// Throws caflow::Error (errc::invalid_config) to refuse; drops a saved
/// HNSW graph's marker when the index must be rebuilt. `name`:
/// "indexer/shard-0".
IndexerLayoutCheck check_indexer_layout(ShardStore& store, const ExecutorContext& ctx,
                                        const IndexerOptions& options, const std::string& name);

/// Writes the record when it is new or changed; `dimension` 0 when unknown.
/// Throws caflow::Error when the store refuses.
void record_indexer_layout(ShardStore& store, const IndexerLayoutCheck& check, uint32_t dimension);

}  // namespace caflow
