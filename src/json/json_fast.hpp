// The JSON fast paths: text straight to Documents and Documents straight to
// text, with no caflow::Value tree in between. Private to the library.
//
// The readers accept only input they can convert exactly as the general path
// (parse_json, then to_documents) would; on anything else (malformed text, a
// type error, a repeated field, an unusual form) they return false and the
// caller runs the general path, which yields the result or the exact error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow::json_fast {

// ---- writing (compact JSON, byte for byte what to_json(to_value(...)) writes)

/// Appends `s` as a JSON string.
void append_string(std::string& out, std::string_view s);

/// Appends a double as to_json(Value{d}) writes it.
void append_double(std::string& out, double d);

/// Appends an integer.
void append_int(std::string& out, int64_t i);

/// Appends to_json(x).
void append_value(std::string& out, const Value& x);

/// Appends to_json(doc).
void append_document(std::string& out, const Document& doc);

/// Appends the JSON array of `count` documents from `first`.
void append_documents(std::string& out, const Document* first, size_t count);

/// Appends the JSON value of a non-empty embedding (embedding_value's text).
void append_embedding(std::string& out, const Embedding& e);

// ---- reading ---------------------------------------------------------------

/// parse_document's result, when the fast path can tell.
bool parse_document(std::string_view text, Document& out);

/// parse_documents' result, when the fast path can tell.
bool parse_documents(std::string_view text, std::vector<Document>& out);

/// Reads a JSON object whose "data" member holds documents (an array, or
/// {"docs": [...]}): `rest` gets every other member as a Value object, `data`
/// the documents when "data" is present and not null. The documents are what
/// to_documents(data, "data") yields.
bool parse_envelope(std::string_view text, Value& rest, std::optional<std::vector<Document>>& data);

}  // namespace caflow::json_fast
