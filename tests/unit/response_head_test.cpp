// The HTTP server's answer heads against what Beast's serializer writes for
// the same response (the way Session::reply built them before).
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/response_head.hpp"

using namespace caflow::http;

namespace {

namespace bhttp = boost::beast::http;

// Session::reply's former answer, serialised by Beast.
std::string by_beast(const ResponseHead& h, const std::string& body) {
  bhttp::response<bhttp::string_body> res;
  res.result(h.status);
  res.version(h.version);
  res.set(bhttp::field::server, "caflow");
  res.set(bhttp::field::content_type, h.content_type);
  if (!h.allow.empty())
    res.set(bhttp::field::allow, h.allow);
  if (h.status == 503)
    res.set(bhttp::field::retry_after, "1");
  res.keep_alive(h.keep_alive);
  res.body() = body;
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

}  // namespace

TEST_CASE("response heads are the bytes Beast writes for the same answer") {
  const std::string bodies[] = {"", "{}", std::string(70000, 'x')};
  for (unsigned status : {200u, 400u, 404u, 405u, 413u, 500u, 503u, 504u, 101u, 204u, 304u, 299u})
    for (unsigned version : {10u, 11u})
      for (bool keep_alive : {true, false})
        for (const char* allow : {"", "POST"})
          for (const char* type : {"application/json", "text/plain; version=0.0.4; charset=utf-8"})
            for (const auto& body : bodies) {
              // Beast refuses a body on the statuses that carry none.
              bool bodiless = status / 100 == 1 || status == 204 || status == 304;
              if (bodiless && !body.empty())
                continue;
              ResponseHead h{.status = status,
                             .version = version,
                             .content_type = type,
                             .allow = allow,
                             .keep_alive = keep_alive,
                             .content_length = body.size()};
              std::string ours;
              append_response_head(ours, h);
              ours += body;
              CAPTURE(status);
              CAPTURE(version);
              CAPTURE(keep_alive);
              CAPTURE(allow);
              CHECK(ours == by_beast(h, body));
            }
}

TEST_CASE("a response head is appended after what the string holds") {
  std::string out = "kept";
  append_response_head(out, {.status = 200, .content_length = 2});
  CHECK(out
        == "keptHTTP/1.1 200 OK\r\nServer: caflow\r\nContent-Type: application/json\r\n"
           "Content-Length: 2\r\n\r\n");
}
