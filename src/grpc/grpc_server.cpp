#include "caflow/grpc_server.hpp"

#include <climits>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "grpc/call_reactor.hpp"
#include "grpc/core.hpp"
#include "grpc/services.hpp"
#include "http/jina_codec.hpp"
#include "runtime/serving_malloc.hpp"

namespace caflow {

using namespace grpc_gateway;

struct GrpcServer::Impl {
  // Destroyed last: answers that arrive after the server stopped find it
  // gone and are dropped.
  std::unique_ptr<detail::GatewayBridge> bridge;
  std::shared_ptr<Core> core;
  std::unique_ptr<CallService> call;
  std::unique_ptr<SingleService> single;
  std::unique_ptr<DiscoverService> discover;
  std::unique_ptr<InfoService> info;
  std::unique_ptr<DryRunService> dry_run;
  UnknownMethodService unknown;
  std::unique_ptr<grpc::Server> server;
  uint16_t port = 0;
  std::mutex mtx;
  bool stopped = false;
};

namespace {

// The services Jina's clients and tools probe by name.
const char* const service_names[] = {"jina.JinaRPC", "jina.JinaSingleDataRequestRPC",
                                     "jina.JinaDiscoverEndpointsRPC", "jina.JinaInfoRPC",
                                     "jina.JinaGatewayDryRunRPC"};

std::string listen_address(const std::string& host, uint16_t port) {
  auto h = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

}  // namespace

caf::expected<std::unique_ptr<GrpcServer>> GrpcServer::start(RunningFlow& flow,
                                                             GrpcServerOptions options) {
  detail::tune_malloc_for_serving();
  auto impl = std::make_unique<Impl>();
  // gRPC's callback threads carry a request through the flow's scheduled
  // actors inside ask() (bounded: runtime/inline_unit.hpp), as the HTTP
  // server's I/O threads do: the answer is usually written from the thread
  // that read the request, with no CAF worker woken.
  impl->bridge = std::make_unique<detail::GatewayBridge>(flow.system(), flow.gateway(),
                                                         detail::GatewayBridge::Hosting::caller);
  impl->core = std::make_shared<Core>(flow.system(), *impl->bridge, options);
  impl->core->started_us = http::now_us();
  impl->call = std::make_unique<CallService>(impl->core);
  impl->single = std::make_unique<SingleService>(impl->core);
  impl->discover = std::make_unique<DiscoverService>(impl->core);
  impl->info = std::make_unique<InfoService>(impl->core);
  impl->dry_run = std::make_unique<DryRunService>(impl->core);
  // Process-wide switches of gRPC; both must be set before a builder exists.
  grpc::EnableDefaultHealthCheckService(true);
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
  builder.RegisterService(impl->single.get());
  builder.RegisterService(impl->discover.get());
  builder.RegisterService(impl->info.get());
  builder.RegisterService(impl->dry_run.get());
  builder.RegisterCallbackGenericService(&impl->unknown);
  impl->server = builder.BuildAndStart();
  if (!impl->server || bound == 0)
    return make_error(errc::io_error, "cannot listen on " + address
                                        + " for gRPC: the address is in use or not local");
  impl->port = static_cast<uint16_t>(bound);
  if (auto* health = impl->server->GetHealthCheckService()) {
    health->SetServingStatus(true);
    for (const char* name : service_names)
      health->SetServingStatus(name, true);
  }
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
  if (auto* health = impl_->server->GetHealthCheckService())
    health->SetServingStatus(false);
  core.stopping = true;
  // Streams that wait for the client's next request would hold Shutdown
  // until its deadline: end them once their answers are written.
  std::vector<std::shared_ptr<CallReactor>> live;
  {
    std::lock_guard<std::mutex> streams{core.streams_mtx};
    for (auto& [ptr, weak] : core.streams)
      if (auto s = weak.lock())
        live.push_back(std::move(s));
  }
  for (auto& s : live)
    s->drain();
  live.clear();
  impl_->server->Shutdown(std::chrono::system_clock::now() + core.options.drain_timeout);
  impl_->server->Wait();
}

}  // namespace caflow
