// The gateway's gRPC services: Jina's stream, unary call, endpoint
// discovery, info and dry run. Each forwards to the flow's gateway actor
// through the bridge and answers from the CAF worker that gets the answer.
#pragma once

#include <memory>

#include <grpcpp/generic/async_generic_service.h>

#include "grpc/core.hpp"
#include "jina.grpc.pb.h"

namespace caflow::grpc_gateway {

/// jina.JinaRPC/Call, raw bytes (parsed by the stream, to answer a
/// malformed message with INVALID_ARGUMENT).
class CallService : public jina::JinaRPC::WithRawCallbackMethod_Call<jina::JinaRPC::Service> {
 public:
  explicit CallService(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Call(
    grpc::CallbackServerContext* ctx) override;

 private:
  std::shared_ptr<Core> core_;
};

/// jina.JinaSingleDataRequestRPC/process_single_data, raw bytes.
class SingleService
  : public jina::JinaSingleDataRequestRPC::WithRawCallbackMethod_process_single_data<
      jina::JinaSingleDataRequestRPC::Service> {
 public:
  explicit SingleService(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  grpc::ServerUnaryReactor* process_single_data(grpc::CallbackServerContext* ctx,
                                                const grpc::ByteBuffer* request,
                                                grpc::ByteBuffer* response) override;

 private:
  std::shared_ptr<Core> core_;
};

/// jina.JinaDiscoverEndpointsRPC/endpoint_discovery.
class DiscoverService : public jina::JinaDiscoverEndpointsRPC::CallbackService {
 public:
  explicit DiscoverService(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  grpc::ServerUnaryReactor* endpoint_discovery(grpc::CallbackServerContext* ctx,
                                               const google::protobuf::Empty* request,
                                               jina::EndpointsProto* response) override;

 private:
  std::shared_ptr<Core> core_;
};

/// jina.JinaInfoRPC/_status.
class InfoService : public jina::JinaInfoRPC::CallbackService {
 public:
  explicit InfoService(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  grpc::ServerUnaryReactor* _status(grpc::CallbackServerContext* ctx,
                                    const google::protobuf::Empty* request,
                                    jina::JinaInfoProto* response) override;

 private:
  std::shared_ptr<Core> core_;
};

/// jina.JinaGatewayDryRunRPC/dry_run: an empty request through the flow.
class DryRunService : public jina::JinaGatewayDryRunRPC::CallbackService {
 public:
  explicit DryRunService(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  grpc::ServerUnaryReactor* dry_run(grpc::CallbackServerContext* ctx,
                                    const google::protobuf::Empty* request,
                                    jina::StatusProto* response) override;

 private:
  std::shared_ptr<Core> core_;
};

/// Every other method: UNIMPLEMENTED with a message naming the method and
/// what is served (gRPC's own answer has no message).
class UnknownMethodService : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;
};

}  // namespace caflow::grpc_gateway
