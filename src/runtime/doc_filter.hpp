/// `when`: a document filter in DocArray's query language (private; the
/// subset Jina documents), compiled once and evaluated per document.
///
///   {tags__price: {$gt: 5}}                         a field and its conditions
///   {tags__price: {$gte: 5, $lt: 10}, text: {$regex: '^free'}}   all must hold
///   {$or: [{tags__kind: {$eq: a}}, {tags__kind: {$in: [b, c]}}]} any may hold
///
/// Field paths split at `__`: `id`, `parent_id`, `text`, `uri`, `mime_type`,
/// `tags__K[__K2...]` (nested tags), `scores__NAME` and `embedding__dim`.
/// Operators: `$eq $ne $lt $lte $gt $gte` (numbers compare as numbers,
/// strings as strings; an absent field or other types make the order
/// operators false and `$ne` true), `$in $nin` (a list), `$exists` (true or
/// false; a tags path exists when present and not null, a text field when
/// not empty), `$regex` (ECMAScript, searched anywhere in a string field, as
/// Python's re.search). `$and`/`$or` take a non-empty list of filters. An
/// empty filter matches every document.
///
///   auto filter = DocFilter::compile(when);   // FilterError names the bad entry
///   if (std::holds_alternative<FilterError>(filter)) ...
///   bool takes = std::get<DocFilter>(filter).matches(doc);
///
/// Thread-safety: a compiled filter is immutable; matches() may run on many
/// threads at once.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow::detail {

/// Why a filter does not compile, and where: the keys (and list positions,
/// as "[i]") from the filter's root to the offending entry.
struct FilterError {
  std::vector<std::string> path;
  std::string what;

  /// "tags__price.$gtt: unknown operator ..." (the path joined by dots).
  [[nodiscard]] std::string message() const;

  /// The path alone, joined as in message(): "$or[1].tags__x" ("" at the root).
  [[nodiscard]] std::string joined_path() const;
};

class DocFilter {
 public:
  /// Compiles `when` (an object; see the file comment).
  [[nodiscard]] static std::variant<DocFilter, FilterError> compile(const Value& when);

  /// True when `doc` satisfies the filter.
  [[nodiscard]] bool matches(const Document& doc) const;

  struct Node;  // the compiled tree (doc_filter.cpp)

 private:
  std::shared_ptr<const Node> root_;
};

/// A deployment's input split by its filter: the documents it takes, the
/// ones that skip it, and which was which (by input position).
struct FilterSplit {
  DocumentArray taken;
  DocumentArray skipped;
  std::vector<bool> taken_at;
};

/// Splits `docs` by `filter`, keeping each part in input order.
[[nodiscard]] FilterSplit split_by(const DocFilter& filter, DocumentArray docs);

/// The deployment's output with the skipped documents back at their input
/// positions: `answered` (the deployment's answer for the taken documents)
/// fills the taken positions in order; if it holds more or fewer documents
/// than were taken, the surplus goes after the last position and missing
/// ones leave their positions out.
[[nodiscard]] DocumentArray rejoin(const std::vector<bool>& taken_at, DocumentArray answered,
                                   DocumentArray skipped);

}  // namespace caflow::detail
