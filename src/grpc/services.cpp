#include "grpc/services.hpp"

#include <sys/utsname.h>

#include <cstdlib>
#include <cstring>

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include "caflow/errors.hpp"
#include "grpc/call_reactor.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/wire_reader.hpp"
#include "grpc/wire_writer.hpp"
#include "http/jina_codec.hpp"
#include "http/jina_status.hpp"
#include "runtime/discovery.hpp"

extern char** environ;

namespace caflow::grpc_gateway {

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* CallService::Call(
  grpc::CallbackServerContext*) {
  return std::make_shared<CallReactor>(core_)->start();
}

// Bad requests and an unavailable flow get a gRPC status; executor failures
// come back in-band, as Jina's worker answers them.
grpc::ServerUnaryReactor* SingleService::process_single_data(grpc::CallbackServerContext* ctx,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  auto* reactor = ctx->DefaultReactor();
  auto start = http::now_us();
  auto req = read_request(*request);
  if (!req) {  // see CallReactor::handle
    MessageArena arena;
    auto& msg = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
    grpc::ByteBuffer in{*request};
    if (!parse(in, msg)) {
      reactor->Finish(
        {grpc::StatusCode::INVALID_ARGUMENT, "the request is not a valid jina.DataRequestProto"});
      return reactor;
    }
    auto decoded = decode_request(msg);
    if (!decoded) {
      reactor->Finish(to_status(decoded.error()));
      return reactor;
    }
    req = std::move(*decoded);
  }
  auto ex = exchange_of(*req, start);
  auto timeout = core_->options.request_timeout;
  core_->bridge.ask(
    std::move(*req), timeout,
    [reactor, response, ex = std::move(ex), timeout](caf::expected<Response> resp) mutable {
      ex.end_us = http::now_us();
      if (resp) {
        *response = write_response(*resp, ex);
        reactor->Finish(grpc::Status::OK);
        return;
      }
      auto err = normalize(std::move(resp.error()), timeout);
      if (!http::in_band(err)) {
        reactor->Finish(to_status(err));
        return;
      }
      MessageArena arena;
      auto& out = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
      encode_error(err, ex, &out);
      *response = serialize(out);
      reactor->Finish(grpc::Status::OK);
    });
  return reactor;
}

grpc::ServerUnaryReactor* DiscoverService::endpoint_discovery(grpc::CallbackServerContext* ctx,
                                                              const google::protobuf::Empty*,
                                                              jina::EndpointsProto* response) {
  auto* reactor = ctx->DefaultReactor();
  Request req;
  req.id = new_document_id();
  req.endpoint = std::string{detail::discovery_endpoint};
  auto timeout = core_->options.request_timeout;
  core_->bridge.ask(std::move(req), timeout,
                    [reactor, response, timeout](caf::expected<Response> resp) {
                      if (!resp) {
                        reactor->Finish(to_status(normalize(std::move(resp.error()), timeout)));
                        return;
                      }
                      for (const auto& e : detail::discovered_endpoints(resp->parameters))
                        response->add_endpoints(e);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerUnaryReactor* InfoService::_status(grpc::CallbackServerContext* ctx,
                                               const google::protobuf::Empty*,
                                               jina::JinaInfoProto* response) {
  auto& info = *response->mutable_jina();
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
  info["uptime"] = http::iso8601(core_->started_us);
  auto& envs = *response->mutable_envs();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv{*e};
    auto eq = kv.find('=');
    if (eq == std::string_view::npos)
      continue;
    auto key = kv.substr(0, eq);
    if (key.rfind("CAFLOW_", 0) == 0 || key.rfind("JINA_", 0) == 0)
      envs[std::string{key}] = std::string{kv.substr(eq + 1)};
  }
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* DryRunService::dry_run(grpc::CallbackServerContext* ctx,
                                                 const google::protobuf::Empty*,
                                                 jina::StatusProto* response) {
  auto* reactor = ctx->DefaultReactor();
  Request req;
  req.id = new_document_id();
  req.endpoint = "/";
  auto timeout = core_->options.request_timeout;
  core_->bridge.ask(std::move(req), timeout,
                    [reactor, response, timeout](caf::expected<Response> resp) {
                      if (resp) {
                        response->set_code(jina::StatusProto::SUCCESS);
                      } else {
                        auto st = http::jina_status(normalize(std::move(resp.error()), timeout));
                        response->set_code(jina::StatusProto::ERROR);
                        response->set_description(st.description);
                        response->mutable_exception()->set_name(st.name);
                        for (auto& a : st.args)
                          response->mutable_exception()->add_args(a);
                        response->mutable_exception()->set_executor(st.executor);
                      }
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
  grpc::GenericCallbackServerContext* ctx) {
  class Refusal : public grpc::ServerGenericBidiReactor {
   public:
    explicit Refusal(const std::string& method) {
      Finish({grpc::StatusCode::UNIMPLEMENTED,
              "no method " + method
                + " here; caflow's gateway serves jina.JinaRPC/Call, "
                  "jina.JinaSingleDataRequestRPC/process_single_data, "
                  "jina.JinaDiscoverEndpointsRPC/endpoint_discovery, jina.JinaInfoRPC/_status, "
                  "jina.JinaGatewayDryRunRPC/dry_run, grpc.health.v1.Health and server "
                  "reflection"});
    }
    void OnDone() override { delete this; }
  };
  return new Refusal(ctx->method());
}

}  // namespace caflow::grpc_gateway
