/// A client for a running caflow HTTP gateway (or any server speaking Jina
/// 3's HTTP API): the counterpart of Jina's `Client(protocol='http')`.
///
///   caflow::Client client{"127.0.0.1", 8080};
///   if (!client.ready()) { ... }
///   auto result = client.post("/index", docs, {.request_size = 100, .prefetch = 4});
///   if (!result) std::cerr << caflow::describe(result.error()) << '\n';
///
/// `post` splits the documents into requests of `request_size`, keeps up to
/// `prefetch` of them in flight (one keep-alive connection each) and returns
/// the documents in input order. A request answered 503 (the flow at its
/// in-flight limit, a replica away) is sent again after a bounded back-off
/// that honours the server's Retry-After (ClientOptions::retries). The first
/// request that fails for good fails the post with the server's error mapped
/// back to a caflow::errc (the message says "HTTP 400: ..."); connection
/// failures are errc::io_error. A PostReport says how far a post got.
///
/// Thread-safety: a Client may be used from several threads at once; it
/// keeps a pool of idle keep-alive connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "caflow/flow.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// Options of a Client.
struct ClientOptions {
  /// "http" (Jina's HTTP API) or "grpc" (Jina's gateway protocol: one
  /// jina.JinaRPC/Call stream per post, `prefetch` requests unanswered at
  /// most; request() and metrics() are HTTP only). Default: http
  std::string protocol = "http";
  /// Longest wait for one HTTP exchange; 0 waits as long as it takes.
  /// Default: 0
  std::chrono::milliseconds timeout{0};
  /// Longest wait to establish a connection. Default: 5 s
  std::chrono::milliseconds connect_timeout{5000};
  /// Times post() sends a request again after a 503, waiting between tries
  /// the server's Retry-After, else 100 ms doubling, each wait at most
  /// max_retry_wait and jittered by up to +-25% so that the clients a busy
  /// flow turned away do not all return at once. 0: fail at the first 503.
  /// Default: 8
  unsigned retries = 8;
  /// Longest wait before one retry. Default: 5 s
  std::chrono::milliseconds max_retry_wait{5000};
};

/// How far a post got (Client::post's optional out-parameter), for a
/// summary such as caflow post prints.
struct PostReport {
  size_t requests = 0;                ///< requests the documents were split into
  size_t documents = 0;               ///< documents given
  size_t requests_acknowledged = 0;   ///< answered 200
  size_t documents_acknowledged = 0;  ///< documents of those requests
  size_t requests_failed = 0;         ///< failed for good (at most prefetch of them)
  size_t retries = 0;                 ///< sends again after a 503
};

/// A raw HTTP answer.
struct HttpReply {
  int status = 0;            ///< e.g. 200
  std::string body;          ///< the body as received
  std::string content_type;  ///< the Content-Type header ("" when absent)
  std::string allow;         ///< the Allow header ("" when absent)
  std::string retry_after;   ///< the Retry-After header ("" when absent)
  bool keep_alive = true;    ///< false when the server closed the connection
};

/// A client of one HTTP gateway (see the file comment).
class Client {
 public:
  /// A client of the gateway at `host:port`. Connects lazily.
  Client(std::string host, uint16_t port, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// True when GET /dry_run answers 200 within `timeout`.
  [[nodiscard]] bool ready(std::chrono::milliseconds timeout = std::chrono::milliseconds{2000});

  /// Posts `docs` to `endpoint` (see the file comment). `on_progress` is
  /// called after each request, from the thread that completed it, with
  /// calls serialised.
  [[nodiscard]] caf::expected<PostResult> post(const std::string& endpoint, DocumentArray docs,
                                               PostOptions options = {});

  /// The same, filling `report` whether the post succeeds or fails.
  [[nodiscard]] caf::expected<PostResult> post(const std::string& endpoint, DocumentArray docs,
                                               PostOptions options, PostReport& report);

  /// GET /status as a Value.
  [[nodiscard]] caf::expected<Value> status();

  /// GET /metrics: Prometheus text.
  [[nodiscard]] caf::expected<std::string> metrics();

  /// One raw HTTP exchange, e.g. request("POST", "/post", "{...}"). Any HTTP
  /// status is a value; only connection failures are errors (errc::io_error).
  [[nodiscard]] caf::expected<HttpReply> request(std::string_view method, std::string_view target,
                                                 std::string body = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caflow
