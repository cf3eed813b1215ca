#include "caflow/grpc_server.hpp"

#include <climits>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "grpc/call_queues.hpp"
#include "grpc/call_stream.hpp"
#include "grpc/core.hpp"
#include "grpc/services.hpp"
#include "http/jina_codec.hpp"
#include "runtime/serving_malloc.hpp"

namespace caflow {

using namespace grpc_gateway;

struct GrpcServer::Impl {
  std::shared_ptr<Core> core;
  std::unique_ptr<CallService> call;
  std::unique_ptr<Services> services;
  // Destroyed after the server (which uses them until it is gone); stop()
  // closes them once it has shut down.
  std::vector<std::shared_ptr<CallQueue>> queues;
  std::unique_ptr<grpc::Server> server;
  // Destroyed first, once stop() has shut the server down: the answers
  // still pending are dropped (and the calls waiting for them go) while
  // gRPC is still there; no answer comes after it.
  std::unique_ptr<detail::GatewayBridge> bridge;
  uint16_t port = 0;
  std::mutex mtx;
  bool stopped = false;
};

namespace {

std::string listen_address(const std::string& host, uint16_t port) {
  auto h = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

}  // namespace

caf::expected<std::unique_ptr<GrpcServer>> GrpcServer::start(RunningFlow& flow,
                                                             GrpcServerOptions options) {
  detail::tune_malloc_for_serving();
  auto impl = std::make_unique<Impl>();
  // The queues' threads carry a request through the flow's scheduled
  // actors inside ask() (bounded: runtime/inline_unit.hpp), as the HTTP
  // server's I/O threads do: the answer is usually written from the thread
  // that read the request, with no CAF worker woken.
  impl->bridge = std::make_unique<detail::GatewayBridge>(flow.system(), flow.gateway(),
                                                         detail::GatewayBridge::Hosting::caller);
  impl->core = std::make_shared<Core>(flow.system(), *impl->bridge, options);
  impl->core->started_us = http::now_us();
  impl->call = std::make_unique<CallService>();
  impl->services = std::make_unique<Services>(impl->core);
  // Process-wide switches of gRPC; both must be set before a builder exists.
  // Health is our own (grpc/health_service.hpp says why).
  grpc::EnableDefaultHealthCheckService(false);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound = 0;
  auto address = listen_address(options.host, options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  builder.SetMaxReceiveMessageSize(
    static_cast<int>(std::min<size_t>(options.max_message_size, INT_MAX)));
  builder.SetMaxSendMessageSize(INT_MAX);
  // gRPC shares ports between processes by default (SO_REUSEPORT): a second
  // gateway on the same port would start silently beside the first.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(impl->call.get());
  impl->services->add_to(builder);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  for (unsigned i = 0; i < std::max(1u, options.threads); ++i)
    cqs.push_back(builder.AddCompletionQueue());
  impl->server = builder.BuildAndStart();
  for (auto& cq : cqs)
    impl->queues.push_back(std::make_shared<CallQueue>(std::move(cq)));
  if (!impl->server || bound == 0)
    return make_error(errc::io_error, "cannot listen on " + address
                                        + " for gRPC: the address is in use or not local");
  for (auto& q : impl->queues) {
    q->run();
    CallStream::await(impl->core, *impl->call, q);
    impl->services->await(q);
  }
  impl->port = static_cast<uint16_t>(bound);
  return std::unique_ptr<GrpcServer>{new GrpcServer(std::move(impl))};
}

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

GrpcServer::~GrpcServer() {
  stop();
}

uint16_t GrpcServer::port() const noexcept {
  return impl_->port;
}

std::string GrpcServer::address() const {
  return impl_->core->options.host + ":" + std::to_string(impl_->port);
}

void GrpcServer::stop() {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  auto& core = *impl_->core;
  core.stopping = true;  // health says NOT_SERVING from now on
  // Streams end once their answers are written, health watches once they
  // have said NOT_SERVING (grpc/core.hpp: LiveCall).
  for (auto& call : core.live_calls())
    call->end();
  impl_->server->Shutdown(std::chrono::system_clock::now() + core.options.drain_timeout);
  impl_->server->Wait();
  for (auto& q : impl_->queues)
    q->close();
}

}  // namespace caflow
