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
void ask_gateway(caf::actor_system& sys, const gateway_actor& gateway, Request req,
                 std::chrono::milliseconds timeout,
                 std::function<void(caf::expected<Response>)> done) {
  // Arguments rather than captures: CAF 0.17.6 dereferences a null
  // std::shared_ptr<std::tuple<>> when an actor function is spawned without
  // arguments (caf/detail/init_fun_factory.hpp), undefined behaviour that
  // UBSan reports.
  sys.spawn(
    [](caf::event_based_actor* self, gateway_actor gw, caf::duration t, Request r,
       std::function<void(caf::expected<Response>)> cb) {
      self->request(gw, t, std::move(r))
        .then([cb](Response& resp) { cb(std::move(resp)); },
              [cb](caf::error& err) { cb(std::move(err)); });
    },
    gateway, to_caf(timeout), std::move(req), std::move(done));
}

void ask_status(caf::actor_system& sys, const gateway_actor& gateway,
                std::chrono::milliseconds timeout, std::function<void(caf::expected<Value>)> done) {
  sys.spawn(  // arguments rather than captures: see ask_gateway
    [](caf::event_based_actor* self, gateway_actor gw, caf::duration t,
       std::function<void(caf::expected<Value>)> cb) {
      self->request(gw, t, status_atom::value)
        .then([cb](Value& v) { cb(std::move(v)); }, [cb](caf::error& err) { cb(std::move(err)); });
    },
    gateway, to_caf(timeout), std::move(done));
}

}  // namespace caflow::http
