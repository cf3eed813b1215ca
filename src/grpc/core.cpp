#include "grpc/core.hpp"

#include <memory>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"

namespace caflow::grpc_gateway {

grpc::Status to_status(const caf::error& err) {
  auto message = describe(err);
  if (err == caf::sec::request_timeout)
    return {grpc::StatusCode::DEADLINE_EXCEEDED, message};
  if (!err || err.category() != error_category)
    return {grpc::StatusCode::INTERNAL, message};
  switch (static_cast<errc>(err.code())) {
    case errc::invalid_json:
    case errc::invalid_argument:
    case errc::dimension_mismatch:
      return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case errc::not_found:
      return {grpc::StatusCode::NOT_FOUND, message};
    case errc::overloaded:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case errc::unavailable:
      return {grpc::StatusCode::UNAVAILABLE, message};
    case errc::timeout:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, message};
    default:
      return {grpc::StatusCode::INTERNAL, message};
  }
}

void Core::enlist(LiveCall* call, std::weak_ptr<LiveCall> weak) {
  std::lock_guard<std::mutex> guard{live_mtx_};
  live_.emplace(call, std::move(weak));
}

void Core::delist(LiveCall* call) {
  std::lock_guard<std::mutex> guard{live_mtx_};
  live_.erase(call);
}

std::vector<std::shared_ptr<LiveCall>> Core::live_calls() {
  std::vector<std::shared_ptr<LiveCall>> out;
  std::lock_guard<std::mutex> guard{live_mtx_};
  for (auto& [ptr, weak] : live_)
    if (auto call = weak.lock())
      out.push_back(std::move(call));
  return out;
}

google::protobuf::ArenaOptions message_arena() {
  google::protobuf::ArenaOptions o;
  o.start_block_size = 16 * 1024;  // a request of 100 short documents fits in two
  o.max_block_size = 1024 * 1024;
  return o;
}

namespace {

// One per thread that handles messages (gRPC's and CAF's): most messages
// then need no malloc for their arena at all.
struct ScratchBlock {
  static constexpr size_t size = 64 * 1024;
  std::unique_ptr<char[]> block;
  bool busy = false;
};
thread_local ScratchBlock scratch_block;

}  // namespace

google::protobuf::ArenaOptions MessageArena::options(Hold& hold) {
  auto o = message_arena();
  auto& s = scratch_block;
  if (!s.busy) {
    if (!s.block)
      s.block = std::make_unique<char[]>(ScratchBlock::size);
    o.initial_block = s.block.get();
    o.initial_block_size = ScratchBlock::size;
    s.busy = hold.scratch = true;
  }
  return o;
}

MessageArena::MessageArena() : arena_(options(hold_)) {
}

MessageArena::Hold::~Hold() {
  if (scratch)
    scratch_block.busy = false;
}

grpc::ByteBuffer serialize(const google::protobuf::Message& msg) {
  grpc::ByteBuffer out;
  bool own = false;
  // Cannot fail for a message we built (it is never over 2 GiB in practice:
  // the flow's answers are bounded by what the client sent and the executors).
  (void)grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(msg, &out, &own);
  return out;
}

bool parse(grpc::ByteBuffer& in, google::protobuf::Message& msg) {
  grpc::ProtoBufferReader reader(&in);
  return msg.ParseFromZeroCopyStream(&reader) && reader.status().ok();
}

}  // namespace caflow::grpc_gateway
