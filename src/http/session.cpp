#include "http/session.hpp"

#include <chrono>
#include <new>
#include <thread>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "http/jina_status.hpp"
#include "http/readiness.hpp"
#include "http/request_checks.hpp"
#include "http/response_head.hpp"
#include "http/server_core.hpp"
#include "http/ws_session.hpp"
#include "runtime/scale_bounds.hpp"

namespace caflow::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// Status and readiness probes should answer quickly even when the server
// allows long requests.
constexpr std::chrono::milliseconds probe_timeout{5000};

std::chrono::milliseconds probe_limit(std::chrono::milliseconds request_timeout) {
  return request_timeout.count() > 0 ? std::min(request_timeout, probe_timeout) : probe_timeout;
}

double seconds_between(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The status and body for the flow's answer, counted in the metrics exactly
// once. Nothing escapes: this runs in the bridge actor's handler, where an
// exception (std::bad_alloc while encoding a huge answer) would kill the
// actor and leave the request unanswered and in flight for good.
std::pair<unsigned, std::string> answer_of(Core& core, caf::expected<Response> resp,
                                           const Exchange& ex, std::chrono::milliseconds timeout,
                                           std::chrono::steady_clock::time_point t0) {
  auto secs = seconds_between(t0);
  caf::error err;
  try {
    if (resp) {
      auto body = encode_response(*resp, ex);
      auto limit = core.options.max_response_bytes;
      if (limit == 0 || body.size() <= limit) {
        core.metrics.succeeded(ex.endpoint, secs, resp->docs.size());
        for (const auto& route : resp->routes)
          core.metrics.executor_time(route.executor, (route.end_us - route.start_us) / 1e6);
        return {200, std::move(body)};
      }
      err = make_error(errc::invalid_argument,
                       "the answer would be " + std::to_string(body.size())
                         + " bytes, over the server's limit of " + std::to_string(limit)
                         + " (ServerOptions::max_response_bytes, caflow flow --max-response-mb): "
                           "ask for fewer documents or matches per request");
    } else {
      err = normalize(std::move(resp.error()), timeout);
    }
  } catch (const std::bad_alloc&) {
    err = make_error(errc::executor_failed, "out of memory while encoding the answer");
  } catch (const std::exception& e) {
    err = make_error(errc::executor_failed, std::string{"encoding the answer failed: "} + e.what());
  }
  core.metrics.failed(ex.endpoint, secs);
  try {
    return {static_cast<unsigned>(http_status(err)), encode_error(err, ex)};
  } catch (...) {
    return {500, R"({"header":{"status":{"code":3,"description":"out of memory"}},"data":null})"};
  }
}

// Marks the session whose handler is inside GatewayBridge::ask() on this
// thread (thread-local: a callback on another thread sees none).
class AskingSession {
 public:
  explicit AskingSession(const Session* s) : prev_(current) { current = s; }
  ~AskingSession() { current = prev_; }
  AskingSession(const AskingSession&) = delete;
  AskingSession& operator=(const AskingSession&) = delete;
  static bool is(const Session* s) { return current == s; }

 private:
  static thread_local const Session* current;
  const Session* prev_;
};

thread_local const Session* AskingSession::current = nullptr;

}  // namespace

Session::Session(net::ip::tcp::socket socket, Core& core)
  : core_(core), stream_(std::move(socket)), idle_timer_(stream_.get_executor()) {
  ++core_.connections;
}

Session::~Session() {
  --core_.connections;
  std::lock_guard<std::mutex> guard{core_.sessions_mtx};
  core_.sessions.erase(this);
}

void Session::start() {
  {
    std::lock_guard<std::mutex> guard{core_.sessions_mtx};
    core_.sessions.emplace(this, weak_from_this());
  }
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
}

void Session::shutdown() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    if (!self->busy_)
      self->close();  // aborts the pending read
  });
}

void Session::read() {
  if (closing_ || core_.stopping) {
    close();
    return;
  }
  parser_.emplace();
  parser_->body_limit(core_.options.body_limit);
  // An idle connection keeps a buffer of a usual request's size, so that the
  // next request arrives in one recvmsg into memory already there (from an
  // empty buffer Beast reads 512 bytes, then the body after growing it: two
  // reads and an allocation per request). One that a large body grew is
  // freed, as nginx frees its client body buffer.
  constexpr size_t kept_buffer = 16 * 1024;
  if (buffer_.size() == 0 && buffer_.capacity() > kept_buffer)
    buffer_.shrink_to_fit();
  set_idle_timer();
  bhttp::async_read_header(
    stream_, buffer_, *parser_,
    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

// curl sends "Expect: 100-continue" with bodies over 1 KiB and waits a second
// for the go-ahead before sending the body: give it at once.
void Session::on_header(beast::error_code ec) {
  if (ec) {
    on_read(ec);
    return;
  }
  // Beast reads at most the buffer's free capacity (at least 512 bytes) at a
  // time, and the parser empties the buffer as it goes: without room, a 10 KB
  // body takes 20 recvmsg calls. Room for the body (up to 64 KiB, freed once
  // the connection is idle) reads what has arrived in one.
  if (auto n = parser_->content_length(); n && *n > buffer_.capacity() - buffer_.size())
    buffer_.reserve(buffer_.size() + static_cast<size_t>(std::min<uint64_t>(*n, 65536)));
  auto read_body = [self = shared_from_this()] {
    self->set_idle_timer();
    bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                      [self](beast::error_code ec, size_t) { self->on_read(ec); });
  };
  if (!beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
    read_body();
    return;
  }
  auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                   parser_->get().version());
  bhttp::async_write(stream_, *cont,
                     [self = shared_from_this(), cont, read_body](beast::error_code ec, size_t) {
                       if (ec)
                         self->on_read(ec);
                       else
                         read_body();
                     });
}

// A read or write begins: the connection is idle if it has not finished
// within idle_timeout (checked when the timer fires).
void Session::set_idle_timer() {
  active_at_ = std::chrono::steady_clock::now();
  arm_idle_timer();
}

void Session::arm_idle_timer() {
  if (timer_armed_ || core_.options.idle_timeout.count() <= 0)
    return;
  timer_armed_ = true;
  idle_timer_.expires_at(active_at_ + core_.options.idle_timeout);
  idle_timer_.async_wait(
    [self = shared_from_this()](beast::error_code ec) { self->on_idle_timer(ec); });
}

void Session::on_idle_timer(beast::error_code ec) {
  timer_armed_ = false;
  if (ec || upgraded_)
    return;  // cancelled: the connection closed
  auto now = std::chrono::steady_clock::now();
  if (busy_ && !writing_)
    active_at_ = now;  // waiting for the flow, not for the client
  else if (now - active_at_ >= core_.options.idle_timeout) {
    close();  // the read or write in progress ends with operation_aborted
    return;
  }
  arm_idle_timer();
}

void Session::on_read(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted
      || ec == beast::error::timeout || closing_) {
    close();
    return;
  }
  if (ec == bhttp::error::body_limit) {
    // The rest of the body is still unread: answer, then close.
    busy_ = true;
    keep_alive_ = false;
    unread_input_ = true;
    Exchange ex{.start_us = now_us(), .end_us = now_us()};
    reply_error(make_error(errc::invalid_argument, "request body exceeds the server's limit of "
                                                     + std::to_string(core_.options.body_limit)
                                                     + " bytes (ServerOptions::body_limit)"),
                ex, 413);
    return;
  }
  if (ec) {
    // A parse error deserves an answer; a broken connection (or a client
    // that left mid-message) has nobody to answer.
    bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()
                       && ec != bhttp::error::partial_message;
    if (parse_error) {
      busy_ = true;
      keep_alive_ = false;
      unread_input_ = true;
      Exchange ex{.start_us = now_us(), .end_us = now_us()};
      reply_error(make_error(errc::invalid_argument, "malformed HTTP request: " + ec.message()), ex,
                  400);
      return;
    }
    close();
    return;
  }
  dispatch_request();
}

void Session::dispatch_request() {
  busy_ = true;
  auto& req = parser_->get();
  version_ = req.version();
  // No route takes HEAD; its 405 carries a body the client will not read,
  // so the connection cannot be reused after it.
  keep_alive_ = req.keep_alive() && req.method() != bhttp::verb::head;
  allow_.clear();
  auto r = route(req.method_string(), req.target());
  Exchange ex{.endpoint = r.endpoint, .start_us = now_us(), .end_us = now_us()};
  if (beast::websocket::is_upgrade(req)) {
    if (r.path == "/") {
      // Jina's WebSocket route: the connection becomes a WsSession, this
      // session ends with this handler.
      upgraded_ = true;
      idle_timer_.cancel();
      stream_.expires_never();
      std::make_shared<WsSession>(std::move(stream_), core_)->start(parser_->release());
      return;
    }
    keep_alive_ = false;
    reply_error(make_error(errc::not_found, "no WebSocket route " + r.path
                                              + "; Jina's WebSocket protocol is served at /"),
                ex, 404);
    return;
  }
  switch (r.action) {
    case Action::post:
      handle_post(r);
      return;
    case Action::status:
      handle_status();
      return;
    case Action::dry_run:
      handle_dry_run();
      return;
    case Action::metrics:
      reply(200, core_.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
      return;
    case Action::scale:
      handle_scale();
      return;
    case Action::method_not_allowed:
      allow_ = r.allow;
      reply_error(
        make_error(errc::invalid_argument, "method " + std::string{req.method_string()}
                                             + " is not allowed on " + r.path + "; use " + r.allow),
        ex, 405);
      return;
    case Action::not_found:
      reply_error(
        make_error(errc::not_found,
                   "no route " + std::string{req.method_string()} + " " + r.path
                     + "; routes: POST /post, POST /index, POST /search, PUT /update, "
                       "DELETE /delete, GET /status, GET /dry_run, GET /metrics, POST /scale, "
                       "and a WebSocket upgrade on /"),
        ex, 404);
      return;
  }
}

void Session::handle_post(const RouteMatch& r) {
  auto t0 = std::chrono::steady_clock::now();
  Exchange ex{.endpoint = r.endpoint.empty() ? std::string{"/"} : r.endpoint, .start_us = now_us()};
  auto label = r.endpoint.empty() ? r.path : r.endpoint;
  auto refuse = [&](const Refusal& why) {
    core_.metrics.received(label);
    core_.metrics.failed(label, seconds_between(t0));
    ex.end_us = now_us();
    reply_error(why.error, ex, why.status);
  };
  auto& req = parser_->get();
  if (auto bad = check_body_encoding(req[bhttp::field::content_encoding], req.body())) {
    refuse(*bad);
    return;
  }
  auto decoded = decode_request(strip_utf8_bom(req.body()), r.endpoint);
  req.body().clear();
  req.body().shrink_to_fit();  // a large body need not live while the flow works
  if (!decoded) {
    refuse(Refusal{400, decoded.error()});
    return;
  }
  if (auto bad = check_limits(*decoded, RequestLimits{.max_docs = core_.options.max_docs,
                                                      .max_top_k = core_.options.max_top_k,
                                                      .max_matches = core_.options.max_matches})) {
    ex.request_id = decoded->id;
    ex.endpoint = label = decoded->endpoint;
    refuse(*bad);
    return;
  }
  ex.request_id = decoded->id;
  ex.endpoint = decoded->endpoint;
  ex.target_executor = decoded->target_executor;
  ex.parameters = decoded->parameters;  // echoed in the answer, as Jina does
  core_.metrics.received(ex.endpoint);
  // What runs where: the bridge hosts on the caller (runtime/inline_unit.hpp),
  // so this I/O thread, inside ask(), runs the gateway, the heads and the
  // scheduled replicas the request goes through, and usually the callback
  // too, within a bound. A request that meets a detached replica, or that
  // runs past the bound, goes on on the CAF workers and its callback runs on
  // one of them. Either way the callback encodes the answer where it runs
  // (the costly part) and posts only the bytes to this connection's strand
  // (after this handler returns, when it ran inside ask()). The tracked
  // executor keeps the io_context running until the answer is written.
  // An answer that arrives inside ask() (on this thread, this session's
  // strand) is written at once; one on a CAF worker is posted to the strand.
  auto strand = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  auto timeout = core_.options.request_timeout;
  AskingSession asking{this};
  core_.bridge.ask(std::move(*decoded), timeout,
                   [self = shared_from_this(), core = core_.shared_from_this(), strand, ex, t0,
                    timeout](caf::expected<Response> resp) mutable {
                     ex.end_us = now_us();
                     auto [status, body] = answer_of(*core, std::move(resp), ex, timeout, t0);
                     if (AskingSession::is(self.get())) {
                       self->reply(status, std::move(body));
                       return;
                     }
                     net::post(strand, [self, status = status, body = std::move(body)]() mutable {
                       self->reply(status, std::move(body));
                     });
                   });
}

// GET /status: the gateway's counters and the readiness verdict (see
// http/readiness.hpp), 200 whenever the gateway answers.
void Session::handle_status() {
  auto strand = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  auto timeout = probe_limit(core_.options.request_timeout);
  auto in_flight = core_.metrics.in_flight();
  core_.bridge.ask_status(timeout, [self = shared_from_this(), core = core_.shared_from_this(),
                                    strand, timeout, in_flight](caf::expected<Value> v) mutable {
    if (!v) {
      auto err = normalize(std::move(v.error()), timeout);
      Exchange ex{.start_us = now_us(), .end_us = now_us()};
      net::post(strand, [self, body = encode_error(err, ex)]() mutable {
        self->reply(503, std::move(body));
      });
      return;
    }
    Value out = v->is_object() ? std::move(*v) : Value::object();
    out["http_in_flight"] = in_flight;
    ask_readiness(core->system, core->heads, timeout,
                  [self, strand, out = std::move(out)](Readiness r) mutable {
                    out["ready"] = r.ready;
                    // Each deployment's readiness, with its head's status
                    // (counters, placement, copies) merged in.
                    if (const auto* heads = out.find("deployments");
                        heads && heads->is_array() && r.deployments.is_object())
                      for (const auto& h : heads->as_array()) {
                        auto name = h.is_object() ? h.get_string("name", "") : "";
                        const auto* known = r.deployments.find(name);
                        if (!known || !known->is_object())
                          continue;
                        auto& d = r.deployments[name];
                        for (const auto& [key, value] : h.as_object())
                          if (!d.find(key))
                            d[key] = value;
                      }
                    out["deployments"] = std::move(r.deployments);
                    Value::Array problems;
                    for (auto& p : r.problems)
                      problems.emplace_back(std::move(p));
                    out["not_ready"] = std::move(problems);
                    net::post(strand, [self, body = to_json(out)]() mutable {
                      self->reply(200, std::move(body));
                    });
                  });
  });
}

// GET /dry_run: Jina's readiness probe, answered by the same verdict as
// /status (200 ready, 503 not, naming what is not). Jina sends an empty
// request through every executor instead; caflow does not, because an
// executor that cannot serve yet (a vectorizer waiting for POST /fit) would
// keep the probe failing and a probe-gated client from sending that /fit.
void Session::handle_dry_run() {
  auto strand = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  auto timeout = probe_limit(core_.options.request_timeout);
  ask_readiness(
    core_.system, core_.heads, timeout, [self = shared_from_this(), strand](Readiness r) {
      Value out = Value::object();
      unsigned status = 200;
      if (r.ready) {
        out["code"] = jina_status_success;
        out["description"] = "ready: every replica started and answers";
        out["exception"] = nullptr;
      } else {
        std::string why;
        for (const auto& p : r.problems)
          why += (why.empty() ? "" : "; ") + p;
        status = 503;
        out["code"] = jina_status_error;
        out["description"] = "not ready: " + why;
        out["exception"] = Value{{"name", "not_ready"}, {"args", Value::Array{Value{why}}}};
      }
      out["deployments"] = std::move(r.deployments);
      net::post(strand, [self, status, body = to_json(out)]() mutable {
        self->reply(status, std::move(body));
      });
    });
}

// POST /scale {"executor": NAME, "replicas": N}: RunningFlow::scale, which
// waits for new replicas to start (or old ones to drain), so it runs on its
// own thread and the answer comes back to this connection's strand.
void Session::handle_scale() {
  Exchange ex{.endpoint = "/scale", .start_us = now_us()};
  auto body = parse_json(parser_->get().body());
  std::string executor;
  int64_t replicas = 0;
  caf::error bad;
  if (!body) {
    bad = body.error();
  } else if (!body->is_object()) {
    bad = make_error(errc::invalid_argument, "expected {\"executor\": NAME, \"replicas\": N}");
  } else {
    try {
      executor = body->get_string("executor", "");
      replicas = body->get_int("replicas", 0);
    } catch (const Error& e) {
      bad = e.to_error();
    }
    if (!bad && executor.empty())
      bad = make_error(errc::invalid_argument, "expected {\"executor\": NAME, \"replicas\": N}");
    if (!bad)
      bad = detail::check_scale_replicas(executor, replicas);
  }
  if (bad) {
    ex.end_us = now_us();
    reply_error(bad, ex, 400);
    return;
  }
  auto strand = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  std::thread{[self = shared_from_this(), core = core_.shared_from_this(), strand, ex, executor,
               replicas]() mutable {
    auto err = core->scale ? core->scale(executor, static_cast<uint32_t>(replicas))
                           : make_error(errc::unavailable, "this server cannot scale");
    ex.end_us = now_us();
    unsigned status = 200;
    std::string out;
    if (err) {
      status = static_cast<unsigned>(http_status(err));
      out = encode_error(err, ex);
    } else {
      out = to_json(Value{{"executor", executor}, {"replicas", replicas}});
    }
    net::post(strand, [self, status, out = std::move(out)]() mutable {
      self->reply(status, std::move(out));
    });
  }}.detach();
}

void Session::reply_error(const caf::error& err, const Exchange& ex, unsigned status) {
  reply(status != 0 ? status : static_cast<unsigned>(http_status(err)), encode_error(err, ex));
}

void Session::reply(unsigned status, std::string body, const char* content_type) {
  bool close_after = closing_ || !keep_alive_ || core_.stopping;
  head_.clear();
  append_response_head(head_, {.status = status,
                               .version = version_,
                               .content_type = content_type,
                               .allow = allow_,
                               .keep_alive = !close_after,
                               .content_length = body.size()});
  body_ = std::move(body);
  set_idle_timer();  // a client that stops reading is cut off too
  writing_ = true;
  // Head and body in one sendmsg, on the socket itself: the session keeps
  // its own timer, so Beast's stream adds nothing here.
  std::array<net::const_buffer, 2> out{net::buffer(head_), net::buffer(body_)};
  net::async_write(stream_.socket(), out,
                   [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                     self->on_write(ec, close_after);
                   });
}

void Session::on_write(beast::error_code ec, bool close_after) {
  busy_ = false;
  writing_ = false;
  std::string{}.swap(body_);  // an idle connection keeps no answer
  if (!ec && close_after && unread_input_) {
    linger();
    return;
  }
  if (ec || close_after) {
    close();
    return;
  }
  read();
}

// Closing a socket with unread input makes the kernel send a reset, which
// can destroy the answer before the client reads it (a 413 sent while the
// client still uploads). So: stop sending, discard what still arrives for a
// bounded time and amount, then close.
void Session::linger() {
  idle_timer_.cancel();  // Beast's own timer bounds the lingering
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds(2));
  linger_read(std::make_shared<std::array<char, 16384>>(), 0);
}

void Session::linger_read(std::shared_ptr<std::array<char, 16384>> scratch, size_t total) {
  constexpr size_t max_discard = size_t{64} << 20;
  stream_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch, total](
                                                   beast::error_code ec, size_t n) {
    if (ec || total + n > max_discard) {
      self->close();
      return;
    }
    self->linger_read(scratch, total + n);
  });
}

void Session::close() {
  idle_timer_.cancel();
  beast::error_code ignored;  // the peer may be gone already
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace caflow::http
