#include "caflow/server.hpp"

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

namespace caflow {

namespace net = boost::asio;
using net::ip::tcp;

namespace {

// The accept loop. Holds a raw pointer: the handler lives inside the core's
// io_context, so a shared_ptr would keep the core alive forever.
void accept_next(http::Core* core) {
  core->acceptor.async_accept(
    net::make_strand(core->ioc), [core](boost::system::error_code ec, tcp::socket socket) {
      if (core->stopping || ec == net::error::operation_aborted)
        return;
      if (!ec) {
        boost::system::error_code ignored;  // Nagle only delays small answers
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<http::Session>(std::move(socket), *core)->start();
      }
      // Other errors (e.g. out of file descriptors) concern one connection.
      accept_next(core);
    });
}

caf::error bind_error(const ServerOptions& opts, const std::string& why) {
  return make_error(errc::io_error,
                    "cannot listen on " + opts.host + ":" + std::to_string(opts.port) + ": " + why);
}

}  // namespace

struct HttpServer::Impl {
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
  auto impl = std::make_unique<Impl>();
  impl->core = std::make_shared<http::Core>(flow.system(), flow.gateway(), options);
  impl->core->scale = [&flow](const std::string& deployment, uint32_t replicas) {
    return flow.scale(deployment, replicas);
  };
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
    std::vector<std::shared_ptr<http::Session>> live;
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
