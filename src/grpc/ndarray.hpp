// docarray 0.6's NdArrayProto <-> caflow's Embedding.
//
// Read: a dense array whose shape has at most one extent other than 1
// ([d], [1, d], ...) in any numeric dtype numpy writes ("<f4", "<f8", "<i8",
// "|u1", ...); or the sparse form (scipy's COO: indices [nnz, ndims], values
// [nnz], shape [1, dim]; torch's indices are [ndims, nnz]). Duplicate sparse
// positions are summed and positions sorted, as scipy's tocsr() does.
// Written: dense as "numpy" float32 [d]; sparse as "scipy" COO int32/int64
// indices [nnz, 2] with shape [1, dim], the form docarray 0.6 writes for a
// scipy.sparse row, so docarray reads it back as a scipy matrix.
#pragma once

#include <string_view>

#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "docarray.pb.h"

namespace caflow::grpc_gateway {

/// Reads an embedding; errors are errc::invalid_argument naming `where`
/// (e.g. "data.docs[3].embedding: dtype '<c8' is not a real number type").
caf::expected<Embedding> read_ndarray(const docarray::NdArrayProto& pb, std::string_view where);

/// Writes `e` (not empty) into `out`.
void write_ndarray(const Embedding& e, docarray::NdArrayProto* out);

}  // namespace caflow::grpc_gateway
