/// Compact binary records of stored documents and their embeddings.
///
/// A stored document is split in two records so that an index can be
/// rebuilt, and labels listed, without decoding document bodies:
///
/// - the body: a version byte, then the CAF binary serialisation of id,
///   parent_id, text, uri, blob, mime_type, tags and chunks (not the
///   embedding, scores or matches);
/// - the vector: a version byte, the shard's label (u64), kind (u8: 0 dense,
///   1 sparse), dimension (u32), count (u32), then the sparse indices (u32
///   each) and the values (f32 each) as packed bytes in the host's byte order
///   (little-endian on every platform caflow builds on).
///
///   std::string body = encode_document(doc);
///   caf::expected<Document> back = decode_document(body);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "caflow/document.hpp"

namespace caflow {

/// The version byte of both record kinds; bumped on any format change.
inline constexpr uint8_t doc_codec_version = 1;

/// The body record of `doc` (see the file comment).
std::string encode_document(const Document& doc);

/// Decodes a body record; errc::storage_error naming the problem when the
/// bytes are not one (wrong version, truncated).
caf::expected<Document> decode_document(std::string_view bytes);

/// The vector record of `v` stored under `label`.
std::string encode_embedding(uint64_t label, const Embedding& v);

/// A decoded vector record.
struct StoredEmbedding {
  uint64_t label = 0;
  Embedding embedding;
};

/// Decodes a vector record; errc::storage_error when malformed.
caf::expected<StoredEmbedding> decode_embedding(std::string_view bytes);

/// Only the label of a vector record (cheap: no copy of the values).
caf::expected<uint64_t> decode_label(std::string_view bytes);

}  // namespace caflow
