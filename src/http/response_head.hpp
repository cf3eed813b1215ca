// The status line and header fields of the HTTP server's answers, written
// straight into a string: the bytes Beast's serializer writes for the
// response Session::reply used to build (a
// response<string_body> with Server, Content-Type, Allow, Retry-After,
// keep_alive and prepare_payload, in that order). Beast's serializer walked
// a chain of buffer views for every answer, about a tenth of an answer's
// server CPU; the answer now goes out as two buffers (head, body) in one
// sendmsg.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace caflow::http {

/// What an answer's head says.
struct ResponseHead {
  unsigned status = 200;
  unsigned version = 11;  ///< 10 or 11, as Beast numbers HTTP/1.0 and 1.1
  std::string_view content_type = "application/json";
  std::string_view allow{};  ///< the Allow field of a 405 ("" = none)
  bool keep_alive = true;
  size_t content_length = 0;
};

/// Appends the head (status line, fields, the empty line) to `out`.
void append_response_head(std::string& out, const ResponseHead& head);

}  // namespace caflow::http
