// One keep-alive HTTP/1.1 connection of caflow::Client, driven
// synchronously by the calling thread (each exchange runs a private
// io_context so that it can time out).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <caf/expected.hpp>

#include "caflow/client.hpp"

namespace caflow::http {

class ClientConnection {
 public:
  ClientConnection(std::string host, uint16_t port, ClientOptions options);

  /// Sends one request and reads its answer. Reconnects when needed; a
  /// request that finds a kept-alive connection closed by the server is sent
  /// once more on a fresh one. Failures are errc::io_error.
  caf::expected<HttpReply> exchange(std::string_view method, std::string_view target,
                                    const std::string& body, std::chrono::milliseconds timeout);

 private:
  caf::error connect();
  boost::beast::error_code attempt(std::string_view method, std::string_view target,
                                   const std::string& body, std::chrono::milliseconds timeout,
                                   HttpReply& out, bool& got_bytes);
  void disconnect();

  std::string host_;
  uint16_t port_;
  ClientOptions options_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_{ioc_};
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace caflow::http
