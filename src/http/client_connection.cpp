#include "http/client_connection.hpp"

#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "caflow/errors.hpp"

namespace caflow::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using net::ip::tcp;

namespace {

void set_expiry(beast::tcp_stream& stream, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0)
    stream.expires_after(timeout);
  else
    stream.expires_never();
}

// Runs the io_context until the one operation started before completes.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

ClientConnection::ClientConnection(std::string host, uint16_t port, ClientOptions options)
  : host_(std::move(host)), port_(port), options_(options) {
}

void ClientConnection::disconnect() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

caf::error ClientConnection::connect() {
  auto where = host_ + ":" + std::to_string(port_);
  beast::error_code ec;
  tcp::resolver resolver{ioc_};
  auto results = resolver.resolve(host_, std::to_string(port_), ec);
  if (ec)
    return make_error(errc::io_error, "cannot resolve " + where + ": " + ec.message());
  set_expiry(stream_, options_.connect_timeout);
  stream_.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc_);
  if (ec)
    return make_error(errc::io_error, "cannot connect to " + where + ": " + ec.message());
  beast::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  connected_ = true;
  return {};
}

beast::error_code ClientConnection::attempt(std::string_view method, std::string_view target,
                                            const std::string& body,
                                            std::chrono::milliseconds timeout, HttpReply& out,
                                            bool& got_bytes) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::user_agent, "caflow-client");
  if (!body.empty())
    req.set(bhttp::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  set_expiry(stream_, timeout);
  bhttp::async_write(stream_, req, [&](beast::error_code e, size_t) { ec = e; });
  run(ioc_);
  // A server may answer before it read the whole request (413) and stop
  // reading: the answer is still worth reading.
  if (ec == beast::error::timeout)
    return ec;
  auto write_error = ec;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);  // the server decides how much it sends
  set_expiry(stream_, timeout);
  bhttp::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t n) {
    ec = e;
    got_bytes = n > 0;
  });
  run(ioc_);
  if (ec)
    return write_error ? write_error : ec;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string{res[bhttp::field::content_type]};
  out.allow = std::string{res[bhttp::field::allow]};
  out.retry_after = std::string{res[bhttp::field::retry_after]};
  out.keep_alive = res.keep_alive();
  out.body = std::move(res.body());
  return {};
}

caf::expected<HttpReply> ClientConnection::exchange(std::string_view method,
                                                    std::string_view target,
                                                    const std::string& body,
                                                    std::chrono::milliseconds timeout) {
  for (int tries = 0; tries < 2; ++tries) {
    bool reused = connected_;
    if (!connected_)
      if (auto err = connect())
        return err;
    HttpReply reply;
    bool got_bytes = false;
    auto ec = attempt(method, target, body, timeout, reply, got_bytes);
    if (!ec) {
      if (!reply.keep_alive)
        disconnect();
      return reply;
    }
    disconnect();
    // A kept-alive connection the server had closed fails before any byte
    // of an answer arrives: that request never ran, so send it again.
    if (reused && !got_bytes && ec != beast::error::timeout)
      continue;
    auto what = ec == beast::error::timeout ? std::string{"timed out"} : ec.message();
    return make_error(ec == beast::error::timeout ? errc::timeout : errc::io_error,
                      std::string{method} + " " + std::string{target} + " on " + host_ + ":"
                        + std::to_string(port_) + ": " + what);
  }
  return make_error(errc::io_error, "unreachable");
}

}  // namespace caflow::http
