/// Reducing the answers of several shards (ALL polling) and joining the
/// outputs of several upstream deployments (`needs`). Pure functions; no
/// actors.
///
/// Jina's head concatenates shard matches in shard order; caflow merges them
/// by score, as Faiss IndexShards and Elasticsearch do, so that ALL polling
/// over n shards that each return their local top-k yields the global top-k:
///
///   DocumentArray out = detail::reduce_shard_answers(std::move(answers), top_k);
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow::detail {

/// False for distance-like score names, where lower is better: "euclidean",
/// "sqeuclidean", "l1", "l2", "manhattan", "hamming", "distance" and any name
/// containing "distance" or "euclid" (case-insensitive). True otherwise
/// (cosine, inner_product, ip, dot, bm25, ...).
bool higher_is_better(std::string_view score_name);

/// Sorts matches best first, stably. The ranking score is the first score name
/// (in name order) of the first match that has any scores; its direction comes
/// from higher_is_better. Matches lacking that score (or whose value is NaN)
/// go last; ties are broken by id ascending, so the order is deterministic.
/// When no match has a score the order is left unchanged.
void sort_matches(std::vector<Document>& matches);

/// Reduces the answers of all shards to one request's answer (ALL polling).
///
/// Documents are merged by id: in the order of the first answer, then ids that
/// only later answers hold, appended in their order. (A repeated id is merged
/// occurrence by occurrence: the n-th copy in one answer with the n-th copy in
/// another.) For each document every field comes from the first answer that
/// holds it, except `matches`: the matches of all answers are concatenated,
/// de-duplicated by match id (the best-scoring copy stays), sorted with
/// sort_matches and cut to `top_k` when given. In particular `chunks`, tags,
/// scores, text and embedding of later answers are dropped: shards of one
/// index receive the same query documents and differ only in what they match.
/// A failed shard is passed as an empty answer (or left out).
DocumentArray reduce_shard_answers(std::vector<DocumentArray> answers, std::optional<size_t> top_k);

/// `docs` in the order of `ids` (a request's document ids; a repeated id
/// takes the next document with it), then any document whose id is not
/// among them. Shards answering ALL may return fewer documents than they were
/// sent (the Indexer's /fetch returns only what it holds), so their merge can
/// come out in shard order; this puts it back in request order.
DocumentArray order_like(const std::vector<std::string>& ids, DocumentArray docs);

/// How reduce_parameters combines the "not_found" lists of its answers.
enum class NotFound {
  /// The answers were asked about different documents (PARTITION parts, the
  /// requests of one post): an id any answer lacks is unknown (union).
  join,
  /// The answers were asked about the same documents (the shards of one
  /// request under ALL polling): an id is unknown only when every answer
  /// lacks it (intersection).
  intersect,
};

/// Reduces the shards' response parameters: the first object answer's members
/// win, except an integer member "count", which is the sum over all answers
/// that have one (so /count with ALL polling counts every shard), and the
/// array "not_found" (ids an executor did not hold, e.g. the Indexer's
/// /update, /delete and /fetch), combined by `not_found` over the answers
/// that have one, in first-seen order without repeats. Answers that are not
/// objects are ignored; with none, the result is an empty object.
Params reduce_parameters(const std::vector<Params>& answers, NotFound not_found = NotFound::join);

/// Joins the outputs of several upstream deployments (`needs`) by document id.
///
/// Order: that of the first input, then ids new in later inputs, appended in
/// their order (repeated ids are matched occurrence by occurrence). For one
/// id, earlier inputs win and later ones fill in what is missing: empty text,
/// uri, blob, mime_type, parent_id and embedding are taken from later inputs;
/// tag keys and score names absent in the earlier document are added (a
/// non-object earlier `tags` is replaced by a later object); matches and
/// chunks are appended, skipping ids already present. Matches are not
/// re-sorted.
DocumentArray join_by_id(std::vector<DocumentArray> inputs);

}  // namespace caflow::detail
