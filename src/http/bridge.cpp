#include "http/bridge.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace caflow::http {

namespace {

caf::duration to_caf(std::chrono::milliseconds timeout) {
  return timeout.count() <= 0 ? caf::duration{caf::infinite} : caf::duration{timeout};
}

}  // namespace

// One short-lived actor per request: it only exists while its request is
// pending (an event-based actor with no behavior terminates once its last
// awaited response arrived), which keeps the bridge stateless and lets CAF
// spread the answers over its workers.
void ask_gateway(caf::actor_system& sys, const caf::actor& gateway, Request req,
                 std::chrono::milliseconds timeout,
                 std::function<void(caf::expected<Response>)> done) {
  auto gw = caf::actor_cast<gateway_actor>(gateway);
  sys.spawn([gw, timeout, req = std::move(req),
             done = std::move(done)](caf::event_based_actor* self) mutable {
    self->request(gw, to_caf(timeout), std::move(req))
      .then([done](Response& resp) { done(std::move(resp)); },
            [done](caf::error& err) { done(std::move(err)); });
  });
}

void ask_status(caf::actor_system& sys, const caf::actor& gateway,
                std::chrono::milliseconds timeout,
                std::function<void(caf::expected<Value>)> done) {
  auto gw = caf::actor_cast<gateway_actor>(gateway);
  sys.spawn([gw, timeout, done = std::move(done)](caf::event_based_actor* self) {
    self->request(gw, to_caf(timeout), status_atom::value)
      .then([done](Value& v) { done(std::move(v)); },
            [done](caf::error& err) { done(std::move(err)); });
  });
}

}  // namespace caflow::http
