/// JSON for values and documents, in DocArray's JSON shape.
///
/// A document is written as
///
///   {"id": "a1", "text": "hello", "uri": "...", "blob": "<base64>",
///    "mime_type": "text/plain", "parent_id": "...", "tags": {...},
///    "embedding": [0.1, 0.2],
///    "scores": {"cosine": {"value": 0.9}},
///    "matches": [...], "chunks": [...]}
///
/// with empty fields left out. A sparse embedding is written as an object:
///
///   "embedding": {"indices": [3, 17], "values": [0.5, 0.8], "dim": 1000}
///
/// Reading accepts what Jina 3's HTTP clients send: every field present,
/// mostly null, numbers as floats (`3.0`), unknown keys (ignored), scores as
/// `{"value": x, "op_name": ...}` or a plain number, and `tensor` in place of
/// `embedding`. Errors say where and what: "line 1, column 17: syntax error"
/// for malformed text, "docs[2].embedding[1]: expected a number, got string"
/// for a wrong type. No function here throws.
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// Parses JSON text into a Value. Integers stay integers; other numbers are
/// doubles. Nesting deeper than 512 levels is refused.
caf::expected<Value> parse_json(std::string_view text);

/// Compact JSON text of a value.
std::string to_json(const Value& value);

/// Parses one document from JSON text.
caf::expected<Document> parse_document(std::string_view text);

/// Converts a parsed JSON value into a document; `where` prefixes error paths.
caf::expected<Document> to_document(const Value& value, std::string_view where = "");

/// Parses documents from a JSON array, or from an object `{"docs": [...]}`.
caf::expected<DocumentArray> parse_documents(std::string_view text);

/// Converts a JSON array, or `{"docs": [...]}`, into documents.
caf::expected<DocumentArray> to_documents(const Value& value, std::string_view where = "");

/// A document as a JSON object value (empty fields left out).
Value to_value(const Document& doc);

/// Documents as a JSON array value.
Value to_value(const DocumentArray& docs);

/// Compact JSON text of a document.
std::string to_json(const Document& doc);

/// Compact JSON text of a document array (a JSON array).
std::string to_json(const DocumentArray& docs);

}  // namespace caflow
