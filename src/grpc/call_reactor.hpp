// One jina.JinaRPC/Call stream: reads requests while fewer than
// stream_window are in flight, sends each to the flow, writes each answer
// as soon as it arrives (one write at a time, in completion order) and
// finishes once the client has half-closed and every answer is written.
//
// gRPC calls the reactions on its threads and the answers arrive on CAF's:
// one mutex guards the state. The reactor owns itself (self_) until
// OnDone; answers that arrive later find it finished and are dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "grpc/core.hpp"

namespace caflow::grpc_gateway {

class CallReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                    public std::enable_shared_from_this<CallReactor> {
 public:
  explicit CallReactor(std::shared_ptr<Core> core);
  ~CallReactor() override;

  /// Registers with the core and starts reading; returns the reactor for
  /// gRPC (which holds it until OnDone).
  CallReactor* start();

  /// Ends the stream once the requests in flight are answered (stop()).
  void drain();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void handle(grpc::ByteBuffer& in);
  void deliver(grpc::ByteBuffer out);
  void read_next_locked();
  void finish_locked(grpc::Status status);
  void maybe_finish_locked();

  std::shared_ptr<Core> core_;
  std::shared_ptr<CallReactor> self_;
  std::mutex mtx_;
  grpc::ByteBuffer in_;
  std::deque<grpc::ByteBuffer> out_;
  uint64_t received_ = 0;
  uint32_t in_flight_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
  bool draining_ = false;
  std::optional<grpc::Status> abort_;  // finish once the write in progress is done
};

}  // namespace caflow::grpc_gateway
