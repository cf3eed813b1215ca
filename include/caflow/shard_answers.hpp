/// uses_before / uses_after: executors that a sharded deployment's head runs
/// around its shards (Jina's keys of the same names).
///
///   executors:
///     - name: indexer
///       uses: Indexer
///       shards: 2
///       uses_before: QueryRouter            # before the shards: route, enrich
///       uses_before_with: {field: lang}
///       uses_after: MyReduce                # after them: replaces the reduce
///       uses_after_with: {keep: 5}
///
/// `uses_before`'s handler gets each request as it reaches the head: its
/// documents and parameters. The documents it leaves are what the shards get
/// (routed by the deployment's polling as usual), with the request's
/// parameters updated by what the handler returns.
///
/// `uses_after`'s handler gets one Document per shard, in shard order, and
/// the request's parameters (as the shards got them). Each such Document
/// holds one shard's answer:
///
///   id      "shard-K"
///   tags    {"shard": K, "parameters": {the shard's response parameters},
///            "error": "why it failed"}       ("error" only for a failed shard)
///   chunks  the shard's answer documents, in its order (none when it failed)
///
/// unpack_shard_answers() turns them into ShardAnswer values. Under ALL
/// polling every shard is there; under PARTITION every shard too (one that
/// had none of the request's documents with an empty answer); under ANY the
/// one shard that answered. What the handler leaves in `docs` is the
/// deployment's answer; its response parameters are the built-in reduce's,
/// updated by what the handler returns; failed shards are still counted and
/// named in the response (`failed_shards`, `failures`). When the built-in
/// would fail the request (every shard failed under ALL, any under
/// PARTITION, the one under ANY), it fails the same way and uses_after is
/// not called. An endpoint that the uses_after executor does not bind (no
/// handler and no default `*`) gets the built-in reduce.
///
///   class FirstShardWins : public caflow::Executor {
///    public:
///     explicit FirstShardWins(caflow::ExecutorContext ctx) : Executor(std::move(ctx)) {
///       on("*", [](caflow::DocumentArray& docs, const caflow::Params&) {
///         for (auto& answer : caflow::unpack_shard_answers(std::move(docs)))
///           if (!answer.failed()) { docs = std::move(answer.docs); break; }
///         return caflow::Params::object();
///       });
///     }
///   };
///
/// Both run in the head's process, each as one replica of its own (a
/// detached actor, so executor code never blocks the head), built from the
/// deployment's context with `uses_*_with` as its uses_with. A throwing
/// handler fails that request only, with its message ("indexer: uses_after:
/// ..."). Requests pass through each one at a time, in arrival order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// One shard's answer to a request, as uses_after receives it.
struct ShardAnswer {
  uint32_t shard = 0;                    ///< the shard, in [0, shards)
  DocumentArray docs{};                  ///< its answer (empty when it failed)
  Params parameters = Params::object();  ///< its response parameters
  std::string error{};                   ///< why it failed; "" when it answered

  /// True when the shard failed its part.
  [[nodiscard]] bool failed() const noexcept { return !error.empty(); }
};

/// The documents of a uses_after request (see the file comment): one per
/// shard, in the order given.
[[nodiscard]] DocumentArray pack_shard_answers(std::vector<ShardAnswer> answers);

/// The shard answers in the documents of a uses_after request. A document
/// that is not in that form counts as an answer of shard 0 without chunks.
[[nodiscard]] std::vector<ShardAnswer> unpack_shard_answers(DocumentArray docs);

}  // namespace caflow
