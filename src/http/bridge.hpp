// The bridge from the HTTP side into CAF: asks the flow's gateway actor and
// calls back with the answer, never blocking the caller (an I/O thread).
#pragma once

#include <chrono>
#include <functional>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "caflow/messages.hpp"
#include "caflow/value.hpp"

namespace caflow::http {

/// Sends `req` to `gateway` from a fresh event-based actor and calls `done`
/// with the response or the error, on a CAF worker thread (so `done` must
/// not block). `timeout` 0 waits as long as it takes; expiry is CAF's
/// sec::request_timeout.
void ask_gateway(caf::actor_system& sys, const gateway_actor& gateway, Request req,
                 std::chrono::milliseconds timeout,
                 std::function<void(caf::expected<Response>)> done);

/// Asks `gateway` for its status Value; as ask_gateway.
void ask_status(caf::actor_system& sys, const gateway_actor& gateway,
                std::chrono::milliseconds timeout, std::function<void(caf::expected<Value>)> done);

}  // namespace caflow::http
