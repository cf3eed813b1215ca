#include "grpc/services.hpp"

#include <sys/utsname.h>

#include <cstdlib>
#include <cstring>

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include "caflow/errors.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/unary_call.hpp"
#include "grpc/wire_reader.hpp"
#include "grpc/wire_writer.hpp"
#include "http/jina_codec.hpp"
#include "http/jina_status.hpp"
#include "runtime/discovery.hpp"

extern char** environ;

namespace caflow::grpc_gateway {

namespace {

using google::protobuf::Empty;
using ByteCall = UnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>;

// Bad requests and an unavailable flow get a gRPC status; executor failures
// come back in-band, as Jina's worker answers them.
void serve_single(Core& core, std::shared_ptr<ByteCall> call) {
  auto start = http::now_us();
  auto req = read_request(call->request());
  if (!req) {  // see CallStream::handle
    MessageArena arena;
    auto& msg = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
    grpc::ByteBuffer in{call->request()};
    if (!parse(in, msg)) {
      call->finish(
        {grpc::StatusCode::INVALID_ARGUMENT, "the request is not a valid jina.DataRequestProto"});
      return;
    }
    auto decoded = decode_request(msg);
    if (!decoded) {
      call->finish(to_status(decoded.error()));
      return;
    }
    req = std::move(*decoded);
  }
  auto ex = exchange_of(*req, start);
  auto timeout = core.options.request_timeout;
  core.bridge.ask(
    std::move(*req), timeout,
    [call, ex = std::move(ex), timeout](caf::expected<Response> resp) mutable {
      ex.end_us = http::now_us();
      if (resp) {
        call->response() = write_response(*resp, ex);
        call->finish(grpc::Status::OK);
        return;
      }
      auto err = normalize(std::move(resp.error()), timeout);
      if (!http::in_band(err)) {
        call->finish(to_status(err));
        return;
      }
      MessageArena arena;
      auto& out = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
      encode_error(err, ex, &out);
      call->response() = serialize(out);
      call->finish(grpc::Status::OK);
    });
}

void serve_discovery(Core& core, std::shared_ptr<UnaryCall<Empty, jina::EndpointsProto>> call) {
  Request req;
  req.id = new_document_id();
  req.endpoint = std::string{detail::discovery_endpoint};
  auto timeout = core.options.request_timeout;
  core.bridge.ask(std::move(req), timeout, [call, timeout](caf::expected<Response> resp) {
    if (!resp) {
      call->finish(to_status(normalize(std::move(resp.error()), timeout)));
      return;
    }
    for (const auto& e : detail::discovered_endpoints(resp->parameters))
      call->response().add_endpoints(e);
    call->finish(grpc::Status::OK);
  });
}

void write_info(const Core& core, jina::JinaInfoProto& response) {
  auto& info = *response.mutable_jina();
  info["caflow"] = "0.1.0";
  info["jina-proto"] = "3.0.0";  // the protocol spoken, see src/grpc/proto/ORIGIN.md
  info["protobuf"] = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
  info["grpc"] = grpc::Version();
  struct utsname u {};
  if (uname(&u) == 0) {
    info["platform"] = u.sysname;
    info["platform-release"] = u.release;
    info["architecture"] = u.machine;
  }
  info["uptime"] = http::iso8601(core.started_us);
  auto& envs = *response.mutable_envs();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv{*e};
    auto eq = kv.find('=');
    if (eq == std::string_view::npos)
      continue;
    auto key = kv.substr(0, eq);
    if (key.rfind("CAFLOW_", 0) == 0 || key.rfind("JINA_", 0) == 0)
      envs[std::string{key}] = std::string{kv.substr(eq + 1)};
  }
}

void serve_dry_run(Core& core, std::shared_ptr<UnaryCall<Empty, jina::StatusProto>> call) {
  Request req;
  req.id = new_document_id();
  req.endpoint = "/";
  auto timeout = core.options.request_timeout;
  core.bridge.ask(std::move(req), timeout, [call, timeout](caf::expected<Response> resp) {
    auto& response = call->response();
    if (resp) {
      response.set_code(jina::StatusProto::SUCCESS);
    } else {
      auto st = http::jina_status(normalize(std::move(resp.error()), timeout));
      response.set_code(jina::StatusProto::ERROR);
      response.set_description(st.description);
      response.mutable_exception()->set_name(st.name);
      for (auto& a : st.args)
        response.mutable_exception()->add_args(a);
      response.mutable_exception()->set_executor(st.executor);
    }
    call->finish(grpc::Status::OK);
  });
}

// The methods, not just their services: what a client can call instead.
std::string refusal_message(const std::string& method) {
  return "no method " + method
         + " here; caflow's gateway serves jina.JinaRPC/Call, "
           "jina.JinaSingleDataRequestRPC/process_single_data, "
           "jina.JinaDiscoverEndpointsRPC/endpoint_discovery, jina.JinaInfoRPC/_status, "
           "jina.JinaGatewayDryRunRPC/dry_run, grpc.health.v1.Health and server reflection";
}

// Every method no service has: UNIMPLEMENTED with a message naming the
// method and what is served (gRPC's own answer has no message). One tag
// at a time: the call, then its Finish.
class Refusal final : public CompletionTag {
 public:
  static void await(grpc::AsyncGenericService& service, const std::shared_ptr<CallQueue>& queue) {
    auto* r = new Refusal(service, queue);
    if (!queue->start(
          [&] { service.RequestCall(&r->ctx_, &r->stream_, &queue->cq(), &queue->cq(), r); }))
      delete r;
  }

  void complete(bool ok) override {
    if (!ok || finishing_) {  // shutting down, or finished
      delete this;
      return;
    }
    finishing_ = true;
    await(service_, queue_);
    grpc::Status status{grpc::StatusCode::UNIMPLEMENTED, refusal_message(ctx_.method())};
    if (!queue_->start([&] { stream_.Finish(status, this); }))
      delete this;
  }

 private:
  Refusal(grpc::AsyncGenericService& service, const std::shared_ptr<CallQueue>& queue)
    : service_(service), queue_(queue) {}

  grpc::AsyncGenericService& service_;
  std::shared_ptr<CallQueue> queue_;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  bool finishing_ = false;
};

}  // namespace

Services::Services(std::shared_ptr<Core> core) : core_(std::move(core)) {
}

void Services::add_to(grpc::ServerBuilder& builder) {
  builder.RegisterService(&single_);
  builder.RegisterService(&discover_);
  builder.RegisterService(&info_);
  builder.RegisterService(&dry_run_);
  builder.RegisterService(&health_);
  builder.RegisterAsyncGenericService(&unknown_);
}

void Services::await(const std::shared_ptr<CallQueue>& queue) {
  auto core = core_;
  await_unary<grpc::ByteBuffer, grpc::ByteBuffer>(
    queue, single_, &decltype(single_)::Requestprocess_single_data,
    [core](std::shared_ptr<ByteCall> call) { serve_single(*core, std::move(call)); });
  await_unary<Empty, jina::EndpointsProto>(
    queue, discover_, &jina::JinaDiscoverEndpointsRPC::AsyncService::Requestendpoint_discovery,
    [core](auto call) { serve_discovery(*core, std::move(call)); });
  await_unary<Empty, jina::JinaInfoProto>(
    queue, info_, &jina::JinaInfoRPC::AsyncService::Request_status, [core](auto call) {
      write_info(*core, call->response());
      call->finish(grpc::Status::OK);
    });
  await_unary<Empty, jina::StatusProto>(
    queue, dry_run_, &jina::JinaGatewayDryRunRPC::AsyncService::Requestdry_run,
    [core](auto call) { serve_dry_run(*core, std::move(call)); });
  await_health_check(core, health_, queue);
  HealthWatch::await(core, health_, queue);
  Refusal::await(unknown_, queue);
}

}  // namespace caflow::grpc_gateway
