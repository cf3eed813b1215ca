#include "grpc/call_stream.hpp"

#include "grpc/request_codec.hpp"
#include "grpc/wire_reader.hpp"
#include "grpc/wire_writer.hpp"
#include "http/jina_codec.hpp"

namespace caflow::grpc_gateway {

CallStream::CallStream(std::shared_ptr<Core> core, CallService& service,
                       const std::shared_ptr<CallQueue>& queue)
  : core_(std::move(core)), service_(service), queue_(queue) {
}

CallStream::~CallStream() {
  if (registered_)
    core_->delist(this);
}

void CallStream::await(std::shared_ptr<Core> core, CallService& service,
                       const std::shared_ptr<CallQueue>& queue) {
  std::shared_ptr<CallStream> s{new CallStream(std::move(core), service, queue)};
  std::lock_guard<std::mutex> guard{s->mtx_};
  // Before the call starts; its tag comes back only for a call that started.
  s->ctx_.AsyncNotifyWhenDone(&s->done_tag_);
  if (s->start_locked([&] {
        service.RequestCall(&s->ctx_, &s->stream_, &queue->cq(), &queue->cq(), &s->accepted_tag_);
      }))
    s->tags_.hold(s);
}

void CallStream::on(Event event, bool ok) {
  std::shared_ptr<CallStream> last;  // released after the mutex
  grpc::ByteBuffer in;
  bool serve = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    switch (event) {
      case Event::accepted:
        if (ok)
          accepted_locked();
        break;
      case Event::read:
        serve = read_done_locked(ok, in);
        break;
      case Event::written:
        written_locked(ok);
        break;
      case Event::finished:
        break;
      case Event::done:    // the call is over (finished, or cancelled: nothing to send)
        finished_ = true;  // no operation may start on it any more
        out_.clear();
        break;
    }
    last = tags_.returned();  // after a tag that became due (done's)
  }
  // Serve the next call while this one is read; when the server shuts
  // down, accepting fails (ok false) and no further call is asked for.
  if (event == Event::accepted && ok)
    await(core_, service_, queue_);
  if (serve)
    handle(in);
}

void CallStream::accepted_locked() {
  tags_.due();  // the done tag
  core_->enlist(this, weak_from_this());
  registered_ = true;
  if (core_->stopping)
    finish_locked({grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"});
  else
    read_next_locked();
}

void CallStream::end() {
  std::lock_guard<std::mutex> guard{mtx_};
  draining_ = true;
  maybe_finish_locked();
}

void CallStream::read_next_locked() {
  if (reading_ || reads_done_ || finished_ || abort_ || draining_
      || in_flight_ >= core_->options.stream_window)
    return;
  reading_ = start_locked([this] { stream_.Read(&in_, &read_tag_); });
}

bool CallStream::read_done_locked(bool ok, grpc::ByteBuffer& in) {
  reading_ = false;
  if (!ok) {  // the client half-closed (or the call is over)
    reads_done_ = true;
    maybe_finish_locked();
    return false;
  }
  if (finished_ || abort_)
    return false;
  ++received_;
  ++in_flight_;
  in.Swap(&in_);
  read_next_locked();  // keep reading while this one is decoded and served
  return true;
}

// Decoding runs on the queue's thread (straight from the message's bytes,
// grpc/wire_reader.hpp, unless it is unusual); the answer is encoded where
// it arrives and written from there, so it takes no further hop. A
// successful answer is written straight into its bytes (grpc/wire_writer.hpp).
void CallStream::handle(grpc::ByteBuffer& in) {
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

void CallStream::deliver(grpc::ByteBuffer out) {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_flight_;
  if (finished_ || abort_)
    return;
  out_.push_back(std::move(out));
  write_next_locked();
  read_next_locked();
}

// Write copies the buffer (its slices are shared, not the bytes): the next
// answer may be queued at once.
void CallStream::write_next_locked() {
  if (writing_ || out_.empty())
    return;
  writing_ = start_locked([this] { stream_.Write(out_.front(), &written_tag_); });
  out_.pop_front();
}

void CallStream::written_locked(bool ok) {
  writing_ = false;
  if (abort_) {
    finish_locked(*abort_);
    return;
  }
  if (!ok) {  // the client is gone
    finish_locked({grpc::StatusCode::CANCELLED, "the client went away"});
    return;
  }
  if (!out_.empty()) {
    write_next_locked();
    return;
  }
  maybe_finish_locked();
}

void CallStream::maybe_finish_locked() {
  if (finished_ || in_flight_ > 0 || writing_ || !out_.empty())
    return;
  if (reads_done_)
    finish_locked(grpc::Status::OK);
  else if (draining_)
    finish_locked({grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"});
}

void CallStream::finish_locked(grpc::Status status) {
  if (finished_)
    return;
  if (writing_) {  // one write-side operation at a time: Finish after it
    if (!abort_)
      abort_ = std::move(status);
    return;
  }
  finished_ = true;
  out_.clear();
  start_locked([&] { stream_.Finish(status, &finished_tag_); });
}

}  // namespace caflow::grpc_gateway
