/// The gRPC gateway: serves a running flow over Jina 3's gateway protocol
/// (`jina.proto`, documents as docarray 0.6's `DocumentProto`), so that
/// Jina's default client (`Client(host='grpc://...')`) talks to caflow.
///
/// Services: `jina.JinaRPC/Call` (a bidirectional stream; one response per
/// request, in completion order, matched by `header.request_id`),
/// `jina.JinaSingleDataRequestRPC/process_single_data` (unary),
/// `jina.JinaDiscoverEndpointsRPC/endpoint_discovery`,
/// `jina.JinaInfoRPC/_status`, `jina.JinaGatewayDryRunRPC/dry_run`, the
/// standard `grpc.health.v1.Health` (Check and Watch) and server reflection.
///
/// Errors: an executor's failure comes back in-band, as Jina's do, in the
/// response's `header.status` (code ERROR, description, exception name,
/// args and executor). On the stream every failure of one request is
/// in-band, so the stream goes on; a malformed protobuf ends the stream
/// with INVALID_ARGUMENT. The unary call answers a bad request with
/// INVALID_ARGUMENT / NOT_FOUND, overload with RESOURCE_EXHAUSTED, an
/// unavailable flow with UNAVAILABLE and a timeout with DEADLINE_EXCEEDED.
/// A message over `max_message_size` gets RESOURCE_EXHAUSTED.
///
///   auto running = flow.start();
///   auto grpc = caflow::GrpcServer::start(*running, {.port = 54321});
///   if (!grpc) { std::cerr << caflow::describe(grpc.error()); return 1; }
///
/// Thread-safety: the server runs on threads of its own (options.threads)
/// and, for server reflection, one of gRPC's; its members may be called from
/// any thread. The RunningFlow must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace caflow {

class RunningFlow;

/// Options of GrpcServer::start.
struct GrpcServerOptions {
  /// Address to bind. Default: loopback only.
  std::string host = "127.0.0.1";
  /// Port to bind; 0 picks a free one (see GrpcServer::port). Default: 0
  uint16_t port = 0;
  /// Largest message accepted, in bytes; larger ones get
  /// RESOURCE_EXHAUSTED. Default: 64 MiB
  size_t max_message_size = size_t{64} << 20;
  /// Requests of one Call stream in flight at once; the server reads no
  /// further until one is answered (HTTP/2 flow control then holds the
  /// client back), like Jina's gateway `prefetch`. Default: 1000
  uint32_t stream_window = 1000;
  /// Longest wait for the flow's answer to one request; 0 waits as long as
  /// it takes. Default: 0
  std::chrono::milliseconds request_timeout{0};
  /// Longest wait in stop() for requests in flight. Default: 30 s
  std::chrono::milliseconds drain_timeout{30000};
  /// Threads of the server's own that serve Call streams: each polls the
  /// connections, decodes, carries requests through the flow and writes
  /// the answers (the other services run on gRPC's threads). Default: 1
  unsigned threads = 1;
};

/// A gRPC server in front of a running flow (see the file comment).
class GrpcServer {
 public:
  /// Binds `options.host:options.port` and starts serving `flow`. Fails with
  /// errc::io_error naming the address when it cannot bind.
  [[nodiscard]] static caf::expected<std::unique_ptr<GrpcServer>> start(
    RunningFlow& flow, GrpcServerOptions options = {});

  /// Stops the server (see stop()).
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  /// The bound port (the chosen one when options.port was 0).
  [[nodiscard]] uint16_t port() const noexcept;

  /// "host:port" as bound.
  [[nodiscard]] std::string address() const;

  /// Marks the server NOT_SERVING for health checks, ends idle streams,
  /// answers the requests in flight (at most options.drain_timeout), then
  /// shuts down. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace caflow
