// One WebSocket connection, speaking Jina 3.0's WebSocket protocol as its
// client (jina/clients/base/helper.py, WebsocketClientlet) and gateway
// (jina/serve/runtimes/gateway/websocket/app.py) do:
//
//   client -> server: binary frames, each a serialized jina.DataRequestProto;
//                     a frame holding the single byte 0x00 (Python's
//                     bytes(True)) ends the stream
//   server -> client: binary frames, one DataRequestProto answer per request,
//                     in completion order (matched by header.request_id);
//                     after the end of the stream and the last answer the
//                     server closes with 1000
//
// Executor failures travel in-band (header.status ERROR), as over gRPC.
// Jina's gateway reads bytes only; a text frame, a frame that is no
// DataRequestProto or a message over ServerOptions::body_limit closes the
// connection with 1003, 1007 or 1009 and a reason; other connections and
// the flow are untouched. At most ServerOptions::stream_window requests
// are in flight per connection; past that reading pauses.
//
// Everything runs on the connection's strand; answers arrive on CAF's
// workers, are serialized there and posted to the strand.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "http/server_core.hpp"

namespace jina {
class DataRequestProto;
}  // namespace jina

namespace caflow::http {

class WsSession : public Connection, public std::enable_shared_from_this<WsSession> {
 public:
  /// Takes over an HTTP connection whose request `upgrade` asked for a
  /// WebSocket.
  WsSession(boost::beast::tcp_stream stream, Core& core);
  ~WsSession() override;

  /// Registers with the core and answers the upgrade (on the strand).
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade);

  /// Stops reading; closes with 1001 once the requests in flight are
  /// answered.
  void shutdown() override;

 private:
  void on_accept(boost::beast::error_code ec);
  void read();
  void on_read(boost::beast::error_code ec);
  void on_message();
  void handle(jina::DataRequestProto& msg);
  void deliver(std::string bytes);
  void write_next();
  void on_write(boost::beast::error_code ec);
  void drop_unsent();
  void maybe_close();
  void close_with(boost::beast::websocket::close_reason reason);

  Core& core_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> upgrade_;
  std::deque<std::string> out_;
  uint64_t received_ = 0;
  uint32_t in_flight_ = 0;
  bool accepted_ = false;  // the handshake is done: frames may be sent
  bool reading_ = false;
  bool writing_ = false;
  bool ended_ = false;     // the client sent the end of the stream
  bool closing_ = false;   // a close is queued or sent: no more reads or answers
  bool stopping_ = false;  // shutdown() was called
  std::optional<boost::beast::websocket::close_reason> pending_close_;  // after the write
};

}  // namespace caflow::http
