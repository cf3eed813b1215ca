#include "http/ws_session.hpp"

#include <chrono>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>

#include "caflow/errors.hpp"
#include "grpc/request_codec.hpp"
#include "http/jina_codec.hpp"

namespace caflow::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

// What one read may add to a message before its size is checked again: the
// most a client can make the server buffer past the limit.
constexpr size_t read_chunk = size_t{64} << 10;

// Jina's end of the stream: Python's bytes(True), one zero byte.
bool is_end_of_stream(std::string_view bytes) {
  return bytes.size() == 1 && bytes[0] == '\0';
}

}  // namespace

WsSession::WsSession(beast::tcp_stream stream, Core& core) : core_(core), ws_(std::move(stream)) {
  ++core_.connections;
}

WsSession::~WsSession() {
  --core_.connections;
  std::lock_guard<std::mutex> guard{core_.sessions_mtx};
  core_.sessions.erase(this);
}

void WsSession::start(beast::http::request<beast::http::string_body> upgrade) {
  {
    std::lock_guard<std::mutex> guard{core_.sessions_mtx};
    core_.sessions.emplace(this, weak_from_this());
  }
  upgrade_ = std::move(upgrade);
  net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    auto& ws = self->ws_;
    // The websocket stream keeps its own timers: the TCP stream's would cut
    // a connection that waits for a slow answer.
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout limits{};
    limits.handshake_timeout = std::chrono::seconds(5);  // the closing handshake too
    auto idle = self->core_.options.idle_timeout;
    if (idle.count() > 0)
      limits.idle_timeout = idle;
    else
      limits.idle_timeout = websocket::stream_base::none();
    limits.keep_alive_pings = true;  // a client that answers pings is not idle
    ws.set_option(limits);
    ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "caflow"); }));
    ws.read_message_max(0);  // checked per read against body_limit, to close with a reason
    ws.binary(true);
    ws.async_accept(self->upgrade_, [self](beast::error_code ec) { self->on_accept(ec); });
  });
}

void WsSession::shutdown() {
  net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    self->maybe_close();
  });
}

void WsSession::on_accept(beast::error_code ec) {
  upgrade_ = {};
  if (ec)
    return;  // the handshake failed (Beast answered it): nothing to serve
  accepted_ = true;
  if (core_.stopping) {
    stopping_ = true;
    maybe_close();
    return;
  }
  read();
}

void WsSession::read() {
  if (reading_ || closing_ || ended_ || stopping_ || in_flight_ >= core_.options.stream_window)
    return;
  reading_ = true;
  ws_.async_read_some(
    buffer_, read_chunk,
    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void WsSession::on_read(beast::error_code ec) {
  reading_ = false;
  if (ec) {
    // The client closed (Beast answered its close frame), went away, or
    // stayed silent past idle_timeout (Beast closed the socket).
    closing_ = true;
    drop_unsent();
    return;
  }
  if (closing_)
    return;
  auto limit = core_.options.body_limit;
  if (limit > 0 && buffer_.size() > limit) {
    close_with({websocket::close_code::too_big,
                "message over " + std::to_string(limit)
                  + " bytes, the server's limit (ServerOptions::body_limit)"});
    return;
  }
  if (!ws_.is_message_done()) {
    reading_ = true;  // the rest of this message, whatever the window
    ws_.async_read_some(
      buffer_, read_chunk,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    return;
  }
  on_message();
}

void WsSession::on_message() {
  if (ws_.got_text()) {
    close_with({websocket::close_code::unknown_data,
                "text frames are not served: Jina 3.0 sends binary jina.DataRequestProto frames"});
    return;
  }
  auto data = buffer_.cdata();
  std::string_view bytes{static_cast<const char*>(data.data()), data.size()};
  if (is_end_of_stream(bytes)) {
    ended_ = true;
    buffer_.consume(buffer_.size());
    maybe_close();
    return;
  }
  ++received_;
  jina::DataRequestProto msg;
  bool parsed = msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  buffer_.consume(buffer_.size());  // before anything can start the next read
  if (!parsed) {
    close_with({websocket::close_code::bad_payload,
                "message " + std::to_string(received_) + " is not a jina.DataRequestProto"});
    return;
  }
  handle(msg);
  read();
}

void WsSession::handle(jina::DataRequestProto& msg) {
  namespace gg = grpc_gateway;
  auto start = now_us();
  ++in_flight_;
  auto id = msg.header().request_id();  // decoding moves it out
  auto req = gg::decode_request(msg);
  if (!req) {  // answered in-band, as over gRPC
    gg::Exchange ex{.request_id = std::move(id), .start_us = start, .end_us = now_us()};
    core_.metrics.received("/");
    core_.metrics.failed("/", 0);
    jina::DataRequestProto out;
    gg::encode_error(req.error(), ex, &out);
    deliver(out.SerializeAsString());
    return;
  }
  auto ex = gg::exchange_of(*req, start);
  core_.metrics.received(ex.endpoint);
  auto strand = net::prefer(ws_.get_executor(), net::execution::outstanding_work.tracked);
  auto timeout = core_.options.request_timeout;
  core_.ws_bridge.ask(
    std::move(*req), timeout,
    [self = shared_from_this(), core = core_.shared_from_this(), strand, ex = std::move(ex),
     timeout](caf::expected<Response> resp) mutable {
      // On a CAF worker: encode here, hand only the bytes to the strand.
      ex.end_us = now_us();
      auto secs = static_cast<double>(ex.end_us - ex.start_us) / 1e6;
      jina::DataRequestProto out;
      std::string bytes;
      if (resp) {
        auto docs = resp->docs.size();
        gg::encode_response(std::move(*resp), ex, &out);
        bytes = out.SerializeAsString();
        auto limit = core->options.max_response_bytes;
        if (limit == 0 || bytes.size() <= limit) {
          core->metrics.succeeded(ex.endpoint, secs, docs);
        } else {
          out.Clear();
          gg::encode_error(
            make_error(errc::invalid_argument, "the answer would be " + std::to_string(bytes.size())
                                                 + " bytes, over the server's limit of "
                                                 + std::to_string(limit)
                                                 + " (ServerOptions::max_response_bytes)"),
            ex, &out);
          bytes = out.SerializeAsString();
          core->metrics.failed(ex.endpoint, secs);
        }
      } else {
        gg::encode_error(normalize(std::move(resp.error()), timeout), ex, &out);
        bytes = out.SerializeAsString();
        core->metrics.failed(ex.endpoint, secs);
      }
      net::post(strand,
                [self, bytes = std::move(bytes)]() mutable { self->deliver(std::move(bytes)); });
    });
}

void WsSession::deliver(std::string bytes) {
  --in_flight_;
  if (!closing_) {
    out_.push_back(std::move(bytes));
    write_next();
    read();  // the window may have opened
  }
  maybe_close();
}

void WsSession::write_next() {
  if (writing_ || out_.empty())
    return;
  writing_ = true;
  ws_.async_write(
    net::buffer(out_.front()),
    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
}

void WsSession::on_write(beast::error_code ec) {
  writing_ = false;
  out_.pop_front();
  if (ec) {
    closing_ = true;
    drop_unsent();
    return;
  }
  if (pending_close_) {
    auto reason = std::move(*pending_close_);
    pending_close_.reset();
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
    return;
  }
  write_next();
  maybe_close();
}

// The answers not yet being written; the one async_write is sending stays
// until on_write.
void WsSession::drop_unsent() {
  out_.resize(writing_ && !out_.empty() ? 1 : 0);
}

// After the client's end of the stream (or shutdown()), once every answer
// is written: close as Jina's gateway does when its handler returns.
void WsSession::maybe_close() {
  if (!accepted_ || closing_ || !(ended_ || stopping_) || in_flight_ > 0 || writing_
      || !out_.empty())
    return;
  if (ended_)
    close_with({websocket::close_code::normal});
  else
    close_with({websocket::close_code::going_away, "the gateway is shutting down"});
}

// Stops reading and answering; sends the close frame once the write in
// progress (if any) is done, since Beast allows one write at a time.
void WsSession::close_with(websocket::close_reason reason) {
  if (closing_)
    return;
  closing_ = true;
  drop_unsent();
  if (writing_) {
    pending_close_ = std::move(reason);
    return;
  }
  ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
}

}  // namespace caflow::http
