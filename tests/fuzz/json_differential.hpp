/// The differential check between caflow's two JSON implementations: the
/// general path (parse_json -> Value -> to_document(s), to_value -> to_json)
/// and the event-based fast path (json_fast::*), which must agree exactly.
///
/// The fast readers may decline an input (return false) — the caller then
/// runs the general path, which gives the result or the exact error — but
/// whatever they accept must be what the general path yields. The fast
/// writers must write byte for byte what to_json(to_value(...)) writes.
/// Shared by the `documents` fuzz target and the unit tests.
#pragma once

#include <string_view>

#include "caflow/document.hpp"

namespace caflow::fuzz {

/// Both readers on `data` (as one document, as documents, as a request
/// envelope): throws Failure when the fast path accepts and disagrees.
void check_readers_agree(std::string_view data);

/// Both writers on `doc`: throws Failure when the texts differ.
void check_writers_agree(const Document& doc);

}  // namespace caflow::fuzz
