#include "grpc/call_reactor.hpp"

#include "grpc/request_codec.hpp"
#include "grpc/wire_reader.hpp"
#include "grpc/wire_writer.hpp"
#include "http/jina_codec.hpp"

namespace caflow::grpc_gateway {

CallReactor::CallReactor(std::shared_ptr<Core> core) : core_(std::move(core)) {
}

CallReactor::~CallReactor() {
  std::lock_guard<std::mutex> guard{core_->streams_mtx};
  core_->streams.erase(this);
}

CallReactor* CallReactor::start() {
  self_ = shared_from_this();
  {
    std::lock_guard<std::mutex> guard{core_->streams_mtx};
    core_->streams.emplace(this, weak_from_this());
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (core_->stopping)
    finish_locked({grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"});
  else
    read_next_locked();
  return this;
}

void CallReactor::drain() {
  std::lock_guard<std::mutex> guard{mtx_};
  draining_ = true;
  maybe_finish_locked();
}

void CallReactor::read_next_locked() {
  if (reading_ || reads_done_ || finished_ || abort_ || draining_
      || in_flight_ >= core_->options.stream_window)
    return;
  reading_ = true;
  StartRead(&in_);
}

void CallReactor::OnReadDone(bool ok) {
  grpc::ByteBuffer in;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    reading_ = false;
    if (!ok) {  // the client half-closed (or the call is over)
      reads_done_ = true;
      maybe_finish_locked();
      return;
    }
    if (finished_ || abort_)
      return;
    ++received_;
    ++in_flight_;
    in.Swap(&in_);
    read_next_locked();  // keep reading while this one is decoded and served
  }
  handle(in);
}

// Decoding runs on the gRPC thread that read the message (straight from its
// bytes, grpc/wire_reader.hpp, unless it is unusual); the answer is
// encoded on the CAF worker that delivers it and written from there, so an
// answer takes no further hop to an I/O thread. A successful answer is
// written straight into its bytes (grpc/wire_writer.hpp).
void CallReactor::handle(grpc::ByteBuffer& in) {
  auto start = http::now_us();
  auto req = read_request(in);
  if (!req) {  // anything unusual: the generated classes, which name every error
    // Strings are moved out of the message into the Request: they outlive
    // the arena (it owns the string objects, not their buffers).
    MessageArena arena;
    auto& msg = *google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
    if (!parse(in, msg)) {
      std::lock_guard<std::mutex> guard{mtx_};
      --in_flight_;
      finish_locked({grpc::StatusCode::INVALID_ARGUMENT,
                     "message " + std::to_string(received_)
                       + " of the stream is not a valid jina.DataRequestProto"});
      return;
    }
    auto id = msg.header().request_id();
    auto decoded = decode_request(msg);
    if (!decoded) {
      Exchange ex{.request_id = std::move(id), .start_us = start, .end_us = http::now_us()};
      MessageArena out_arena;
      auto* out = google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(out_arena.get());
      encode_error(decoded.error(), ex, out);
      deliver(serialize(*out));
      return;
    }
    req = std::move(*decoded);
  }
  auto ex = exchange_of(*req, start);
  auto timeout = core_->options.request_timeout;
  core_->bridge.ask(
    std::move(*req), timeout,
    [self = shared_from_this(), ex = std::move(ex), timeout](caf::expected<Response> resp) mutable {
      ex.end_us = http::now_us();
      if (resp) {
        self->deliver(write_response(*resp, ex));
        return;
      }
      MessageArena arena;
      auto* out = google::protobuf::Arena::CreateMessage<jina::DataRequestProto>(arena.get());
      encode_error(normalize(std::move(resp.error()), timeout), ex, out);
      self->deliver(serialize(*out));
    });
}

void CallReactor::deliver(grpc::ByteBuffer out) {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_flight_;
  if (finished_ || abort_)
    return;
  out_.push_back(std::move(out));
  if (!writing_) {
    writing_ = true;
    StartWrite(&out_.front());
  }
  read_next_locked();
}

void CallReactor::OnWriteDone(bool ok) {
  std::lock_guard<std::mutex> guard{mtx_};
  writing_ = false;
  out_.pop_front();
  if (abort_) {
    finish_locked(*abort_);
    return;
  }
  if (!ok) {  // the client is gone
    finish_locked({grpc::StatusCode::CANCELLED, "the client went away"});
    return;
  }
  if (!out_.empty()) {
    writing_ = true;
    StartWrite(&out_.front());
    return;
  }
  maybe_finish_locked();
}

void CallReactor::OnCancel() {
  std::lock_guard<std::mutex> guard{mtx_};
  finish_locked({grpc::StatusCode::CANCELLED, "cancelled"});
}

void CallReactor::OnDone() {
  std::shared_ptr<CallReactor> last;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    finished_ = true;
    last = std::move(self_);
  }
  // `last` may be the final reference: this object goes away here, after
  // the mutex was released.
}

void CallReactor::maybe_finish_locked() {
  if (finished_ || in_flight_ > 0 || writing_ || !out_.empty())
    return;
  if (reads_done_)
    finish_locked(grpc::Status::OK);
  else if (draining_)
    finish_locked({grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"});
}

void CallReactor::finish_locked(grpc::Status status) {
  if (finished_)
    return;
  if (writing_) {  // the buffer being written must stay until OnWriteDone
    if (!abort_)
      abort_ = std::move(status);
    return;
  }
  finished_ = true;
  out_.clear();
  Finish(std::move(status));
}

}  // namespace caflow::grpc_gateway
