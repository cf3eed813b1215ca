#include "caflow/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <thread>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "http/server_core.hpp"
#include "http/session.hpp"
#include "runtime/serving_malloc.hpp"

namespace caflow {

namespace net = boost::asio;
using net::ip::tcp;

namespace {

void accept_next(http::Core* core);

// Out of file descriptors (or kernel memory): the pending connection stays
// in the listen backlog, so accepting again at once fails again, in a tight
// loop. Wait instead, doubling up to a second, and say so once per episode.
void back_off(http::Core* core, const boost::system::error_code& ec) {
  if (core->accept_errors++ == 0)
    core->log("cannot accept connections: " + ec.message() + " ("
              + std::to_string(core->connections.load()) + " open, at most "
              + std::to_string(core->max_connections)
              + " allowed); retrying with back-off up to 1 s");
  using std::chrono::milliseconds;
  core->accept_backoff = std::min(milliseconds{1000},
                                  std::max(milliseconds{10}, core->accept_backoff * 2));
  core->accept_timer.expires_after(core->accept_backoff);
  core->accept_timer.async_wait([core](boost::system::error_code wait_ec) {
    if (!wait_ec && !core->stopping)
      accept_next(core);
  });
}

// Over the connection cap: answer at once and close, so that the client
// learns why instead of timing out. Non-blocking; a client that does not
// read this tiny answer loses it.
void refuse(http::Core* core, tcp::socket& socket) {
  static const std::string answer
    = "HTTP/1.1 503 Service Unavailable\r\nServer: caflow\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: ";
  std::string body = R"({"header":{"status":{"code":3,"description":"too many connections: )"
                     + std::to_string(core->max_connections)
                     + R"x( are open (ServerOptions::max_connections)"}},"data":null})x";
  std::string bytes = answer + std::to_string(body.size()) + "\r\n\r\n" + body;
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(net::buffer(bytes), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

// The accept loop. Holds a raw pointer: the handler lives inside the core's
// io_context, so a shared_ptr would keep the core alive forever.
void accept_next(http::Core* core) {
  core->acceptor.async_accept(net::make_strand(core->ioc), [core](boost::system::error_code ec,
                                                                  tcp::socket socket) {
    if (core->stopping || ec == net::error::operation_aborted)
      return;
    if (ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system
        || ec == net::error::no_buffer_space || ec == net::error::no_memory) {
      back_off(core, ec);
      return;
    }
    if (core->accept_errors > 0) {
      core->log("accepting connections again after " + std::to_string(core->accept_errors)
                + " failed attempt(s)");
      core->accept_errors = 0;
      core->accept_backoff = std::chrono::milliseconds{0};
    }
    if (!ec) {
      if (core->connections.load() >= core->max_connections) {
        refuse(core, socket);
      } else {
        boost::system::error_code ignored;  // Nagle only delays small answers
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<http::Session>(std::move(socket), *core)->start();
      }
    }
    // Other errors (e.g. the peer reset before accept) concern one connection.
    accept_next(core);
  });
}

// Half the descriptors the process may open, so that the flow's own files
// (RocksDB, models, logs) keep the other half; at most 10,000.
size_t automatic_max_connections() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return 10000;
  return std::clamp<size_t>(static_cast<size_t>(lim.rlim_cur) / 2, 16, 10000);
}

caf::error bind_error(const ServerOptions& opts, const std::string& why) {
  return make_error(errc::io_error,
                    "cannot listen on " + opts.host + ":" + std::to_string(opts.port) + ": " + why);
}

}  // namespace

struct HttpServer::Impl {
  // Destroyed last: answers that arrive after the server stopped find it
  // gone and are dropped.
  std::unique_ptr<detail::GatewayBridge> bridge;
  std::unique_ptr<detail::GatewayBridge> ws_bridge;
  std::shared_ptr<http::Core> core;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::mutex mtx;
  std::condition_variable cv;
  unsigned running = 0;  // I/O threads still in io_context::run, guarded by mtx
  bool stopped = false;  // guarded by mtx
};

caf::expected<std::unique_ptr<HttpServer>> HttpServer::start(RunningFlow& flow,
                                                             ServerOptions options) {
  detail::tune_malloc_for_serving();
  auto impl = std::make_unique<Impl>();
  impl->bridge = std::make_unique<detail::GatewayBridge>(flow.system(), flow.gateway(),
                                                         detail::GatewayBridge::Hosting::caller);
  impl->ws_bridge = std::make_unique<detail::GatewayBridge>(flow.system(), flow.gateway());
  impl->core = std::make_shared<http::Core>(flow.system(), *impl->bridge, *impl->ws_bridge,
                                            options);
  impl->core->scale = [&flow](const std::string& deployment, uint32_t replicas) {
    return flow.scale(deployment, replicas);
  };
  for (const auto& d : flow.flow().deployments())
    impl->core->heads.emplace_back(d.name, flow.head(d.name));
  impl->core->max_connections = options.max_connections > 0 ? options.max_connections
                                                            : automatic_max_connections();
  auto& core = *impl->core;
  boost::system::error_code ec;
  tcp::resolver resolver{core.ioc};
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return bind_error(options, "cannot resolve host: " + ec.message());
  auto endpoint = results.begin()->endpoint();
  if (core.acceptor.open(endpoint.protocol(), ec); ec)
    return bind_error(options, ec.message());
  core.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (core.acceptor.bind(endpoint, ec); ec)
    return bind_error(options, ec.message());
  if (core.acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return bind_error(options, ec.message());
  impl->port = core.acceptor.local_endpoint().port();
  accept_next(&core);
  auto n = std::max(1u, options.threads);
  impl->running = n;
  for (unsigned i = 0; i < n; ++i)
    impl->threads.emplace_back([impl = impl.get()] {
      for (;;) {
        try {
          impl->core->ioc.run();
          break;
        } catch (const std::exception&) {
          // A handler threw: that connection is lost, the server lives on.
        }
      }
      std::lock_guard<std::mutex> guard{impl->mtx};
      if (--impl->running == 0)
        impl->cv.notify_all();
    });
  return std::unique_ptr<HttpServer>{new HttpServer(std::move(impl))};
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

HttpServer::~HttpServer() {
  stop();
}

uint16_t HttpServer::port() const noexcept {
  return impl_->port;
}

std::string HttpServer::address() const {
  return impl_->core->options.host + ":" + std::to_string(impl_->port);
}

const http::Metrics& HttpServer::metrics() const noexcept {
  return impl_->core->metrics;
}

std::string HttpServer::metrics_text() const {
  return impl_->core->metrics.render();
}

// Draining relies on the io_context running out of work: once the acceptor
// and idle connections are closed, only requests waiting for the flow keep
// it busy (they hold tracked executors) until their answers are written.
void HttpServer::stop() {
  std::unique_lock<std::mutex> lock{impl_->mtx};
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  auto* core = impl_->core.get();
  net::post(core->accept_strand, [core] {
    core->stopping = true;
    boost::system::error_code ignored;
    core->acceptor.close(ignored);
    core->accept_timer.cancel();
    std::vector<std::shared_ptr<http::Connection>> live;
    {
      std::lock_guard<std::mutex> guard{core->sessions_mtx};
      for (auto& [ptr, weak] : core->sessions)
        if (auto s = weak.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      s->shutdown();
  });
  if (!impl_->cv.wait_for(lock, core->options.drain_timeout, [&] { return impl_->running == 0; }))
    core->ioc.stop();  // the flow did not answer in time: abandon the rest
  lock.unlock();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

}  // namespace caflow
