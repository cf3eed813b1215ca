// A successful answer written as jina.DataRequestProto's wire bytes
// straight from the Response, into one gRPC slice of the exact size: the
// message encode_response would build (tests/grpc/wire_codec_test.cpp parses
// both and compares), without building it. Building it costs more than the
// rest of the answer: each DocumentProto is a ~200-byte object with two map
// fields, and serialising it walks it twice more (sizes, then bytes).
//
// Tags and parameters (google.protobuf.Struct) and sparse embeddings are
// still built with the generated classes and embedded as bytes: they are
// rare and small next to the documents.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include "caflow/messages.hpp"
#include "grpc/request_codec.hpp"

namespace caflow::grpc_gateway {

/// The bytes of encode_response(resp, ex) (documents read, not moved).
grpc::ByteBuffer write_response(const Response& resp, const Exchange& ex);

}  // namespace caflow::grpc_gateway
