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

/// True when `d` converts to a finite float (round to nearest): |d| below
/// FLT_MAX plus half an ulp. Larger numbers would become infinities, which
/// JSON cannot write back (they come out as null), and converting a double
/// outside float's range is undefined behaviour in C++.
inline bool fits_float(double d) {
  return d > -0x1.ffffffp127 && d < 0x1.ffffffp127;
}

/// The JSON value of a non-empty embedding.
Value embedding_value(const Embedding& e);

}  // namespace caflow
