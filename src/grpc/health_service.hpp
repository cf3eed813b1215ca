// gRPC's standard health service (grpc.health.v1.Health, proto/health.proto)
// on the async API, in place of gRPC's default one, which runs on the
// callback API: a server with any callback service gets gRPC's "nexting"
// threads, which poll the connections too and hand each completion on to
// the thread that serves it (grpc/call_queues.hpp says why that costs).
//
// Check answers SERVING for the server ("") and each of its services while
// it serves, NOT_SERVING once it stops, NOT_FOUND for a service it does not
// know. Watch sends the status, and at stop NOT_SERVING, then finishes (so
// that no watch holds the server's shutdown); SERVICE_UNKNOWN for an unknown
// service, as the standard says.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>

#include "grpc/call_queues.hpp"
#include "grpc/core.hpp"
#include "health.grpc.pb.h"

namespace caflow::grpc_gateway {

using HealthService = grpc::health::v1::Health::AsyncService;
using HealthStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

/// The status of `service` now; no value for one the server does not know.
std::optional<HealthStatus> health_of(const Core& core, const std::string& service);

/// Waits for a Check call on `queue` (each accepted call waits for the next).
void await_health_check(std::shared_ptr<Core> core, HealthService& service,
                        const std::shared_ptr<CallQueue>& queue);

/// One Watch call.
class HealthWatch final : public LiveCall, public std::enable_shared_from_this<HealthWatch> {
 public:
  /// Waits for a Watch call on `queue` (each accepted call waits for the next).
  static void await(std::shared_ptr<Core> core, HealthService& service,
                    const std::shared_ptr<CallQueue>& queue);

  ~HealthWatch();
  HealthWatch(const HealthWatch&) = delete;
  HealthWatch& operator=(const HealthWatch&) = delete;

  /// The server stops: sends NOT_SERVING, then finishes.
  void end() override;

 private:
  enum class Event : uint8_t { accepted, written, finished, done };
  using Tag = EventTag<HealthWatch, Event>;
  friend Tag;

  HealthWatch(std::shared_ptr<Core> core, HealthService& service,
              const std::shared_ptr<CallQueue>& queue);
  void on(Event event, bool ok);
  void send_locked();
  template <class F>
  bool start_locked(F&& op) {
    return tags_.start(*queue_, std::forward<F>(op));
  }

  std::shared_ptr<Core> core_;
  HealthService& service_;
  std::shared_ptr<CallQueue> queue_;
  grpc::ServerContext ctx_;
  grpc::health::v1::HealthCheckRequest request_;
  grpc::ServerAsyncWriter<grpc::health::v1::HealthCheckResponse> writer_{&ctx_};
  Tag accepted_tag_{this, Event::accepted};
  Tag written_tag_{this, Event::written};
  Tag finished_tag_{this, Event::finished};
  Tag done_tag_{this, Event::done};
  std::mutex mtx_;
  HeldTags<HealthWatch> tags_;
  std::optional<HealthStatus> sent_;
  bool registered_ = false;  // accepted, and among the live calls
  bool writing_ = false;
  bool stopping_ = false;
  bool finished_ = false;
};

}  // namespace caflow::grpc_gateway
