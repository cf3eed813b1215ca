// The HTTP server's WebSocket connections around stop(), from a Beast
// client: an idle connection is closed with 1001 and a reason, and stop()
// does not wait for it. (Jina's protocol itself: tests/grpc/websocket_test.)
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/server.hpp"

using namespace caflow;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

TEST_CASE("WebSocket: stop() closes an idle connection with 1001 and a reason") {
  Flow flow;
  auto running = flow.start();  // no executors: the gateway answers itself
  REQUIRE_MESSAGE(running, describe(running));
  auto server = HttpServer::start(*running);
  REQUIRE(server);
  net::io_context ioc;
  websocket::stream<net::ip::tcp::socket> ws{ioc};
  ws.next_layer().connect({net::ip::make_address("127.0.0.1"), (*server)->port()});
  timeval limit{.tv_sec = 30, .tv_usec = 0};  // bounds every read below
  ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ws.handshake("127.0.0.1", "/");
  std::thread stopper{[&] { (*server)->stop(); }};
  beast::flat_buffer buffer;
  beast::error_code ec;
  ws.read(buffer, ec);
  stopper.join();
  CHECK(ec == websocket::error::closed);
  CHECK(ws.reason().code == websocket::close_code::going_away);
  CHECK(ws.reason().reason == "the gateway is shutting down");
}
