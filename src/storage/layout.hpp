/// The layout record of a shard: what its stored data was written under.
///
/// Each shard's store holds one record (metadata `layout`, JSON), written at
/// its first start and rewritten by `caflow reshard` and by migrations:
///
///   {"format": 1, "flow": "seed-3f9a…", "executor": "indexer", "uses": "Indexer",
///    "shard": 0, "shards": 2, "partition": "fnv1a64-mod",
///    "data": {"metric": "cosine", "index": "exact", "dimension": "176112"}}
///
/// `data` holds what the executor says its stored data depends on. A start
/// compares the record with what the flow asks for (`compare_layouts`):
/// identity and placement (flow, executor, type, shard, shard count,
/// partition function) must match, or the start is refused with a message
/// that says what differs and how to migrate; a data entry the executor can
/// rebuild from what it stores (the Indexer's metric and index type) is
/// applied with a log line. Pure functions; no storage access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace caflow {

/// The name of the one partition function there is: FNV-1a 64 of the id's
/// bytes modulo the shard count (runtime/partition.hpp).
inline constexpr std::string_view partition_function = "fnv1a64-mod";

/// A shard's layout (see the file comment).
struct ShardLayout {
  std::string flow{};                         ///< the flow's identity (stored in its workspace)
  std::string executor{};                     ///< the deployment's name
  std::string uses{};                         ///< the executor type
  uint32_t shard = 0;                         ///< this shard's id
  uint32_t shards = 1;                        ///< the deployment's shard count
  std::string partition{partition_function};  ///< how ids map to shards
  std::map<std::string, std::string> data{};  ///< executor-declared dependencies

  /// The record's JSON text.
  [[nodiscard]] std::string encode() const;
  /// Parses a record; errc::storage_error naming the problem.
  static caf::expected<ShardLayout> decode(std::string_view text);
};

/// One difference between a stored and a wanted layout.
struct LayoutDifference {
  std::string key;     ///< "shards", "flow", "data.metric", ...
  std::string stored;  ///< the stored value ("" when absent)
  std::string wanted;  ///< the wanted value ("" when absent)
};

/// What a start does about a stored layout.
struct LayoutVerdict {
  /// Refused: the message says what differs and how to migrate.
  std::optional<std::string> refusal{};
  /// Differences in rebuildable data entries, to apply (rebuild, rewrite).
  std::vector<LayoutDifference> to_apply{};
};

/// The differences of `wanted` from `stored`. A data entry that is empty in
/// `wanted` (not known yet, e.g. the dimension of an empty index) is not a
/// difference.
std::vector<LayoutDifference> compare_layouts(const ShardLayout& stored, const ShardLayout& wanted);

/// Decides a start (see the file comment): `rebuildable` names the data
/// entries the executor can apply by rebuilding from its stored data;
/// `name` ("indexer/shard-0") and `store_path` go into the messages.
LayoutVerdict judge_layout(const ShardLayout& stored, const ShardLayout& wanted,
                           const std::set<std::string>& rebuildable, const std::string& name,
                           const std::string& store_path);

}  // namespace caflow
