// The gateway's own grpc.health.v1.Health (grpc/health_service.hpp) with
// gRPC's generated C++ client: Check for the server, a served service and
// an unknown one; Watch from SERVING to NOT_SERVING at stop, after which
// the watch ends instead of holding the server's shutdown until its drain
// deadline. Every wait is bounded.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "caflow/flow.hpp"
#include "caflow/grpc_server.hpp"
#include "health.grpc.pb.h"

using namespace caflow;
using namespace std::chrono_literals;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

std::unique_ptr<grpc::ClientContext> bounded(std::chrono::seconds s = 10s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + s);
  return ctx;
}

}  // namespace

TEST_CASE("gRPC health: Check and Watch, NOT_SERVING at stop, then the watch ends") {
  Flow flow;
  flow.add({.name = "noop", .uses = "NoOp"});
  auto running = flow.start();
  REQUIRE(running);
  // A drain deadline far beyond the test's bound: a watch that held the
  // shutdown would show as a stop() that does not return in time.
  auto server = GrpcServer::start(*running, {.drain_timeout = 300s, .threads = 2});
  REQUIRE(server);
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  auto stub = Health::NewStub(channel);

  for (const char* service : {"", "jina.JinaRPC", "jina.JinaSingleDataRequestRPC"}) {
    CAPTURE(service);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    auto st = stub->Check(bounded().get(), req, &resp);
    REQUIRE_MESSAGE(st.ok(), st.error_message());
    CHECK(resp.status() == HealthCheckResponse::SERVING);
  }
  {
    HealthCheckRequest req;
    req.set_service("no.such.Service");
    HealthCheckResponse resp;
    auto st = stub->Check(bounded().get(), req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(st.error_message().find("no.such.Service") != std::string::npos);
  }

  HealthCheckRequest req;
  auto watch_ctx = bounded(60s);
  auto watch = stub->Watch(watch_ctx.get(), req);
  HealthCheckResponse first;
  REQUIRE(watch->Read(&first));
  CHECK(first.status() == HealthCheckResponse::SERVING);
  HealthCheckRequest unknown_req;
  unknown_req.set_service("no.such.Service");
  auto unknown_ctx = bounded(60s);
  auto unknown = stub->Watch(unknown_ctx.get(), unknown_req);
  HealthCheckResponse unknown_first;
  REQUIRE(unknown->Read(&unknown_first));
  CHECK(unknown_first.status() == HealthCheckResponse::SERVICE_UNKNOWN);

  auto stopped = std::async(std::launch::async, [&] { (*server)->stop(); });
  HealthCheckResponse next;
  REQUIRE(watch->Read(&next));
  CHECK(next.status() == HealthCheckResponse::NOT_SERVING);
  CHECK_FALSE(watch->Read(&next));  // the server finished it
  auto st = watch->Finish();
  CHECK_MESSAGE(st.ok(), st.error_message());
  REQUIRE(unknown->Read(&next));
  CHECK(next.status() == HealthCheckResponse::NOT_SERVING);
  CHECK_FALSE(unknown->Read(&next));
  CHECK(unknown->Finish().ok());
  REQUIRE(stopped.wait_for(30s) == std::future_status::ready);
}
