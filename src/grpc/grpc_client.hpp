// caflow::Client over gRPC (ClientOptions::protocol = "grpc"): the
// counterpart of Jina's default Client. One jina.JinaRPC/Call stream per
// post, at most `prefetch` requests unanswered, answers matched by
// header.request_id; an in-band error (header.status ERROR) fails the post
// with the error its exception names.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"
#include "caflow/value.hpp"

namespace caflow::grpc_gateway {

class GrpcClient {
 public:
  GrpcClient(const std::string& host, uint16_t port, std::chrono::milliseconds timeout,
             std::chrono::milliseconds connect_timeout);
  ~GrpcClient();

  /// True when the gateway's health service says SERVING within `timeout`.
  bool ready(std::chrono::milliseconds timeout);

  /// As Client::post.
  caf::expected<PostResult> post(const std::string& endpoint, DocumentArray docs,
                                 const PostOptions& options);

  /// jina.JinaInfoRPC/_status as a Value {"jina": {...}, "envs": {...}}.
  caf::expected<Value> status();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caflow::grpc_gateway
