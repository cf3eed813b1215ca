/// PARTITION polling: splitting a request's documents across shards by a
/// stable hash of their id, and putting the shards' answers back in request
/// order. Pure functions; no actors.
///
///   auto plan = detail::partition(std::move(docs), shards);
///   // send plan.parts[k] to shard k (moving them out is fine) ...
///   DocumentArray out = detail::reassemble(plan, std::move(answers), answered);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caflow/document.hpp"

namespace caflow::detail {

/// The shard (in [0, shards)) that owns document id `id`: FNV-1a 64-bit of the
/// id's bytes, modulo `shards`. Stable across processes, platforms and
/// releases, since stored data depends on it. Returns 0 when `shards` is 0.
uint32_t shard_of(std::string_view id, uint32_t shards);

/// The split of one request's documents across shards.
struct Partition {
  /// parts[k]: the documents for shard k, in request order.
  std::vector<DocumentArray> parts;
  /// positions[k][j]: the request index of parts[k][j].
  std::vector<std::vector<size_t>> positions;
  /// ids[k][j]: the id of parts[k][j]; kept so that `reassemble` still works
  /// after `parts` was moved out to the shards.
  std::vector<std::vector<std::string>> ids;
  /// The number of documents in the request.
  size_t total = 0;
};

/// Moves each document of `docs` to part shard_of(id, shards). `shards` of 0
/// counts as 1.
Partition partition(DocumentArray docs, uint32_t shards);

/// Puts the shards' answers back in request order. Reads only
/// `plan.positions` and `plan.ids` (never `plan.parts`).
///
/// `answers[k]` is shard k's answer. When `answered` is non-empty,
/// `answered[k] == false` marks shard k as failed: its answer is ignored and
/// its documents are absent from the result (the caller reports the failed
/// shard). An empty `answered` means every shard answered; missing trailing
/// entries of `answers` count as failed shards.
///
/// For an answering shard k:
/// - same count as sent: answer doc j goes to request position positions[k][j];
/// - different count (the executor added or removed documents): a doc whose id
///   is one the shard was sent goes to that id's position (first occurrence
///   only); other docs are appended after all positioned docs, in shard order
///   then answer order. Sent docs not returned are absent.
DocumentArray reassemble(const Partition& plan, std::vector<DocumentArray> answers,
                         const std::vector<bool>& answered = {});

}  // namespace caflow::detail
