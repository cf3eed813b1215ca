// Embeddings in JSON: a dense vector as an array of numbers, a sparse one as
// {"indices": [...], "values": [...], "dim": N}. Private to the library.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// Reads a dense or sparse embedding from `x`; errors name `path`.
caf::error read_embedding(const Value& x, const std::string& path, Embedding& out);

/// The JSON value of a non-empty embedding.
Value embedding_value(const Embedding& e);

}  // namespace caflow
