#include "actors/system_shutdown.hpp"

#include <sys/socket.h>

#include <atomic>
#include <future>
#include <iostream>
#include <thread>

#include <caf/actor_cast.hpp>
#include <caf/io/abstract_broker.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/logger.hpp>

namespace caflow::detail {

namespace {

std::atomic<size_t> abandoned{0};

}  // namespace

size_t abandoned_systems() {
  return abandoned.load();
}

ReleaseThreadHold::~ReleaseThreadHold() {
  caf::logger::set_current_actor_system(nullptr);
}

void drop_connections(caf::actor_system& sys, std::chrono::milliseconds limit) {
  if (!sys.has_middleman())
    return;
  auto& mm = sys.middleman();
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  // In the event loop's own thread, which owns the sockets. A connection
  // handle's id is its socket (CAF 0.17's default multiplexer, and the
  // OpenSSL transport on top of it); after shutdown() the loop sees end of
  // file and a failed write, and removes the socket as if the peer had gone.
  mm.backend().dispatch([&mm, done] {
    auto basp = mm.named_broker<caf::io::basp_broker>(caf::atom("BASP"));
    auto* broker = static_cast<caf::io::abstract_broker*>(
      caf::actor_cast<caf::abstract_actor*>(basp));
    if (broker != nullptr)
      for (const auto& hdl : broker->connections())
        ::shutdown(static_cast<int>(hdl.id()), SHUT_RDWR);
    done->set_value();
  });
  finished.wait_for(limit);
}

void shut_down(std::unique_ptr<caf::actor_system> sys,
               std::unique_ptr<caf::actor_system_config> cfg, std::chrono::milliseconds limit,
               const char* what) {
  if (!sys)
    return;
  drop_connections(*sys, limit);
  caf::logger::set_current_actor_system(nullptr);
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread{[sys = std::move(sys), cfg = std::move(cfg), done]() mutable {
    sys.reset();
    cfg.reset();
    done->set_value();
  }}.detach();
  if (finished.wait_for(limit) == std::future_status::ready)
    return;
  ++abandoned;
  std::cerr << "caflow: " << what << ": its actor system has not ended after "
            << std::chrono::duration<double>(limit).count()
            << " s (a thread of this program that made a caf::scoped_actor on it still "
               "runs, or an executor did not return); leaving it"
            << std::endl;
}

}  // namespace caflow::detail
