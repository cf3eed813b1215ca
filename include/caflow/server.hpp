/// The HTTP gateway: serves a running flow over Jina 3's HTTP API.
///
/// Routes: POST /post (the body names the endpoint), POST /index, POST
/// /search, PUT /update, DELETE /delete (POST accepted for both), GET /status,
/// GET /dry_run (readiness) and GET /metrics (Prometheus text). Bodies follow
/// Jina's JSON shape, so Jina's HTTP client and curl work unchanged:
///
///   curl -X POST localhost:8080/post -d '{"data": [{"text": "hi"}], "execEndpoint": "/search"}'
///
/// Errors answer with a JSON body whose header.status holds Jina's error code
/// and the message: 400 malformed JSON or a bad field, 404 unknown route, 405
/// wrong method, 413 body too large, 503 flow overloaded or unavailable, 504
/// timeout, 500 executor failure.
///
/// The same port speaks Jina 3.0's WebSocket protocol on `/`: binary
/// jina.DataRequestProto frames, one answer per request matched by
/// header.request_id, a single 0x00 byte to end the stream (the README's
/// WebSocket section).
///
///   auto running = flow.start();
///   auto server = caflow::HttpServer::start(*running, {.port = 8080});
///   if (!server) { std::cerr << caflow::describe(server.error()); return 1; }
///   std::cout << "serving on " << (*server)->address() << '\n';
///
/// Thread-safety: the server runs on its own I/O threads; its members may be
/// called from any thread. The RunningFlow must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace caflow {

class RunningFlow;

namespace http {
class Metrics;
}  // namespace http

/// Options of HttpServer::start.
struct ServerOptions {
  /// Address to bind. Default: loopback only.
  std::string host = "127.0.0.1";
  /// Port to bind; 0 picks a free one (see HttpServer::port). Default: 0
  uint16_t port = 0;
  /// Largest accepted request body in bytes; larger ones get 413.
  /// Default: 64 MiB
  size_t body_limit = size_t{64} << 20;
  /// I/O threads. JSON decoding runs on them. Default: 1
  unsigned threads = 1;
  /// Longest wait for the flow's answer; 0 waits as long as it takes (the
  /// deployments' own timeouts still apply). Expiry answers 504. Default: 0
  std::chrono::milliseconds request_timeout{0};
  /// A connection that sends nothing (between requests, or mid-request) or
  /// reads nothing for this long is closed; 0 never closes it.
  /// Default: 60 s
  std::chrono::milliseconds idle_timeout{60000};
  /// Longest wait in stop() for requests in flight. Default: 30 s
  std::chrono::milliseconds drain_timeout{30000};
  /// Most connections open at once. One over it is answered 503 and
  /// closed; 0 picks half the process's file descriptor limit
  /// (RLIMIT_NOFILE), at most 10,000, leaving the rest to the flow's storage.
  /// Default: 0 (automatic)
  size_t max_connections = 0;
  /// Most documents in one request; more are answered 413. 0: no limit.
  /// Default: 100,000
  size_t max_docs = 100000;
  /// Largest `top_k` a request may ask for; larger, negative or fractional
  /// ones are answered 400. 0: no limit. Default: 10,000
  int64_t max_top_k = 10000;
  /// Most matches one request may ask for, documents x top_k (each match
  /// carries its text); more are answered 400. 0: no limit.
  /// Default: 100,000 (with 5 KB texts, about 0.5 GB per shard's answer)
  size_t max_matches = 100000;
  /// Largest response body in bytes; a larger answer is replaced by a 400
  /// that says so (the flow's work is dropped, nothing half-sent). 0: no
  /// limit. Default: 256 MiB
  size_t max_response_bytes = size_t{256} << 20;
  /// Most requests of one WebSocket connection in flight at once; past it
  /// the server stops reading that connection until an answer is written
  /// (TCP back-pressure), like Jina's gateway `prefetch`. Default: 1000
  uint32_t stream_window = 1000;
  /// Where the server reports trouble that concerns no single request
  /// (e.g. "out of file descriptors"), one line at a time. Default: stderr
  std::function<void(const std::string&)> log{};
};

/// An HTTP server in front of a running flow (see the file comment).
class HttpServer {
 public:
  /// Binds `options.host:options.port` and starts serving `flow`. Fails with
  /// errc::io_error naming the address and the reason when it cannot bind.
  [[nodiscard]] static caf::expected<std::unique_ptr<HttpServer>> start(RunningFlow& flow,
                                                                        ServerOptions options = {});

  /// Stops the server (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the chosen one when options.port was 0).
  [[nodiscard]] uint16_t port() const noexcept;

  /// "host:port" as bound.
  [[nodiscard]] std::string address() const;

  /// The server's metrics (what GET /metrics renders). Lives as long as the
  /// server; include "http/metrics.hpp" to read it.
  [[nodiscard]] const http::Metrics& metrics() const noexcept;

  /// The metrics in Prometheus text format, as GET /metrics answers.
  [[nodiscard]] std::string metrics_text() const;

  /// Stops accepting connections, answers the requests in flight (waiting at
  /// most options.drain_timeout), closes every connection and joins the I/O
  /// threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace caflow
