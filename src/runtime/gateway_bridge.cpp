#include "runtime/gateway_bridge.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <variant>

#include <caf/actor_cast.hpp>
#include <caf/actor_companion.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>
#include <caf/scoped_execution_unit.hpp>
#include <caf/sec.hpp>

namespace caflow::detail {

namespace {

std::atomic<bool> actor_per_request{false};
std::atomic<bool> scheduler_hosting_forced{false};

caf::duration to_caf(std::chrono::milliseconds timeout) {
  return timeout.count() <= 0 ? caf::duration{caf::infinite} : caf::duration{timeout};
}

// Takes the T out of an answer: the value, or the error the gateway (or
// CAF, for a timeout or a gateway that is gone) answered with.
template <class T>
caf::expected<T> take(caf::message& msg) {
  if (msg.match_elements<T>())
    return std::move(msg.get_mutable_as<T>(0));
  if (msg.match_elements<caf::error>())
    return std::move(msg.get_mutable_as<caf::error>(0));
  return caf::make_error(caf::sec::unexpected_response, "unexpected answer from the gateway");
}

// The former path (use_actor_per_request): one short-lived actor per
// request, which terminates once its awaited answer arrived. Arguments
// rather than captures: CAF 0.17.6 dereferences a null
// std::shared_ptr<std::tuple<>> when an actor function is spawned without
// arguments (caf/detail/init_fun_factory.hpp), undefined behaviour.
template <class T, class Handler, class Message>
void ask_by_actor(caf::actor_system& sys, const gateway_actor& gw, Message msg,
                  std::chrono::milliseconds timeout, Handler done) {
  sys.spawn(
    [](caf::event_based_actor* self, gateway_actor gw, caf::duration t, Message m, Handler cb) {
      self->request(gw, t, std::move(m))
        .then([cb](T& x) { cb(std::move(x)); }, [cb](caf::error& err) { cb(std::move(err)); });
    },
    gw, to_caf(timeout), std::move(msg), std::move(done));
}

}  // namespace

struct GatewayBridge::Impl {
  using Handler = std::variant<ResponseHandler, ValueHandler>;
  struct Pending {
    Handler handler;
    bool timed = false;  // a request timeout is scheduled for it
  };

  caf::actor_system& sys;
  gateway_actor gateway;
  Hosting hosting;
  InlineUnit::Bound bound;
  caf::strong_actor_ptr companion;
  std::mutex mtx;
  std::unordered_map<uint64_t, Pending> pending;  // guarded by mtx
  std::atomic<uint64_t> next_id{1};

  Impl(caf::actor_system& s, gateway_actor gw, Hosting h, InlineUnit::Bound b)
    : sys(s), gateway(std::move(gw)), hosting(h), bound(b) {
    auto c = sys.spawn<caf::actor_companion>();
    companion = caf::actor_cast<caf::strong_actor_ptr>(c);
    self()->on_enqueue([this](caf::mailbox_element_ptr ptr) { on_answer(std::move(ptr)); });
  }

  caf::actor_companion* self() {
    return static_cast<caf::actor_companion*>(caf::actor_cast<caf::abstract_actor*>(companion));
  }

  template <class Message>
  void send(Message msg, std::chrono::milliseconds timeout, Handler done) {
    // 60 bits of ids: they do not wrap in the life of a process.
    auto id = next_id.fetch_add(1, std::memory_order_relaxed);
    auto mid = caf::make_message_id(id);
    bool timed = timeout.count() > 0;
    {
      std::lock_guard<std::mutex> guard{mtx};
      pending.emplace(id, Pending{std::move(done), timed});
    }
    if (timed)
      sys.clock().set_request_timeout(sys.clock().now() + timeout, self(), mid.response_id());
    // A gateway that is gone bounces the request at once, as an error
    // answer to the companion, on this thread.
    auto* gw = caf::actor_cast<caf::abstract_actor*>(gateway);
    auto element = caf::make_mailbox_element(companion, mid, {}, std::move(msg));
    if (hosting == Hosting::caller && !scheduler_hosting_forced.load(std::memory_order_relaxed)) {
      auto& unit = InlineUnit::here();
      if (!unit.running()) {
        // This thread runs the gateway and whatever it wakes: the answer
        // usually reaches the companion before run() returns.
        unit.run(sys, bound,
                 [&](caf::execution_unit* host) { gw->enqueue(std::move(element), host); });
        return;
      }
    }
    // From outside any actor (or inside a run: no nesting): CAF schedules
    // the gateway on a worker.
    gw->enqueue(std::move(element), nullptr);
  }

  // On the thread that delivers the answer.
  void on_answer(caf::mailbox_element_ptr ptr) {
    if (!ptr || !ptr->mid.is_response())
      return;  // nothing else is sent to the companion
    auto id = ptr->mid.request_id().integer_value();
    Pending p;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto i = pending.find(id);
      if (i == pending.end())
        return;  // answered already (a timeout raced the answer)
      p = std::move(i->second);
      pending.erase(i);
    }
    if (p.timed)
      sys.clock().cancel_request_timeout(self(), ptr->mid);
    // A message (not the element's raw tuple): moving out of it copies
    // first if its data were shared.
    auto msg = ptr->move_content_to_message();
    if (auto* on_response = std::get_if<ResponseHandler>(&p.handler))
      (*on_response)(take<Response>(msg));
    else
      std::get<ValueHandler>(p.handler)(take<Value>(msg));
  }
};

GatewayBridge::GatewayBridge(caf::actor_system& sys, gateway_actor gateway, Hosting hosting,
                             InlineUnit::Bound bound)
  : impl_(std::make_unique<Impl>(sys, std::move(gateway), hosting, bound)) {
}

GatewayBridge::~GatewayBridge() {
  // Terminates the companion as CAF's own actor_widget does (0.17.6 does
  // not define actor_companion::disconnect): on_exit waits for handlers
  // running now and removes the handler, so no answer reaches this bridge.
  caf::scoped_execution_unit host{&impl_->sys};
  impl_->self()->cleanup(caf::error{}, &host);
  std::unordered_map<uint64_t, Impl::Pending> dropped;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    dropped.swap(impl_->pending);
  }
  // `dropped` goes here, outside the lock: its callbacks may own much.
}

void GatewayBridge::ask(Request req, std::chrono::milliseconds timeout, ResponseHandler done) {
  if (actor_per_request.load(std::memory_order_relaxed)) {
    ask_by_actor<Response>(impl_->sys, impl_->gateway, std::move(req), timeout, std::move(done));
    return;
  }
  impl_->send(std::move(req), timeout, std::move(done));
}

void GatewayBridge::ask_status(std::chrono::milliseconds timeout, ValueHandler done) {
  if (actor_per_request.load(std::memory_order_relaxed)) {
    ask_by_actor<Value>(impl_->sys, impl_->gateway, status_atom::value, timeout, std::move(done));
    return;
  }
  impl_->send(status_atom::value, timeout, std::move(done));
}

void use_actor_per_request(bool on) {
  actor_per_request.store(on, std::memory_order_relaxed);
}

void force_scheduler_hosting(bool on) {
  scheduler_hosting_forced.store(on, std::memory_order_relaxed);
}

}  // namespace caflow::detail
