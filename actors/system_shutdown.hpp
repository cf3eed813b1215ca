// Ending an actor system that caflow owns (the one Flow::start() or
// Node::start() created) within a bound, whatever other threads and peers do.
//
// CAF 0.17.6's ~actor_system can wait without end in two places:
//  - for its logger, which every thread that made a caf::scoped_actor on the
//    system (or called a blocking CAF function such as remote_actor, which
//    makes one) keeps alive in a thread-local until that thread ends or
//    makes one on another system (caf/logger.cpp, CAF_SET_LOGGER_SYS); so a
//    flow destroyed on one thread waits for every other live thread that
//    ever blocked on it;
//  - for the middleman's event loop, which ends only once every connection
//    is gone, and a connection closed with data still unsent waits for the
//    peer to read it (caf/io/network/stream.cpp: FIN only after the send
//    buffer drained): a node that is alive but stopped (SIGSTOP) never does.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace caflow::detail {

/// Releases the calling thread's hold on the actor system it last blocked
/// on (see the file comment). caflow's blocking API calls end with it, so
/// they leave no hold behind in the caller's thread.
struct ReleaseThreadHold {
  ReleaseThreadHold() = default;
  ReleaseThreadHold(const ReleaseThreadHold&) = delete;
  ReleaseThreadHold& operator=(const ReleaseThreadHold&) = delete;
  ~ReleaseThreadHold();
};

/// Closes every connection of the system's middleman at once, both ways
/// (pending output is dropped: the system's actors are done), and waits at
/// most `limit` for its event loop to have done it. No-op without one.
void drop_connections(caf::actor_system& sys, std::chrono::milliseconds limit);

/// Destroys `sys` (then `cfg`) after drop_connections, on a thread of its
/// own, and waits at most `limit`: past it, says so on standard error and
/// leaves the system to finish (or not) on that thread. Call once the
/// system's actors are stopped.
void shut_down(std::unique_ptr<caf::actor_system> sys,
               std::unique_ptr<caf::actor_system_config> cfg, std::chrono::milliseconds limit,
               const char* what);

/// How many systems shut_down left unfinished in this process (for tests).
size_t abandoned_systems();

}  // namespace caflow::detail
