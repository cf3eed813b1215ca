#include "http/response_head.hpp"

#include <charconv>
#include <ostream>  // boost/core/detail/string_view.hpp uses it without including it

#include <boost/beast/http/status.hpp>

namespace caflow::http {

void append_response_head(std::string& out, const ResponseHead& head) {
  namespace bhttp = boost::beast::http;
  auto number = [&out](size_t n) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    out.append(buf, static_cast<size_t>(end - buf));
  };
  auto field = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  out += head.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  number(head.status);
  out += ' ';
  // Beast's own phrases ("<unknown-status>" for a code it does not know).
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(head.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  field("Server", "caflow");
  field("Content-Type", head.content_type);
  if (!head.allow.empty())
    field("Allow", head.allow);
  // Overloaded or a replica away: worth a retry soon (caflow post honours it).
  if (head.status == 503)
    field("Retry-After", "1");
  // HTTP/1.1 keeps a connection unless told; HTTP/1.0 closes unless told.
  if (head.version >= 11 && !head.keep_alive)
    field("Connection", "close");
  else if (head.version < 11 && head.keep_alive)
    field("Connection", "keep-alive");
  // As Beast's prepare_payload (1.81) writes it for every status.
  out += "Content-Length: ";
  number(head.content_length);
  out += "\r\n\r\n";
}

}  // namespace caflow::http
