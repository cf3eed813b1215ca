// The one way into a flow's gateway actor from threads outside CAF: the
// HTTP and WebSocket sessions (Asio's I/O threads), the gRPC reactors
// (gRPC's threads) and RunningFlow::post (a blocked caller).
//
// A request is enqueued straight into the gateway's mailbox with a CAF
// request id and, as its sender, one caf::actor_companion per bridge: the
// gateway's answer is "delivered" to the companion by calling the bridge's
// handler on the CAF worker that delivers it, and the handler calls the
// caller's callback there. So a request costs no actor of its own and no
// scheduling hop besides the gateway's own (the former path spawned an
// event-based actor per request: a spawn and two more hops). A timeout is
// CAF's own request timeout (the system clock sends sec::request_timeout to
// the companion), cancelled when the answer comes first.
//
// Hosting::caller carries the request through the flow's scheduled actors on
// the thread that calls ask() (runtime/inline_unit.hpp), within a bound, and
// the answer usually comes back inside ask(): no worker woken, no context
// switch. For callers that serve many requests on a few threads of their own
// and can afford to lend them (the HTTP server's I/O threads). An ask() made
// while the calling thread already runs such work (from inside a callback)
// is hosted by the scheduler instead: runs do not nest.
//
// Thread-safety: ask() and ask_status() may be called from any thread at
// once. Callbacks run on a CAF worker, or inside ask() (Hosting::caller, or
// a gateway that is gone), or on the clock's thread for a timeout, and must
// not block; each is
// called at most once, and not at all once the bridge is destroyed. A
// callback must not destroy its bridge (the destructor waits for the
// callbacks running now): owners keep the bridge apart from what callbacks
// hold (see http::Core::bridge).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "caflow/messages.hpp"
#include "caflow/value.hpp"
#include "runtime/inline_unit.hpp"

namespace caflow::detail {

class GatewayBridge {
 public:
  using ResponseHandler = std::function<void(caf::expected<Response>)>;
  using ValueHandler = std::function<void(caf::expected<Value>)>;

  /// Who runs the flow's scheduled actors for a request (see above).
  enum class Hosting { scheduler, caller };

  /// `bound`: how long one caller-hosted ask() may run actors (the default
  /// is InlineUnit's; tests give a long one so that a loaded machine cannot
  /// change where an answer arrives).
  GatewayBridge(caf::actor_system& sys, gateway_actor gateway, Hosting hosting = Hosting::scheduler,
                InlineUnit::Bound bound = {});
  /// Drops the answers still pending: their callbacks are destroyed uncalled.
  ~GatewayBridge();
  GatewayBridge(const GatewayBridge&) = delete;
  GatewayBridge& operator=(const GatewayBridge&) = delete;

  /// Sends `req` to the gateway; `done` gets the Response or the error.
  /// `timeout` 0 waits as long as it takes; expiry is sec::request_timeout.
  void ask(Request req, std::chrono::milliseconds timeout, ResponseHandler done);

  /// Asks the gateway for its status Value; as ask().
  void ask_status(std::chrono::milliseconds timeout, ValueHandler done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// For benchmarks: when on, ask() and ask_status() take the former path, a
/// short-lived event-based actor spawned per request, so that both can be
/// measured in one run (caflow-bench http --server-cpu). On that path a
/// callback may still run after its bridge is gone (the spawned actor owns
/// it), as before. Default: off
void use_actor_per_request(bool on);

/// For benchmarks: when on, bridges made with Hosting::caller host by the
/// scheduler instead, so that both can be measured in one run. Default: off
void force_scheduler_hosting(bool on);

}  // namespace caflow::detail
