// The HTTP gateway over real TCP: a flow in process, the server on a free
// port, the client and raw HTTP against it. Every wait is bounded.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/json.hpp"
#include "caflow/server.hpp"
#include "http/metrics.hpp"

using namespace caflow;
using namespace std::chrono_literals;

namespace {

// A gate that HttpGated requests wait at until the test opens it. Waits are
// bounded so that a failing test cannot hang the suite.
struct Gate {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = true;

  void close() {
    std::lock_guard<std::mutex> guard{mtx};
    open = false;
  }
  void release() {
    std::lock_guard<std::mutex> guard{mtx};
    open = true;
    cv.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, 10s, [this] { return open; });
  }
};

Gate& gate() {
  static Gate g;
  return g;
}

// Holds every request at the gate: a slow executor whose slowness the test
// controls.
class HttpGated : public Executor {
 public:
  explicit HttpGated(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [](DocumentArray&, const Params&) {
      gate().pass();
      return Params::object();
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(HttpGated);

class HttpThrower : public Executor {
 public:
  explicit HttpThrower(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("thrower refuses on purpose");
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(HttpThrower);

// Counts its documents in the response parameters.
class HttpCounter : public Executor {
 public:
  explicit HttpCounter(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [](DocumentArray& docs, const Params& params) {
      for (auto& d : docs)
        d.tags["seen"] = true;
      return Params{{"count", static_cast<int64_t>(docs.size())},
                    {"echo", params.get_int("top_k", -1)}};
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(HttpCounter);

// A running flow with its server; opens the gate before tearing down.
struct Served {
  RunningFlow flow;
  std::unique_ptr<HttpServer> server;

  Served(RunningFlow f, ServerOptions opts) : flow(std::move(f)) {
    auto s = HttpServer::start(flow, std::move(opts));
    REQUIRE_MESSAGE(s, describe(s));
    server = std::move(*s);
  }
  ~Served() {
    gate().release();
    server.reset();
  }
  Client client(ClientOptions opts = {}) const { return Client{"127.0.0.1", server->port(), opts}; }
};

std::unique_ptr<Served> serve(const Flow& flow, ServerOptions opts = {}) {
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  return std::make_unique<Served>(std::move(*running), std::move(opts));
}

Flow noop_flow() {
  Flow flow;
  flow.add({.name = "first", .uses = "NoOp"}).add({.name = "second", .uses = "HttpCounter"});
  return flow;
}

DocumentArray hello(size_t n, const std::string& prefix = "d") {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = prefix + std::to_string(i);
    d.text = "hello world";
  }
  return docs;
}

Value json(const std::string& text) {
  auto v = parse_json(text);
  REQUIRE_MESSAGE(v, text);
  return *v;
}

std::string description(const HttpReply& reply) {
  auto v = json(reply.body);
  auto* status = v.find("header")->find("status");
  REQUIRE(status != nullptr);
  return status->get_string("description", "");
}

// Waits (bounded) until the flow's gateway reports `n` requests in flight.
bool wait_in_flight(Client& client, int64_t n) {
  for (int i = 0; i < 2000; ++i) {
    auto st = client.status();
    if (st && st->get_int("in_flight", -1) == n)
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Serves a flow taking one request at a time (max_in_flight 1) with its one
// slot held: a post waits at the closed gate on `holder` (join it after
// gate().release()), so the next request is over the limit.
std::unique_ptr<Served> serve_saturated(std::thread& holder) {
  FlowOptions opts;
  opts.max_in_flight = 1;
  Flow flow{opts};
  flow.add({.name = "gated", .uses = "HttpGated"});
  auto s = serve(flow);
  auto client = s->client();
  gate().close();
  holder = std::thread([served = s.get()] {
    auto c = served->client();
    auto r = c.post("/index", hello(1));
    CHECK_MESSAGE(r, describe(r));
  });
  REQUIRE(wait_in_flight(client, 1));
  return s;
}

uint64_t metric(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    return 0;
  return std::stoull(text.substr(pos + series.size() + 2));
}

}  // namespace

TEST_CASE("index and search through the client, /post and /index") {
  auto s = serve(noop_flow());
  auto client = s->client();
  CHECK(client.ready());
  std::atomic<size_t> progress{0};
  auto result = client.post("/index", hello(250),
                            {.request_size = 100,
                             .prefetch = 3,
                             .parameters = {{"top_k", 4}},
                             .on_progress = [&](size_t done, size_t total) {
                               CHECK(total == 3);
                               progress = done;
                             }});
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 250);
  for (size_t i = 0; i < 250; ++i)
    CHECK(result->docs[i].id == "d" + std::to_string(i));  // input order
  CHECK(result->docs[0].tags.get_bool("seen", false));
  CHECK(result->parameters.get_int("count", 0) == 250);  // summed over requests
  CHECK(result->parameters.get_int("echo", 0) == 4);
  CHECK(progress == 3);

  // Raw HTTP, as curl sends it: POST /post names the endpoint in the body.
  auto raw = client.request("POST", "/post",
                            R"({"data": [{"id": "q", "text": "hi"}], "execEndpoint": "/search"})");
  REQUIRE(raw);
  CHECK(raw->status == 200);
  CHECK(raw->content_type == "application/json");
  auto v = json(raw->body);
  CHECK(v.find("header")->get_string("exec_endpoint", "") == "/search");
  CHECK(v.find("header")->find("status")->is_null());
  CHECK(v.find("data")->as_array().at(0).get_string("id", "") == "q");
  auto routes = v.find("routes")->as_array();
  REQUIRE(routes.size() == 3);
  CHECK(routes[0].get_string("executor", "") == "gateway");
  CHECK(routes[1].get_string("executor", "") == "first");
  CHECK(routes[2].get_string("executor", "") == "second");

  auto index = client.request("POST", "/index", R"({"data": {"docs": [{"text": "a"}]}})");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(json(index->body).find("header")->get_string("exec_endpoint", "") == "/index");
  for (auto [method, path] : {std::pair{"PUT", "/update"}, std::pair{"POST", "/update"},
                              std::pair{"DELETE", "/delete"}, std::pair{"POST", "/search"}}) {
    auto r = client.request(method, path, R"({"data": [{"text": "a"}]})");
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 200, method, " ", path);
  }
}

TEST_CASE("keep-alive: many requests on one connection") {
  auto s = serve(noop_flow());
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket{ioc};
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), s->server->port()});
  beast::flat_buffer buffer;
  for (int i = 0; i < 200; ++i) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/index", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.body() = R"({"data": [{"text": "one"}]})";
    req.prepare_payload();
    bhttp::write(socket, req);  // throws if the server closed the connection
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res);
    REQUIRE(res.result_int() == 200);
    REQUIRE(res.keep_alive());
  }
  CHECK(s->server->metrics().succeeded_count("/index") == 200);
}

TEST_CASE("50 concurrent connections") {
  auto s = serve(noop_flow(), {.threads = 2});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 50; ++t)
    threads.emplace_back([&, t] {
      auto client = s->client({.timeout = 30s});
      for (int i = 0; i < 10; ++i) {
        auto prefix = "t" + std::to_string(t) + "-" + std::to_string(i) + "-";
        auto result = client.post("/index", hello(5, prefix), {.request_size = 5});
        if (result && result->docs.size() == 5 && result->docs[4].id == prefix + "4")
          ++ok;
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(ok == 500);
  CHECK(s->server->metrics().succeeded_count("/index") == 500);
  CHECK(s->server->metrics().in_flight() == 0);
}

TEST_CASE("bad requests get 400, 404, 405 and 413 with a message; the server lives on") {
  auto s = serve(noop_flow(), {.body_limit = 4096});
  auto client = s->client();
  auto malformed = client.request("POST", "/post", R"({"data": [)");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(description(*malformed).find("malformed JSON") != std::string::npos);

  auto bad_field = client.request(
    "POST", "/post",
    R"({"data": [{}, {}, {}, {"embedding": [1.0, "x"]}], "execEndpoint": "/index"})");
  REQUIRE(bad_field);
  CHECK(bad_field->status == 400);
  CHECK(description(*bad_field) == "data[3].embedding[1]: expected a number, got string");

  auto missing = client.request("GET", "/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(description(*missing).find("/nope") != std::string::npos);

  auto wrong_method = client.request("GET", "/index");
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 405);
  CHECK(wrong_method->allow == "POST");
  CHECK(description(*wrong_method).find("GET") != std::string::npos);

  std::string big = R"({"data": [{"text": ")" + std::string(10000, 'x') + R"("}]})";
  auto too_large = client.request("POST", "/index", big);
  REQUIRE(too_large);
  CHECK(too_large->status == 413);
  CHECK(description(*too_large).find("4096") != std::string::npos);
  CHECK_FALSE(too_large->keep_alive);
  // Much larger than the socket buffers: the answer must survive the upload.
  auto huge = client.request("POST", "/index", std::string(size_t{8} << 20, 'x'));
  REQUIRE_MESSAGE(huge, describe(huge));
  CHECK(huge->status == 413);

  auto fine = client.post("/index", hello(3));
  REQUIRE_MESSAGE(fine, describe(fine));
  CHECK(fine->docs.size() == 3);
  auto err = client.post("/index", hello(1),
                         {.parameters = Params{{"top_k", 1}}, .target_executor = "nobody"});
  REQUIRE_FALSE(err);
  CHECK(is(err.error(), errc::not_found));
  CHECK(error_message(err.error()).find("HTTP 404") != std::string::npos);
}

TEST_CASE("an executor that throws gets 200 with Jina's in-band status and its message") {
  // The same whether its replica has a thread of its own (the default) or
  // runs on the scheduler.
  Params metas = Params::object();
  SUBCASE("detached replica") {
  }
  SUBCASE("replica on the scheduler") {
    metas["runs_on_scheduler"] = true;
  }
  Flow flow;
  flow.add({.name = "thrower", .uses = "HttpThrower", .uses_metas = metas});
  auto s = serve(flow);
  auto client = s->client();
  auto raw = client.request("POST", "/index", R"({"data": [{"text": "a"}]})");
  REQUIRE(raw);
  CHECK(raw->status == 200);  // Jina's: the client's on_error runs, not an HTTP error
  CHECK(description(*raw).find("thrower refuses on purpose") != std::string::npos);
  auto body = parse_json(raw->body);
  REQUIRE(body);
  const auto* status = body->find("header")->find("status");
  CHECK(status->get_int("code", 0) == 3);
  CHECK(status->find("exception")->get_string("executor", "") == "thrower");
  auto result = client.post("/index", hello(2));
  REQUIRE_FALSE(result);
  CHECK(is(result.error(), errc::executor_failed));
  CHECK(error_message(result.error()).find("thrower refuses on purpose") != std::string::npos);
  CHECK(s->server->metrics().failed_count("/index") == 2);
}

TEST_CASE("an overloaded flow answers 503 with Retry-After; readiness is not load") {
  std::thread first;
  auto s = serve_saturated(first);
  auto client = s->client();
  auto second = client.request("POST", "/index", R"({"data": [{"text": "a"}]})");
  REQUIRE(second);
  CHECK(second->status == 503);
  CHECK(description(*second).find("max_in_flight") != std::string::npos);
  CHECK(second->retry_after == "1");
  auto impatient = s->client({.retries = 0});
  auto post = impatient.post("/index", hello(1));
  REQUIRE_FALSE(post);
  CHECK(is(post.error(), errc::overloaded));
  // Busy is not unready: the gated replica has started and is alive.
  CHECK(client.ready(5000ms));
  gate().release();
  first.join();
  CHECK(client.ready());
  auto ok = client.request("GET", "/dry_run");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(json(ok->body).get_int("code", -1) == 0);
}

// Regression (#14.12): caflow post indexed 600 of 6,046 documents against a
// flow with max_in_flight 4 and exited at the first 503.
TEST_CASE("the client retries a 503 with back-off until the flow takes the request") {
  std::thread first;
  auto s = serve_saturated(first);
  auto client = s->client();
  PostReport report;
  std::optional<caf::expected<PostResult>> second;
  std::thread patient([&] {
    auto c = s->client({.retries = 1000, .max_retry_wait = 100ms});
    second = c.post("/index", hello(3), {}, report);
  });
  // Release the gate only once the gateway turned the second post away.
  bool rejected = false;
  for (int i = 0; i < 2000 && !rejected; ++i) {
    auto st = client.status();
    rejected = st && st->get_int("rejected", 0) >= 1;
    if (!rejected)
      std::this_thread::sleep_for(5ms);
  }
  CHECK(rejected);
  gate().release();
  first.join();
  patient.join();
  REQUIRE(second);
  REQUIRE_MESSAGE(*second, describe(*second));
  CHECK((*second)->docs.size() == 3);
  CHECK(report.retries >= 1);
  CHECK(report.requests == 1);
  CHECK(report.requests_acknowledged == 1);
  CHECK(report.documents_acknowledged == 3);
  CHECK(report.requests_failed == 0);
}

TEST_CASE("timeouts answer 504: the deployment's and the server's") {
  SUBCASE("DeploymentOptions.timeout") {
    Flow flow;
    flow.add({.name = "gated", .uses = "HttpGated", .timeout = 50ms});
    auto s = serve(flow);
    gate().close();
    auto reply = s->client().request("POST", "/index", R"({"data": [{"text": "a"}]})");
    REQUIRE(reply);
    CHECK(reply->status == 504);
    CHECK(description(*reply).find("timed out") != std::string::npos);
  }
  SUBCASE("ServerOptions.request_timeout") {
    Flow flow;
    flow.add({.name = "gated", .uses = "HttpGated"});
    auto s = serve(flow, {.request_timeout = 50ms});
    gate().close();
    auto client = s->client();
    auto reply = client.request("POST", "/index", R"({"data": [{"text": "a"}]})");
    REQUIRE(reply);
    CHECK(reply->status == 504);
    CHECK(description(*reply).find("request_timeout") != std::string::npos);
    auto post = client.post("/index", hello(1));
    REQUIRE_FALSE(post);
    CHECK(is(post.error(), errc::timeout));
  }
}

TEST_CASE("/status, /dry_run and /metrics") {
  auto s = serve(noop_flow());
  auto client = s->client();
  auto status = client.status();
  REQUIRE_MESSAGE(status, describe(status));
  CHECK(status->get_bool("ready", false));
  CHECK(status->find("executors")->size() == 2);
  auto dry = client.request("GET", "/dry_run");
  REQUIRE(dry);
  CHECK(dry->status == 200);
  CHECK(json(dry->body).get_string("description", "").find("ready") == 0);
  CHECK(status->find("not_ready")->size() == 0);
  CHECK(status->find("deployments")->find("first")->get_bool("ready", false));

  auto before = client.metrics();
  REQUIRE(before);
  CHECK(before->find("# TYPE caflow_receiving_request_seconds histogram") != std::string::npos);
  REQUIRE(client.post("/index", hello(30), {.request_size = 10}));
  REQUIRE(client.request("POST", "/post", "not json"));
  auto after = client.metrics();
  REQUIRE(after);
  auto received = "caflow_requests_received_total{endpoint=\"/index\"}";
  CHECK(metric(*after, received) == metric(*before, received) + 3);
  CHECK(metric(*after, "caflow_requests_succeeded_total{endpoint=\"/index\"}") == 3);
  CHECK(metric(*after, "caflow_requests_failed_total{endpoint=\"/post\"}") == 1);
  CHECK(metric(*after, "caflow_documents_processed_total") >= 30);
  CHECK(metric(*after, "caflow_executor_request_seconds_count{executor=\"first\"}") >= 3);
  CHECK(metric(*after, "caflow_receiving_request_seconds_count{endpoint=\"/index\"}") == 3);
  auto raw = client.request("GET", "/metrics");
  REQUIRE(raw);
  CHECK(raw->content_type.find("text/plain; version=0.0.4") == 0);
}

TEST_CASE("binding a taken port fails with io_error naming the address") {
  auto s = serve(noop_flow());
  auto second = HttpServer::start(s->flow, {.port = s->server->port()});
  REQUIRE_FALSE(second);
  CHECK(is(second.error(), errc::io_error));
  CHECK(error_message(second.error()).find("127.0.0.1:" + std::to_string(s->server->port()))
        != std::string::npos);
}

TEST_CASE("stop() answers the request in flight, then refuses connections") {
  Flow flow;
  flow.add({.name = "gated", .uses = "HttpGated"});
  auto s = serve(flow);
  auto port = s->server->port();
  auto client = s->client();
  gate().close();
  std::thread inflight([&] {
    auto c = s->client();
    auto r = c.post("/index", hello(2));
    CHECK_MESSAGE(r, describe(r));
    CHECK((r && r->docs.size() == 2));
  });
  REQUIRE(wait_in_flight(client, 1));
  std::thread stopper([&] { s->server->stop(); });
  // The drain waits for the gated request; release it from here.
  gate().release();
  stopper.join();
  inflight.join();
  Client late{"127.0.0.1", port, {.connect_timeout = 1000ms}};
  CHECK_FALSE(late.ready(1000ms));
}

TEST_CASE("Expect: 100-continue gets the go-ahead before the body") {
  auto s = serve(noop_flow());
  namespace bhttp = boost::beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket{ioc};
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), s->server->port()});
  std::string body = R"({"data": [{"text": "continued"}]})";
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/index", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::expect, "100-continue");
  req.body() = body;
  req.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> sr{req};
  bhttp::write_header(socket, sr);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::empty_body> cont;
  bhttp::read(socket, buffer, cont);  // only arrives if the server sends it unprompted
  CHECK(cont.result() == bhttp::status::continue_);
  bhttp::write(socket, sr);
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  CHECK(res.result_int() == 200);
  CHECK(res.body().find("continued") != std::string::npos);
}

TEST_CASE("an idle connection is closed after idle_timeout") {
  auto s = serve(noop_flow(), {.idle_timeout = 100ms});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket{ioc};
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), s->server->port()});
  timeval tv{10, 0};  // bound the wait if the server never closes
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char byte = 0;
  boost::system::error_code ec;
  auto n = socket.read_some(boost::asio::buffer(&byte, 1), ec);
  CHECK(n == 0);
  CHECK(ec == boost::asio::error::eof);
  // The client reconnects transparently.
  auto client = s->client();
  CHECK(client.ready());
}
