// The gateway's gRPC services besides the stream (grpc/call_stream.hpp), on
// the async API and the server's own queues: Jina's unary call, endpoint
// discovery, info and dry run, the health service (grpc/health_service.hpp)
// and the refusal of every other method. Each forwards to the flow's
// gateway actor through the bridge and answers from the thread that gets
// the answer. No service of the server is on the callback API, which would
// bring gRPC's own polling threads (see grpc/call_queues.hpp); server
// reflection is gRPC's synchronous one.
#pragma once

#include <memory>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server_builder.h>

#include "grpc/call_queues.hpp"
#include "grpc/core.hpp"
#include "grpc/health_service.hpp"
#include "jina.grpc.pb.h"

namespace caflow::grpc_gateway {

class Services {
 public:
  explicit Services(std::shared_ptr<Core> core);
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  /// Registers the services; before the builder builds the server.
  void add_to(grpc::ServerBuilder& builder);

  /// Waits for a call of each method on `queue`; each call that comes waits
  /// for the next one of its method.
  void await(const std::shared_ptr<CallQueue>& queue);

 private:
  std::shared_ptr<Core> core_;
  jina::JinaSingleDataRequestRPC::WithRawMethod_process_single_data<
    jina::JinaSingleDataRequestRPC::Service>
    single_;
  jina::JinaDiscoverEndpointsRPC::AsyncService discover_;
  jina::JinaInfoRPC::AsyncService info_;
  jina::JinaGatewayDryRunRPC::AsyncService dry_run_;
  HealthService health_;
  grpc::AsyncGenericService unknown_;
};

}  // namespace caflow::grpc_gateway
