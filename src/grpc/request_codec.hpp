// Jina 3.0's DataRequestProto (documents as docarray 0.6's DocumentProto)
// <-> caflow's Request and Response. Pure functions, no I/O.
//
// A request's header gives request_id (generated when empty), exec_endpoint
// (default "/") and target_executor; `parameters` is a Struct; the documents
// come in data.docs (data.docs_bytes, docarray's pickled form, is refused).
// A document's `tensor` stands in for a missing embedding (as over HTTP;
// with an embedding beside it, it is refused). Document fields caflow has no
// place for (weight, modality, offset, location, evaluations) are refused
// with the field's path rather than dropped; granularity and adjacency follow from the nesting and
// are written back that way.
//
// A response echoes the header, carries the request's parameters with the
// executors' on top (as Jina's do), routes (the gateway first, then every
// executor) and the documents. A failure is written in-band like Jina's:
// header.status = {code: ERROR, description, exception: {name, args,
// stacks, executor}}.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "caflow/messages.hpp"
#include "docarray.pb.h"
#include "jina.pb.h"

namespace caflow::grpc_gateway {

/// What the gateway keeps of a request to answer it.
struct Exchange {
  std::string request_id{};
  std::string endpoint{};
  std::string target_executor{};
  Params parameters = Params::object();  ///< the request's, echoed
  int64_t start_us = 0;                  ///< received (µs since the epoch)
  int64_t end_us = 0;                    ///< answered
};

/// Reads a request, moving its strings out of `msg`. Errors are
/// errc::invalid_argument naming the field ("data.docs[2].tensor: ...").
caf::expected<Request> decode_request(jina::DataRequestProto& msg);

/// The Exchange of a decoded request (parameters copied).
Exchange exchange_of(const Request& req, int64_t start_us);

/// The parameters of a successful answer: the request's with the
/// executors' on top, and the shards that failed (as Jina's gateway).
Params response_parameters(const Response& resp, const Exchange& ex);

/// Writes a successful response, moving the documents out of `resp`.
void encode_response(Response&& resp, const Exchange& ex, jina::DataRequestProto* out);

/// Writes a failed request in-band (header.status ERROR), no documents.
void encode_error(const caf::error& err, const Exchange& ex, jina::DataRequestProto* out);

/// A document from its proto, moving strings out of `pb`; `where` names it
/// in errors.
caf::expected<Document> from_proto(docarray::DocumentProto& pb, const std::string& where);

/// Writes `doc` (moved from) into `out` at the given nesting.
void to_proto(Document&& doc, docarray::DocumentProto* out, uint32_t granularity = 0,
              uint32_t adjacency = 0);

}  // namespace caflow::grpc_gateway
