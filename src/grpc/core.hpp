// State shared by the gRPC server's services and streams. Owned through a
// shared_ptr: answers from the flow that arrive after stop() keep it alive.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "caflow/grpc_server.hpp"
#include "caflow/messages.hpp"
#include "http/jina_status.hpp"
#include "runtime/gateway_bridge.hpp"

namespace caflow::grpc_gateway {

/// The services Jina's clients and tools probe by name (health knows them).
inline constexpr const char* served_services[] = {"jina.JinaRPC", "jina.JinaSingleDataRequestRPC",
                                                  "jina.JinaDiscoverEndpointsRPC",
                                                  "jina.JinaInfoRPC", "jina.JinaGatewayDryRunRPC"};

/// A call that stop() must end, or it would hold the server's shutdown
/// until its drain deadline: a stream waiting for its client's next
/// request, a health watch.
class LiveCall {
 public:
  /// The server stops: end once what is in flight is answered.
  virtual void end() = 0;

 protected:
  ~LiveCall() = default;
};

struct Core {
  Core(caf::actor_system& sys, detail::GatewayBridge& b, GrpcServerOptions opts)
    : system(sys), bridge(b), options(std::move(opts)) {}

  caf::actor_system& system;
  /// Into the flow. Owned by the server, apart from this shared core (see
  /// runtime/gateway_bridge.hpp): used only while the server runs.
  detail::GatewayBridge& bridge;
  GrpcServerOptions options;
  int64_t started_us = 0;
  std::atomic<bool> stopping{false};

  /// Adds a call that has started to the live calls; removes it (from its
  /// destructor); the live calls now. Any thread.
  void enlist(LiveCall* call, std::weak_ptr<LiveCall> weak);
  void delist(LiveCall* call);
  std::vector<std::shared_ptr<LiveCall>> live_calls();

 private:
  std::mutex live_mtx_;
  std::unordered_map<LiveCall*, std::weak_ptr<LiveCall>> live_;
};

/// The gRPC status of a request-level error (not in-band).
grpc::Status to_status(const caf::error& err);

using http::normalize;  // CAF's own errors in caflow's words, as HTTP says them

/// For the arena of one request's or one answer's message: its documents'
/// messages come out of a few blocks instead of a malloc and free each.
google::protobuf::ArenaOptions message_arena();

/// The arena of one message, on the stack of the thread that uses it. Its
/// first block is that thread's scratch buffer (64 KiB, reused from message
/// to message) unless another MessageArena of the thread holds it (an answer
/// encoded while its request's arena is alive): then it starts empty, as
/// message_arena() says. Create and destroy it on one thread.
class MessageArena {
 public:
  MessageArena();
  MessageArena(const MessageArena&) = delete;
  MessageArena& operator=(const MessageArena&) = delete;

  /// The arena.
  google::protobuf::Arena* get() noexcept { return &arena_; }

 private:
  // Gives the thread's scratch block back; declared before arena_, so it is
  // destroyed after the arena is done with the block.
  struct Hold {
    bool scratch = false;
    Hold() = default;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold();
  };
  static google::protobuf::ArenaOptions options(Hold& hold);
  Hold hold_;
  google::protobuf::Arena arena_;
};

/// Serialises a message into a gRPC byte buffer.
grpc::ByteBuffer serialize(const google::protobuf::Message& msg);

/// Parses `in` into `msg`; false when it is not a valid message.
bool parse(grpc::ByteBuffer& in, google::protobuf::Message& msg);

}  // namespace caflow::grpc_gateway
