// A tiny blocking TCP client for HTTP tests that must send what no HTTP
// library would: partial headers, bad framing, one byte at a time. Every
// read is bounded by a deadline, so a server that never answers fails the
// test instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace caflow::testing {

/// One HTTP answer as read off the wire.
struct RawReply {
  int status = 0;
  std::string headers;  ///< the header block, lines as received
  std::string body;
};

/// A loopback TCP connection (not thread-safe; one per thread).
class RawSocket {
 public:
  /// Connects to 127.0.0.1:`port`; throws std::runtime_error on failure.
  explicit RawSocket(uint16_t port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  /// Sends all of `bytes`; false when the peer closed or reset.
  bool send(std::string_view bytes);

  /// Half-closes the sending side (the server sees end of input).
  void shutdown_send();

  /// Reads one response (Content-Length framed, or up to the close), or
  /// nullopt when the connection closes first or `timeout` passes.
  std::optional<RawReply> read_reply(std::chrono::milliseconds timeout);

  /// True when the server closes the connection (EOF or reset) within
  /// `timeout`; anything the server sends meanwhile is discarded.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  // Reads more into buffer_; 0 on close, -1 on timeout.
  int fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace caflow::testing
