// One unary call on gRPC's async API (grpc/call_queues.hpp): waits for the
// call on a queue, asks for the next one once it has come, and hands it to
// `serve`, which answers through finish() from any thread (the queue's, or
// the CAF worker the flow answers on).
//
// The call holds itself (self_) while gRPC has a tag of it; a serve that
// never finishes (the flow's answer dropped at shutdown) lets it go with
// its last reference.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include <grpcpp/server_context.h>
#include <grpcpp/support/async_unary_call.h>

#include "grpc/call_queues.hpp"

namespace caflow::grpc_gateway {

template <class Req, class Resp>
class UnaryCall : public std::enable_shared_from_this<UnaryCall<Req, Resp>> {
 public:
  using Responder = grpc::ServerAsyncResponseWriter<Resp>;
  /// Asks gRPC for the method's next call (a generated Request<method>).
  using Ask = std::function<void(grpc::ServerContext*, Req*, Responder*,
                                 grpc::ServerCompletionQueue*, void* tag)>;
  using Serve = std::function<void(std::shared_ptr<UnaryCall>)>;

  /// Waits for the next call of a method on `queue`.
  static void await(const std::shared_ptr<CallQueue>& queue, std::shared_ptr<const Ask> ask,
                    std::shared_ptr<const Serve> serve) {
    std::shared_ptr<UnaryCall> call{new UnaryCall(queue, std::move(ask), std::move(serve))};
    std::lock_guard<std::mutex> guard{call->mtx_};
    if (queue->start([&] {
          (*call->ask_)(&call->ctx_, &call->request_, &call->responder_, &queue->cq(),
                        &call->accepted_);
        }))
      call->self_ = call;
  }

  UnaryCall(const UnaryCall&) = delete;
  UnaryCall& operator=(const UnaryCall&) = delete;

  const Req& request() const noexcept { return request_; }
  Resp& response() noexcept { return response_; }

  /// Sends response() (only when `status` is OK) and `status`. Once.
  void finish(const grpc::Status& status) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (finishing_)
      return;
    finishing_ = true;
    if (queue_->start([&] { responder_.Finish(response_, status, &finished_); }))
      self_ = this->shared_from_this();
  }

 private:
  enum class Event : uint8_t { accepted, finished };
  using Tag = EventTag<UnaryCall, Event>;
  friend Tag;

  UnaryCall(const std::shared_ptr<CallQueue>& queue, std::shared_ptr<const Ask> ask,
            std::shared_ptr<const Serve> serve)
    : queue_(queue), ask_(std::move(ask)), serve_(std::move(serve)) {}

  void on(Event event, bool ok) {
    std::shared_ptr<UnaryCall> self;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      self = std::move(self_);  // held again by finish() while it is sent
    }
    if (event == Event::finished || !ok)  // sent (or the client gone), or shutting down
      return;
    await(queue_, ask_, serve_);
    (*serve_)(std::move(self));
  }

  std::shared_ptr<CallQueue> queue_;
  std::shared_ptr<const Ask> ask_;
  std::shared_ptr<const Serve> serve_;
  grpc::ServerContext ctx_;
  Req request_;
  Resp response_;
  Responder responder_{&ctx_};
  Tag accepted_{this, Event::accepted};
  Tag finished_{this, Event::finished};
  std::mutex mtx_;
  std::shared_ptr<UnaryCall> self_;
  bool finishing_ = false;
};

/// Waits for the next call of a generated service's async method
/// (`&Service::Request<method>`) on `queue`, to be served by `serve`.
template <class Req, class Resp, class Service, class Method>
void await_unary(const std::shared_ptr<CallQueue>& queue, Service& service, Method method,
                 typename UnaryCall<Req, Resp>::Serve serve) {
  using Call = UnaryCall<Req, Resp>;
  auto ask = std::make_shared<const typename Call::Ask>(
    [&service, method](grpc::ServerContext* ctx, Req* req, typename Call::Responder* responder,
                       grpc::ServerCompletionQueue* cq,
                       void* tag) { (service.*method)(ctx, req, responder, cq, cq, tag); });
  Call::await(queue, std::move(ask),
              std::make_shared<const typename Call::Serve>(std::move(serve)));
}

}  // namespace caflow::grpc_gateway
