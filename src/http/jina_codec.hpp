/// Jina 3's HTTP wire format <-> caflow's Request and Response. Pure
/// functions, no I/O.
///
/// A request body (Jina's 3.0 client, curl users and caflow's client):
///
///   {"data": [...docs...] | {"docs": [...]}, "execEndpoint": "/search",
///    "parameters": {...}, "targetExecutor": "...",
///    "header": {"request_id": "...", "exec_endpoint": "...", "target_executor": "..."}}
///
/// with camelCase or snake_case keys, top level or inside "header" (the top
/// level wins). A response body follows `DataRequest.to_dict()` of Jina 3,
/// which writes the proto's own (snake_case) field names and integer enums,
/// because Jina's client feeds everything but "data" to protobuf's ParseDict,
/// which rejects unknown keys:
///
///   {"header": {"request_id": "...", "status": null | {"code": 3, "description": "...",
///               "exception": {"name": "timeout", "args": ["..."], "executor": ""}},
///               "exec_endpoint": "/search", "target_executor": ""},
///    "parameters": {...},
///    "routes": [{"executor": "gateway", "start_time": "2026-01-02T03:04:05.123456Z",
///                "end_time": "...", "status": null}, ...],
///    "data": [...docs...]}
///
/// Partial shard failures keep the documents; since the header can take no
/// extra key, the failure count and lines go into the parameters under
/// `failed_shards_key` and `failures_key` (only when a shard failed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "caflow/messages.hpp"
#include "caflow/value.hpp"
#include "http/jina_status.hpp"
#include "runtime/post_batches.hpp"

namespace caflow::http {

/// Parameter keys carrying partial shard failures in a response.
using detail::failed_shards_key;
using detail::failures_key;

/// What the server knows about a request besides the Response.
struct Exchange {
  std::string request_id{};       ///< echoed in header.request_id
  std::string endpoint{};         ///< header.exec_endpoint
  std::string target_executor{};  ///< header.target_executor
  int64_t start_us = 0;           ///< request received (µs since the epoch)
  int64_t end_us = 0;             ///< response ready
  /// The request's parameters: Jina's response carries them, with what the
  /// executors added on top.
  Params parameters = Params::object();
};

/// Reads a request body. `path_endpoint` is the endpoint named by the URL
/// (/index, /search, ...) and overrides the body's; "" for /post, where the
/// body's execEndpoint (default "/") applies. Errors are errc::invalid_json
/// naming the field, e.g. "data[3].embedding[1]: expected a number, got string".
caf::expected<Request> decode_request(std::string_view body, std::string_view path_endpoint);

/// Writes a successful response body.
std::string encode_response(const Response& resp, const Exchange& ex);

/// Writes an error response body: header.status carries Jina's error code,
/// the message as description and the caflow error name as exception.name.
std::string encode_error(const caf::error& err, const Exchange& ex);

/// True when `err` is a caflow error (category "caflow").
bool is_caflow(const caf::error& err);

/// The HTTP status of an error: 200 for an executor's failure, which Jina
/// answers in-band (header.status ERROR; see jina_status.hpp), 400 bad
/// input, 404 not found, 503 overloaded or unavailable, 504 timeouts
/// (caflow's and CAF's request timeout), 500 else.
int http_status(const caf::error& err);

/// RFC 3339 UTC time with microseconds, as protobuf's JSON writes Timestamps.
std::string iso8601(int64_t micros_since_epoch);

/// Microseconds since the epoch now.
int64_t now_us();

// ---- the client's side -------------------------------------------------------

/// A request body for `endpoint` (the format above, snake_case).
std::string encode_post(std::string_view endpoint, const DocumentArray& docs,
                        const Params& parameters, std::string_view target_executor);

/// The same for the `count` documents from `first` (a slice of a larger
/// array, written without copying it).
std::string encode_post(std::string_view endpoint, const Document* first, size_t count,
                        const Params& parameters, std::string_view target_executor);

/// A response body read back (parameters without the failure keys).
using DecodedResponse = detail::PostAnswer;

/// Reads a response body answered 200; one whose header.status is Jina's
/// ERROR (an executor failed, in-band) is the error it names.
caf::expected<DecodedResponse> decode_response(std::string_view body);

/// The caflow error for an HTTP error reply: the code from the body's
/// header.status.exception.name when it names an errc, else from the status
/// (400 invalid_argument, 404 not_found, 503 unavailable, 504 timeout, 500
/// executor_failed); the message says "HTTP <status>: <description>".
caf::error error_from_reply(int status, std::string_view body);

}  // namespace caflow::http
