#include "grpc/grpc_client.hpp"

#include <climits>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include "caflow/errors.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/struct_value.hpp"
#include "http/jina_status.hpp"
#include "jina.grpc.pb.h"
#include "runtime/post_batches.hpp"

namespace caflow::grpc_gateway {

namespace {

std::chrono::system_clock::time_point deadline_after(std::chrono::milliseconds t) {
  return std::chrono::system_clock::now() + t;
}

// A gRPC status as a caflow error, in the words of the HTTP client.
caf::error from_status(const grpc::Status& s, const std::string& address) {
  auto message = "gRPC " + std::to_string(static_cast<int>(s.error_code())) + " from " + address
                 + ": " + s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return make_error(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED
                            && s.error_message().find("in flight") != std::string::npos
                          ? errc::overloaded
                          : errc::invalid_argument,
                        std::move(message));
    case grpc::StatusCode::NOT_FOUND:
      return make_error(errc::not_found, std::move(message));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return make_error(errc::timeout, std::move(message));
    case grpc::StatusCode::UNAVAILABLE:
      // gRPC says UNAVAILABLE both for a refused connection and for the
      // gateway's own "flow unavailable".
      return make_error(
        s.error_message().find("connect") != std::string::npos ? errc::io_error : errc::unavailable,
        std::move(message));
    default:
      return make_error(errc::executor_failed, std::move(message));
  }
}

// An in-band failure (header.status ERROR) as the caflow error it names.
caf::error from_header(const jina::StatusProto& st) {
  return http::error_named(st.exception().name(), st.description());
}

}  // namespace

struct GrpcClient::Impl {
  std::string address;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds connect_timeout;
  std::shared_ptr<grpc::Channel> channel;
};

GrpcClient::GrpcClient(const std::string& host, uint16_t port, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds connect_timeout)
  : impl_(std::make_unique<Impl>()) {
  auto h = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
  impl_->address = h + ":" + std::to_string(port);
  impl_->timeout = timeout;
  impl_->connect_timeout = connect_timeout;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(INT_MAX);
  args.SetMaxSendMessageSize(INT_MAX);
  impl_->channel = grpc::CreateCustomChannel(impl_->address, grpc::InsecureChannelCredentials(),
                                             args);
}

GrpcClient::~GrpcClient() = default;

bool GrpcClient::ready(std::chrono::milliseconds timeout) {
  auto stub = jina::JinaGatewayDryRunRPC::NewStub(impl_->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_after(timeout));
  ctx.set_wait_for_ready(true);
  google::protobuf::Empty empty;
  jina::StatusProto out;
  return stub->dry_run(&ctx, empty, &out).ok() && out.code() == jina::StatusProto::SUCCESS;
}

caf::expected<Value> GrpcClient::status() {
  auto stub = jina::JinaInfoRPC::NewStub(impl_->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(
    deadline_after(impl_->timeout.count() > 0 ? impl_->timeout : std::chrono::milliseconds{5000}));
  google::protobuf::Empty empty;
  jina::JinaInfoProto out;
  auto s = stub->_status(&ctx, empty, &out);
  if (!s.ok())
    return from_status(s, impl_->address);
  Value v = Value::object();
  for (const auto* part : {&out.jina(), &out.envs()}) {
    Value m = Value::object();
    for (const auto& [k, x] : *part)
      m[k] = x;
    v[part == &out.jina() ? "jina" : "envs"] = std::move(m);
  }
  return v;
}

caf::expected<PostResult> GrpcClient::post(const std::string& endpoint, DocumentArray docs,
                                           const PostOptions& options) {
  auto all = std::move(docs).docs();
  auto slices = detail::request_slices(all.size(), options.request_size);
  size_t total = slices.size();
  auto prefix = new_document_id();
  // A gateway that is not there fails within connect_timeout, not never.
  if (!impl_->channel->WaitForConnected(deadline_after(impl_->connect_timeout)))
    return make_error(errc::io_error, "cannot connect to the gRPC gateway at " + impl_->address
                                        + " within "
                                        + std::to_string(impl_->connect_timeout.count()) + " ms");
  auto stub = jina::JinaRPC::NewStub(impl_->channel);
  grpc::ClientContext ctx;
  if (impl_->timeout.count() > 0)
    ctx.set_deadline(deadline_after(impl_->connect_timeout + impl_->timeout * total));
  auto stream = stub->Call(&ctx);

  std::mutex mtx;
  std::condition_variable cv;
  size_t unanswered = 0;
  bool stop = false;
  auto window = std::max<size_t>(1, options.prefetch);
  // The writer sends while fewer than `prefetch` are unanswered, as Jina's
  // client does; this thread reads the answers.
  std::thread writer{[&] {
    for (size_t i = 0; i < total; ++i) {
      {
        std::unique_lock<std::mutex> lock{mtx};
        cv.wait(lock, [&] { return stop || unanswered < window; });
        if (stop)
          break;
        ++unanswered;
      }
      jina::DataRequestProto req;
      auto* h = req.mutable_header();
      h->set_request_id(prefix + "-" + std::to_string(i));
      h->set_exec_endpoint(endpoint);
      if (!options.target_executor.empty())
        h->set_target_executor(options.target_executor);
      to_struct(options.parameters, req.mutable_parameters());
      auto* out = req.mutable_data()->mutable_docs()->mutable_docs();
      for (size_t k = slices[i].first; k < slices[i].second; ++k)
        to_proto(std::move(all[k]), out->Add());
      if (!stream->Write(req))
        break;
    }
    stream->WritesDone();
  }};

  std::vector<detail::PostAnswer> answers(total);
  std::vector<bool> answered(total, false);
  caf::error error;
  size_t done = 0;
  jina::DataRequestProto resp;
  while (stream->Read(&resp)) {
    const auto& id = resp.header().request_id();
    size_t i = total;
    if (id.size() > prefix.size() + 1 && id.compare(0, prefix.size(), prefix) == 0)
      i = std::strtoull(id.c_str() + prefix.size() + 1, nullptr, 10);
    if (i >= total || answered[i]) {
      error = make_error(errc::invalid_json, "gRPC answer with an unknown request_id '" + id + "'");
      break;
    }
    if (resp.header().has_status() && resp.header().status().code() != jina::StatusProto::SUCCESS) {
      error = from_header(resp.header().status());
      break;
    }
    auto& out = answers[i].docs;
    auto* pbs = resp.mutable_data()->mutable_docs()->mutable_docs();
    for (int k = 0; k < pbs->size(); ++k) {
      auto d = from_proto(*pbs->Mutable(k), "data.docs[" + std::to_string(k) + "]");
      if (!d) {
        error = std::move(d.error());
        break;
      }
      out.push_back(std::move(*d));
    }
    if (error)
      break;
    answered[i] = true;
    answers[i].parameters = from_struct(resp.parameters());
    detail::take_shard_failures(answers[i].parameters, answers[i]);
    {
      std::lock_guard<std::mutex> guard{mtx};
      --unanswered;
      ++done;
    }
    cv.notify_all();
    if (options.on_progress)
      options.on_progress(done, total);
  }
  {
    std::lock_guard<std::mutex> guard{mtx};
    stop = true;
  }
  cv.notify_all();
  if (error)
    ctx.TryCancel();
  writer.join();
  auto status = stream->Finish();
  if (error)
    return error;
  if (!status.ok())
    return from_status(status, impl_->address);
  if (done != total)
    return make_error(errc::io_error, "the gateway at " + impl_->address + " answered "
                                        + std::to_string(done) + " of " + std::to_string(total)
                                        + " requests");
  return detail::join_answers(answers);
}

}  // namespace caflow::grpc_gateway
