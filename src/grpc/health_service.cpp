#include "grpc/health_service.hpp"

#include <algorithm>
#include <iterator>

#include "grpc/unary_call.hpp"

namespace caflow::grpc_gateway {

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

}  // namespace

std::optional<HealthStatus> health_of(const Core& core, const std::string& service) {
  bool known = service.empty()
               || std::find(std::begin(served_services), std::end(served_services), service)
                    != std::end(served_services);
  if (!known)
    return std::nullopt;
  return core.stopping ? HealthCheckResponse::NOT_SERVING : HealthCheckResponse::SERVING;
}

void await_health_check(std::shared_ptr<Core> core, HealthService& service,
                        const std::shared_ptr<CallQueue>& queue) {
  using Call = UnaryCall<HealthCheckRequest, HealthCheckResponse>;
  await_unary<HealthCheckRequest, HealthCheckResponse>(
    queue, service, &HealthService::RequestCheck, [core](std::shared_ptr<Call> call) {
      auto status = health_of(*core, call->request().service());
      if (!status) {
        call->finish(
          {grpc::StatusCode::NOT_FOUND, "no service " + call->request().service() + " here"});
        return;
      }
      call->response().set_status(*status);
      call->finish(grpc::Status::OK);
    });
}

HealthWatch::HealthWatch(std::shared_ptr<Core> core, HealthService& service,
                         const std::shared_ptr<CallQueue>& queue)
  : core_(std::move(core)), service_(service), queue_(queue) {
}

HealthWatch::~HealthWatch() {
  if (registered_)
    core_->delist(this);
}

void HealthWatch::await(std::shared_ptr<Core> core, HealthService& service,
                        const std::shared_ptr<CallQueue>& queue) {
  std::shared_ptr<HealthWatch> w{new HealthWatch(std::move(core), service, queue)};
  std::lock_guard<std::mutex> guard{w->mtx_};
  w->ctx_.AsyncNotifyWhenDone(&w->done_tag_);  // comes back only for a call that started
  if (w->start_locked([&] {
        service.RequestWatch(&w->ctx_, &w->request_, &w->writer_, &queue->cq(), &queue->cq(),
                             &w->accepted_tag_);
      }))
    w->tags_.hold(w);
}

void HealthWatch::end() {
  std::lock_guard<std::mutex> guard{mtx_};
  stopping_ = true;
  if (registered_ && !writing_)
    send_locked();
}

void HealthWatch::on(Event event, bool ok) {
  std::shared_ptr<HealthWatch> last;  // released after the mutex
  {
    std::lock_guard<std::mutex> guard{mtx_};
    switch (event) {
      case Event::accepted:
        if (!ok)
          break;
        tags_.due();  // the done tag
        core_->enlist(this, weak_from_this());
        registered_ = true;
        stopping_ = stopping_ || core_->stopping;
        send_locked();
        break;
      case Event::written:
        writing_ = false;
        if (ok)
          send_locked();
        break;
      case Event::finished:
        break;
      case Event::done:
        finished_ = true;
        break;
    }
    last = tags_.returned();  // after a tag that became due (done's)
  }
  if (event == Event::accepted && ok)
    await(core_, service_, queue_);
}

// Writes the status when it differs from what was sent; once the server
// stops and NOT_SERVING is out, finishes.
void HealthWatch::send_locked() {
  if (finished_ || writing_)
    return;
  auto now = health_of(*core_, request_.service()).value_or(HealthCheckResponse::SERVICE_UNKNOWN);
  if (stopping_)
    now = HealthCheckResponse::NOT_SERVING;
  if (sent_ != now) {
    grpc::health::v1::HealthCheckResponse msg;
    msg.set_status(now);
    if (start_locked([&] { writer_.Write(msg, &written_tag_); })) {
      writing_ = true;
      sent_ = now;
    }
    return;
  }
  if (stopping_) {
    finished_ = true;
    start_locked([&] { writer_.Finish(grpc::Status::OK, &finished_tag_); });
  }
}

}  // namespace caflow::grpc_gateway
