// jina.DataRequestProto's wire bytes read straight into a caflow Request,
// for the requests clients send (a header, parameters, documents with ids,
// text or blobs, uris, mime types, nested matches and chunks, embeddings,
// tags, scores), without building the generated message first: building
// it costs more than the rest of the request (each DocumentProto is a
// ~200-byte object with two map fields).
//
// Anything else — a tensor, a field caflow refuses (weight, modality, ...),
// routes, a status in the header, docs_bytes, unknown fields, groups,
// damaged bytes of any kind (truncated, overlong varints, bad lengths, bad
// UTF-8 in a string field), a value read_ndarray refuses, nesting deeper
// than a few dozen levels — makes it give up: the caller then parses with
// the generated classes (parse + decode_request), which also name every
// error. So a request read here is the one decode_request would make
// (tests/grpc/wire_codec_test.cpp checks both on random and damaged
// requests), and every error comes from the generated path.
//
// Embeddings, tags and scores are parsed by the generated classes, per
// document that has them: their bytes (every occurrence, so repeated
// fields merge as protobuf merges them) as a DocumentProto of their own.
#pragma once

#include <optional>

#include <grpcpp/support/byte_buffer.h>

#include "caflow/messages.hpp"

namespace caflow::grpc_gateway {

/// The request in `in`, or nullopt: read it with the generated classes.
std::optional<Request> read_request(const grpc::ByteBuffer& in);

}  // namespace caflow::grpc_gateway
