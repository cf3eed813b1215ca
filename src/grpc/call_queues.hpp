// The gRPC server's own threads: one completion queue each, polled by its
// thread, which runs the calls' reads, decoding, the flow (the bridge hosts
// it on the caller, runtime/gateway_bridge.hpp), encoding and writes. gRPC's callback API on Linux
// (1.51, no EventEngine) runs each reaction on a "nexting" thread of its own that is woken per
// completion (about one context switch per request): here the thread that
// polls is the thread that serves.
//
// A queue that is shut down must see no operation started on it: every
// start goes through start() (the gate, shared), and close() takes the gate
// exclusively.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <grpcpp/completion_queue.h>

namespace caflow::grpc_gateway {

/// One completion queue with its thread.
class CallQueue {
 public:
  explicit CallQueue(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  ~CallQueue();
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  grpc::ServerCompletionQueue& cq() noexcept { return *cq_; }

  /// Starts the thread; each tag it takes is a CompletionTag.
  void run();

  /// Runs `start` (which starts one operation on this queue) unless the
  /// queue is closed; returns whether it ran. Any thread.
  template <class F>
  bool start(F&& start) {
    std::shared_lock<std::shared_mutex> guard{gate_};
    if (closed_)
      return false;
    start();
    return true;
  }

  /// Shuts the queue down and waits for its thread, which first takes the
  /// tags still due. Call after the server's Shutdown.
  void close();

 private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::shared_mutex gate_;
  bool closed_ = false;
  std::thread thread_;
};

/// What the queues' threads are given back: the operation that completed.
class CompletionTag {
 public:
  virtual void complete(bool ok) = 0;

 protected:
  ~CompletionTag() = default;
};

/// The tag of one kind of operation of a call: its completion calls
/// call->on(event, ok) on the queue's thread.
template <class Call, class Event>
struct EventTag final : CompletionTag {
  EventTag(Call* c, Event e) : call(c), event(e) {}
  Call* call;
  Event event;
  void complete(bool ok) override { call->on(event, ok); }
};

/// The tags gRPC holds of one call: the call holds itself while there are
/// any (its tags point into it). Guarded by the call's mutex.
template <class Call>
class HeldTags {
 public:
  /// Runs `op` (one operation on `queue`) unless the queue is closed, and
  /// counts its tag.
  template <class F>
  bool start(CallQueue& queue, F&& op) {
    if (!queue.start(std::forward<F>(op)))
      return false;
    ++pending_;
    return true;
  }

  /// Holds the call once its first operation has started.
  void hold(std::shared_ptr<Call> self) { self_ = std::move(self); }

  /// A tag gRPC gives back with no start of ours (AsyncNotifyWhenDone's,
  /// once the call has started).
  void due() { ++pending_; }

  /// A tag came back: the call, when that was the last one, to be let go
  /// of once its mutex is released.
  [[nodiscard]] std::shared_ptr<Call> returned() {
    return --pending_ == 0 ? std::move(self_) : nullptr;
  }

 private:
  uint32_t pending_ = 0;
  std::shared_ptr<Call> self_;
};

}  // namespace caflow::grpc_gateway
