// State shared by the listener and every connection of one HttpServer.
// Owned through a shared_ptr: answers from the flow that arrive after stop()
// keep it (and so the io_context they post to) alive until they are done.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <caf/fwd.hpp>

#include "caflow/messages.hpp"
#include "caflow/server.hpp"
#include "http/metrics.hpp"
#include "runtime/gateway_bridge.hpp"

namespace caflow::http {

/// A connection the server can ask to close (an HTTP session, a WebSocket).
class Connection {
 public:
  virtual ~Connection() = default;
  /// Closes the connection once what it is answering now is answered.
  virtual void shutdown() = 0;
};

struct Core : std::enable_shared_from_this<Core> {
  Core(caf::actor_system& sys, detail::GatewayBridge& b, detail::GatewayBridge& ws,
       ServerOptions opts)
    : system(sys), bridge(b), ws_bridge(ws), options(std::move(opts)) {}

  caf::actor_system& system;
  /// Into the flow, for HTTP requests: Hosting::caller, so the I/O thread
  /// that asks carries the request through the flow's scheduled actors
  /// (runtime/inline_unit.hpp). Owned by the server, apart from this shared
  /// core, so that no callback destroys it (runtime/gateway_bridge.hpp);
  /// used only on the I/O threads, which stop before it goes.
  detail::GatewayBridge& bridge;
  /// The same for WebSocket requests, hosted by the scheduler: a WebSocket
  /// keeps many requests in flight per connection, and lending the I/O
  /// thread to each has not been measured there.
  detail::GatewayBridge& ws_bridge;
  ServerOptions options;
  /// RunningFlow::scale of the served flow (POST /scale). Blocks while new
  /// replicas start, so sessions call it off the I/O threads.
  std::function<caf::error(const std::string&, uint32_t)> scale;
  /// Every deployment's head, for readiness (see http/readiness.hpp).
  std::vector<std::pair<std::string, head_actor>> heads;
  /// ServerOptions::max_connections resolved (never 0).
  size_t max_connections = 0;
  /// Connections open now (sessions alive).
  std::atomic<size_t> connections{0};

  /// Reports a line through ServerOptions::log, else on stderr.
  void log(const std::string& line) const {
    if (options.log)
      options.log(line);
    else
      std::cerr << "caflow http: " << line << std::endl;
  }
  // Declared before the io_context so that they outlive it: destroying the
  // io_context destroys pending handlers, which destroy sessions, which
  // unregister here.
  Metrics metrics;
  std::mutex sessions_mtx;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions;
  std::atomic<bool> stopping{false};

  boost::asio::io_context ioc;
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand{ioc.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor{accept_strand};
  /// Back-off of the accept loop after an error such as EMFILE (accept
  /// strand only): the current delay, 0 when accepting normally.
  boost::asio::steady_timer accept_timer{accept_strand};
  std::chrono::milliseconds accept_backoff{0};
  uint64_t accept_errors = 0;  // in the current episode
};

}  // namespace caflow::http
