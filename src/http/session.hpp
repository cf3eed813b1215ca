// One HTTP/1.1 connection: reads a request, answers it (asking the flow
// without blocking), and reads the next one while the client keeps the
// connection alive. Everything runs on the connection's strand.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <caf/error.hpp>

#include "http/jina_codec.hpp"
#include "http/router.hpp"
#include "http/server_core.hpp"

namespace caflow::http {

class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, Core& core);
  ~Session();

  /// Registers with the core and starts reading (on the strand).
  void start();

  /// Closes the connection once the request in progress (if any) is answered.
  void shutdown() override;

 private:
  void read();
  void on_header(boost::beast::error_code ec);
  void on_read(boost::beast::error_code ec);
  void set_idle_timer();
  void arm_idle_timer();
  void on_idle_timer(boost::beast::error_code ec);
  void dispatch_request();
  void handle_post(const RouteMatch& r);
  void handle_status();
  void handle_dry_run();
  void handle_scale();
  void reply(unsigned status, std::string body, const char* content_type = "application/json");
  void reply_error(const caf::error& err, const Exchange& ex, unsigned status = 0);
  void on_write(boost::beast::error_code ec, bool close);
  void close();
  void linger();
  void linger_read(std::shared_ptr<std::array<char, 16384>> scratch, size_t total);

  Core& core_;
  boost::beast::tcp_stream stream_;
  // The idle timeout: one timer per connection, re-armed only when it fires
  // (Beast's own stream timeout arms and cancels a timer around every read
  // and write, two timerfd calls per request).
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point active_at_;  // the last read or write began
  bool timer_armed_ = false;
  bool writing_ = false;   // an answer is being written
  bool upgraded_ = false;  // the socket went to a WsSession
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string head_;   // the answer being written: status line and fields
  std::string body_;   // and its body
  std::string allow_;  // the Allow header of a 405
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;          // a request is being answered
  bool closing_ = false;       // shutdown() was called
  bool unread_input_ = false;  // answered before reading the whole request
};

}  // namespace caflow::http
