#include "http/request_checks.hpp"

#include <cmath>
#include <string>

#include <boost/beast/core/string.hpp>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"

namespace caflow::http {

namespace {

Refusal refuse(unsigned status, std::string message) {
  return Refusal{status, make_error(errc::invalid_argument, std::move(message))};
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view strip_utf8_bom(std::string_view body) {
  return starts_with(body, "\xEF\xBB\xBF") ? body.substr(3) : body;
}

std::optional<Refusal> check_body_encoding(std::string_view content_encoding,
                                           std::string_view body) {
  if (!content_encoding.empty() && !boost::beast::iequals(content_encoding, "identity"))
    return refuse(415, "Content-Encoding '" + std::string{content_encoding.substr(0, 40)}
                         + "' is not supported: send the JSON body uncompressed");
  // curl --data-binary @file.json.gz sends no Content-Encoding.
  if (starts_with(body, "\x1f\x8b"))
    return refuse(415,
                  "the body is gzip-compressed (it starts with the gzip magic bytes 1f 8b): "
                  "send the JSON uncompressed");
  if (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x78
      && (static_cast<unsigned char>(body[0]) * 256 + static_cast<unsigned char>(body[1])) % 31
           == 0)
    return refuse(415,
                  "the body is zlib-compressed (it starts with a zlib header): "
                  "send the JSON uncompressed");
  if (starts_with(body, "\xFF\xFE") || starts_with(body, "\xFE\xFF"))
    return refuse(415, "the body is UTF-16 (it starts with a UTF-16 byte order mark): send UTF-8");
  if (starts_with(body, std::string_view{"\x00\x00\xFE\xFF", 4}))
    return refuse(415, "the body is UTF-32 (it starts with a UTF-32 byte order mark): send UTF-8");
  return std::nullopt;
}

std::optional<Refusal> check_limits(const Request& req, const RequestLimits& limits) {
  auto n = req.docs.size();
  if (limits.max_docs > 0 && n > limits.max_docs)
    return refuse(413, "the request holds " + std::to_string(n) + " documents, over the limit of "
                         + std::to_string(limits.max_docs)
                         + " per request (ServerOptions::max_docs, caflow flow --max-docs): "
                           "send them in smaller requests (caflow post --request-size)");
  const Value* k = req.parameters.is_object() ? req.parameters.find("top_k") : nullptr;
  if (k == nullptr || k->is_null())
    return std::nullopt;
  auto bad = [&](const std::string& got) {
    return refuse(400, "parameters.top_k: expected a whole number from 0 to "
                         + std::to_string(limits.max_top_k > 0 ? limits.max_top_k : INT64_MAX)
                         + ", got " + got);
  };
  int64_t top_k = 0;
  if (k->is_int()) {
    top_k = k->as_int();
  } else if (k->is_double()) {
    double d = k->as_double();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) >= 9.2e18)
      return bad(to_json(*k));
    top_k = static_cast<int64_t>(d);
  } else {
    return bad(std::string{to_string(k->kind())} + " " + to_json(*k).substr(0, 40));
  }
  if (top_k < 0 || (limits.max_top_k > 0 && top_k > limits.max_top_k))
    return bad(std::to_string(top_k)
               + (top_k < 0 ? "" : " (ServerOptions::max_top_k, caflow flow --max-top-k)"));
  if (limits.max_matches > 0 && n > 0 && static_cast<uint64_t>(top_k) > limits.max_matches / n)
    return refuse(400, std::to_string(n) + " queries x top_k " + std::to_string(top_k)
                         + " ask for more than " + std::to_string(limits.max_matches)
                         + " matches in one request (ServerOptions::max_matches, caflow flow "
                           "--max-matches): send fewer queries per request or a smaller top_k");
  return std::nullopt;
}

}  // namespace caflow::http
