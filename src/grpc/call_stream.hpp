// One jina.JinaRPC/Call stream on gRPC's async API (grpc/call_queues.hpp):
// reads requests while fewer than stream_window are in flight, sends each to
// the flow, writes each answer as soon as it arrives (one write at a time,
// in completion order) and finishes once the client has half-closed and
// every answer is written.
//
// The queue's thread takes the stream's completions; an answer arrives on
// that thread too when the flow answers inside ask() (the usual case), or
// on a CAF worker, which then starts the write itself. One mutex guards the
// state. The stream holds itself (tags_) while gRPC has a tag of it;
// answers that arrive once it is finished are dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/byte_buffer.h>

#include "grpc/call_queues.hpp"
#include "grpc/core.hpp"
#include "jina.grpc.pb.h"

namespace caflow::grpc_gateway {

/// jina.JinaRPC with Call on the async API, raw bytes (parsed by the
/// stream, to answer a malformed message with INVALID_ARGUMENT).
using CallService = jina::JinaRPC::WithRawMethod_Call<jina::JinaRPC::Service>;

class CallStream final : public LiveCall, public std::enable_shared_from_this<CallStream> {
 public:
  /// Asks gRPC for the next Call on `queue`, with a new stream to serve it.
  /// Each accepted call asks for the next one.
  static void await(std::shared_ptr<Core> core, CallService& service,
                    const std::shared_ptr<CallQueue>& queue);

  ~CallStream();
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;

  /// Ends the stream once the requests in flight are answered (stop()).
  void end() override;

 private:
  enum class Event : uint8_t { accepted, read, written, finished, done };

  using Tag = EventTag<CallStream, Event>;
  friend Tag;

  CallStream(std::shared_ptr<Core> core, CallService& service,
             const std::shared_ptr<CallQueue>& queue);

  void on(Event event, bool ok);
  void accepted_locked();
  bool read_done_locked(bool ok, grpc::ByteBuffer& in);
  void written_locked(bool ok);
  void handle(grpc::ByteBuffer& in);
  void deliver(grpc::ByteBuffer out);
  void read_next_locked();
  void write_next_locked();
  void finish_locked(grpc::Status status);
  void maybe_finish_locked();
  template <class F>
  bool start_locked(F&& op) {
    return tags_.start(*queue_, std::forward<F>(op));
  }

  std::shared_ptr<Core> core_;
  CallService& service_;
  std::shared_ptr<CallQueue> queue_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> stream_{&ctx_};
  Tag accepted_tag_{this, Event::accepted};
  Tag read_tag_{this, Event::read};
  Tag written_tag_{this, Event::written};
  Tag finished_tag_{this, Event::finished};
  Tag done_tag_{this, Event::done};
  HeldTags<CallStream> tags_;
  std::mutex mtx_;
  grpc::ByteBuffer in_;
  std::deque<grpc::ByteBuffer> out_;
  uint64_t received_ = 0;
  uint32_t in_flight_ = 0;
  bool registered_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
  bool draining_ = false;
  std::optional<grpc::Status> abort_;  // finish once the write in progress is done
};

}  // namespace caflow::grpc_gateway
