#include "bench/grpc_load.hpp"

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <grpcpp/support/sync_stream.h>

#include "caflow/document.hpp"
#include "caflow/errors.hpp"
#include "jina.pb.h"

namespace caflow::bench {

namespace {

using Stream = grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;

// Distinct requests per stream, sent in turn (more than fit in the window,
// so that no two requests in flight share an id).
constexpr size_t distinct_per_window = 2;

grpc::ByteBuffer serialized(const jina::DataRequestProto& msg) {
  grpc::ByteBuffer out;
  bool own = false;
  auto status = grpc::GenericSerialize<grpc::ProtoBufferWriter, jina::DataRequestProto>(msg, &out,
                                                                                        &own);
  if (!status.ok())
    throw Error(errc::io_error, "cannot serialise a request: " + status.error_message());
  return out;
}

std::vector<grpc::ByteBuffer> make_requests(size_t stream, size_t count, size_t docs) {
  std::vector<grpc::ByteBuffer> out;
  for (size_t k = 0; k < count; ++k) {
    jina::DataRequestProto req;
    auto* h = req.mutable_header();
    h->set_request_id("s" + std::to_string(stream) + "-" + std::to_string(k));
    h->set_exec_endpoint("/index");
    auto* all = req.mutable_data()->mutable_docs()->mutable_docs();
    for (size_t i = 0; i < docs; ++i) {
      auto* d = all->Add();
      d->set_id(new_document_id());
      d->set_text("hello world");
    }
    out.push_back(serialized(req));
  }
  return out;
}

// One stream's part of the load, after the start signal.
struct Worker {
  size_t index = 0;
  size_t requests = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<Stream> stream;
  std::vector<grpc::ByteBuffer> pool;
  size_t answered = 0;
  size_t docs = 0;
  std::string error;
};

void check_answer(grpc::ByteBuffer& buf, Worker& w, size_t request_size,
                  google::protobuf::Arena& arena) {
  arena.Reset();
  auto* msg = google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(&arena);
  grpc::ProtoBufferReader reader(&buf);
  if (!msg->ParseFromZeroCopyStream(&reader))
    throw Error(errc::invalid_json, "an answer is not a jina.DataRequestProto");
  const auto& h = msg->header();
  if (h.has_status() && h.status().code() != jina::StatusProto::SUCCESS)
    throw Error(errc::executor_failed, "answered with an error: " + h.status().description());
  auto prefix = "s" + std::to_string(w.index) + "-";
  if (h.request_id().compare(0, prefix.size(), prefix) != 0)
    throw Error(errc::invalid_json,
                "an answer with an unknown request_id '" + h.request_id() + "'");
  auto n = static_cast<size_t>(msg->data().docs().docs_size());
  if (n != request_size)
    throw Error(errc::invalid_json, "lost documents: an answer with " + std::to_string(n) + " of "
                                      + std::to_string(request_size));
  w.docs += n;
}

void drive(Worker& w, size_t window, size_t request_size) {
  google::protobuf::Arena arena;
  size_t sent = 0;
  auto send = [&] {
    if (!w.stream->Write(w.pool[sent % w.pool.size()]))
      throw Error(errc::io_error, "the gateway closed the stream");
    ++sent;
  };
  while (sent < w.requests && sent < window)
    send();
  grpc::ByteBuffer buf;
  while (w.answered < w.requests) {
    if (!w.stream->Read(&buf))
      break;
    check_answer(buf, w, request_size, arena);
    ++w.answered;
    if (sent < w.requests)
      send();
  }
  w.stream->WritesDone();
  auto status = w.stream->Finish();
  if (!status.ok())
    throw Error(errc::io_error, "the stream ended with gRPC status "
                                  + std::to_string(static_cast<int>(status.error_code())) + ": "
                                  + status.error_message());
  if (w.answered != w.requests)
    throw Error(errc::io_error, "answered " + std::to_string(w.answered) + " of "
                                  + std::to_string(w.requests) + " requests");
}

}  // namespace

GrpcLoadResult run_grpc_load(const GrpcLoad& load) {
  auto streams = std::max<size_t>(1, std::min(load.streams, std::max<size_t>(1, load.requests)));
  auto window = std::max<size_t>(1, load.window);
  static const grpc::internal::RpcMethod call{"/jina.JinaRPC/Call",
                                              grpc::internal::RpcMethod::BIDI_STREAMING};
  std::vector<Worker> workers(streams);
  for (size_t i = 0; i < streams; ++i) {
    auto& w = workers[i];
    w.index = i;
    w.requests = load.requests / streams + (i < load.requests % streams ? 1 : 0);
    w.pool = make_requests(i, window * distinct_per_window, load.request_size);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(INT_MAX);
    args.SetMaxSendMessageSize(INT_MAX);
    // Channels with equal arguments share one connection: one each.
    args.SetInt("caflow.bench.stream", static_cast<int>(i));
    w.channel = grpc::CreateCustomChannel(load.address, grpc::InsecureChannelCredentials(), args);
    if (!w.channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)))
      throw Error(errc::io_error, "cannot connect to the gRPC gateway at " + load.address);
    w.ctx = std::make_unique<grpc::ClientContext>();
    w.stream.reset(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
        w.channel.get(), call, w.ctx.get()));
  }
  std::mutex mtx;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&, wp = &w] {
      {
        std::unique_lock<std::mutex> lock{mtx};
        cv.wait(lock, [&] { return go; });
      }
      try {
        drive(*wp, window, load.request_size);
      } catch (const std::exception& e) {
        wp->error = e.what();
        wp->ctx->TryCancel();
      }
    });
  auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx};
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads)
    t.join();
  GrpcLoadResult out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& w : workers) {
    if (!w.error.empty())
      throw Error(errc::io_error, "gRPC load, stream " + std::to_string(w.index) + ": " + w.error);
    out.requests += w.answered;
    out.docs += w.docs;
  }
  return out;
}

}  // namespace caflow::bench
