/// Checks the gateway makes on a request before the flow sees it: the body's
/// encoding (415 for compressed or UTF-16 bodies, which the JSON parser
/// would only call "invalid UTF-8") and the limits that keep one request from
/// exhausting the flow's memory (documents per request, top_k, matches).
/// Pure functions; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <caf/error.hpp>

#include "caflow/messages.hpp"

namespace caflow::http {

/// A request the gateway refuses: the HTTP status and the error to send.
struct Refusal {
  unsigned status = 400;
  caf::error error;
};

/// What one request may ask of the flow (ServerOptions' limits).
struct RequestLimits {
  size_t max_docs = 0;     ///< documents per request; 0 = no limit
  int64_t max_top_k = 0;   ///< largest parameters.top_k; 0 = no limit
  size_t max_matches = 0;  ///< documents x top_k; 0 = no limit
};

/// 415 when the body is compressed (a Content-Encoding other than identity,
/// or gzip/zlib magic bytes without one) or UTF-16/32 (a byte order mark).
std::optional<Refusal> check_body_encoding(std::string_view content_encoding,
                                           std::string_view body);

/// `body` without a leading UTF-8 byte order mark (RFC 8259 8.1 lets a
/// parser ignore one; Windows tools write it).
std::string_view strip_utf8_bom(std::string_view body);

/// 400 when parameters.top_k is not a whole number in [0, max_top_k] (Jina's
/// clients send 3.0 for 3, which passes) or documents x top_k exceed
/// max_matches; 413 when the request holds more than max_docs documents.
std::optional<Refusal> check_limits(const Request& req, const RequestLimits& limits);

}  // namespace caflow::http
