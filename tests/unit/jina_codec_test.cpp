// Jina 3's HTTP wire format and the gateway's routes: pure functions.
#include <doctest/doctest.h>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "http/jina_codec.hpp"
#include "http/router.hpp"
#include "tests/unit/jina_bodies.hpp"

using namespace caflow;
using namespace caflow::http;

namespace {

Value parse(const std::string& text) {
  auto v = parse_json(text);
  REQUIRE_MESSAGE(v, describe(v));
  return *v;
}

}  // namespace

TEST_CASE("a request as Jina 3.0's HTTP client sends it decodes") {
  auto body = testing::jina_client_search_body;
  auto req = decode_request(body, "");
  REQUIRE_MESSAGE(req, describe(req));
  CHECK(req->id == "b484");
  CHECK(req->endpoint == "/search");
  CHECK(req->parameters.get_int("top_k", 0) == 3);
  REQUIRE(req->docs.size() == 1);
  CHECK(req->docs[0].id == "a");
  CHECK(req->docs[0].text == "hello");
  CHECK(req->docs[0].embedding.values == std::vector<float>{1.0f, 2.0f});
}

TEST_CASE("camelCase keys, {docs: [...]}, defaults and the path's endpoint") {
  auto req = decode_request(
    R"({"data": {"docs": [{"text": "x"}]}, "execEndpoint": "/index", "targetExecutor": "enc"})",
    "");
  REQUIRE(req);
  CHECK(req->endpoint == "/index");
  CHECK(req->target_executor == "enc");
  CHECK(req->docs.size() == 1);
  CHECK(req->id.size() == 32);  // a fresh id when the client sends none
  auto bare = decode_request(R"({"data": []})", "");
  REQUIRE(bare);
  CHECK(bare->endpoint == "/");
  CHECK(bare->parameters.is_object());
  auto routed = decode_request(R"({"execEndpoint": "/search"})", "/index");
  REQUIRE(routed);
  CHECK(routed->endpoint == "/index");  // POST /index means /index
  CHECK(routed->docs.empty());
}

TEST_CASE("bad request bodies name what was wrong") {
  auto message = [](std::string_view body) {
    auto req = decode_request(body, "");
    REQUIRE_FALSE(req);
    CHECK(is(req.error(), errc::invalid_json));
    return error_message(req.error());
  };
  CHECK(message("{\"data\": [").find("malformed JSON") != std::string::npos);
  CHECK(message("").find("empty") != std::string::npos);
  CHECK(message("[1, 2]") == "request body: expected a JSON object, got array");
  CHECK(message(R"({"data": [{}, {}, {}, {"embedding": [1, "x"]}]})")
        == "data[3].embedding[1]: expected a number, got string");
  CHECK(message(R"({"execEndpoint": 7})") == "execEndpoint: expected a string, got integer");
  CHECK(message(R"({"header": {"exec_endpoint": 7}})")
        == "header.exec_endpoint: expected a string, got integer");
  CHECK(message(R"({"parameters": [1]})") == "parameters: expected an object, got array");
  CHECK(message(R"({"data": 5})").find("data") != std::string::npos);
}

TEST_CASE("a response follows DataRequest.to_dict() and carries partial failures in parameters") {
  Response resp;
  resp.id = "r1";
  resp.docs.emplace_back().text = "out";
  resp.parameters = Params{{"count", 2}};
  resp.shards_failed = 1;
  resp.failures = {"indexer/shard-1: boom"};
  resp.routes.push_back({"indexer", 1000000, 1500000, ""});
  Exchange ex{.request_id = "r1", .endpoint = "/search", .start_us = 0, .end_us = 2000000};
  auto v = parse(encode_response(resp, ex));
  const auto& header = *v.find("header");
  CHECK(header.get_string("request_id", "") == "r1");
  CHECK(header.find("status")->is_null());
  CHECK(header.get_string("exec_endpoint", "") == "/search");
  CHECK(header.get_string("target_executor", "x").empty());
  const auto& routes = v.find("routes")->as_array();
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].get_string("executor", "") == "gateway");
  CHECK(routes[0].get_string("end_time", "") == "1970-01-01T00:00:02.000000Z");
  CHECK(routes[1].get_string("executor", "") == "indexer");
  CHECK(routes[1].get_string("start_time", "") == "1970-01-01T00:00:01.000000Z");
  CHECK(v.find("data")->as_array().size() == 1);
  auto decoded = decode_response(encode_response(resp, ex));
  REQUIRE(decoded);
  CHECK(decoded->docs[0].text == "out");
  CHECK(decoded->failed_shards == 1);
  CHECK(decoded->failures == std::vector<std::string>{"indexer/shard-1: boom"});
  CHECK(decoded->parameters == Params{{"count", 2}});  // the failure keys are removed
}

TEST_CASE("an error body carries Jina's error code, the message and the errc name") {
  Exchange ex{.request_id = "r2", .endpoint = "/index"};
  auto v = parse(encode_error(make_error(errc::overloaded, "too busy"), ex));
  const auto& status = *v.find("header")->find("status");
  CHECK(status.get_int("code", 0) == jina_status_error);
  CHECK(status.get_string("description", "") == "too busy");
  CHECK(status.find("exception")->get_string("name", "") == "overloaded");
  auto err = error_from_reply(503, encode_error(make_error(errc::overloaded, "too busy"), ex));
  CHECK(is(err, errc::overloaded));
  CHECK(error_message(err) == "HTTP 503: too busy");
  CHECK(is(error_from_reply(504, "gateway timeout"), errc::timeout));
  CHECK(is(error_from_reply(404, ""), errc::not_found));
  CHECK(is(error_from_reply(500, "{}"), errc::executor_failed));
}

TEST_CASE("errors map to HTTP statuses") {
  CHECK(http_status(make_error(errc::invalid_json, "x")) == 400);
  CHECK(http_status(make_error(errc::dimension_mismatch, "x")) == 400);
  CHECK(http_status(make_error(errc::not_found, "x")) == 404);
  CHECK(http_status(make_error(errc::overloaded, "x")) == 503);
  CHECK(http_status(make_error(errc::unavailable, "x")) == 503);
  CHECK(http_status(make_error(errc::timeout, "x")) == 504);
  CHECK(http_status(caf::make_error(caf::sec::request_timeout)) == 504);
  // Jina answers an executor's failure in-band: 200, header.status ERROR.
  CHECK(http_status(make_error(errc::executor_failed, "x")) == 200);
  CHECK(http_status(make_error(errc::all_shards_failed, "x")) == 200);
  CHECK(http_status(make_error(errc::io_error, "x")) == 500);
}

TEST_CASE("Jina's HTTP semantics: in-band errors, parameters echoed, 2-D sparse rows") {
  Exchange ex{.request_id = "r", .endpoint = "/index", .parameters = Params{{"top_k", 3.0}}};
  auto body = parse_json(
    encode_error(make_error(errc::executor_failed, "enc/shard-0/replica-0: boom"), ex));
  REQUIRE(body);
  const auto* st = body->find("header")->find("status");
  CHECK(st->get_int("code", 0) == jina_status_error);
  const auto* exc = st->find("exception");
  CHECK(exc->get_string("name", "") == "executor_failed");
  CHECK(exc->get_string("executor", "") == "enc");
  CHECK(exc->find("args")->as_array().size() == 1);
  CHECK(exc->find("stacks")->is_array());
  CHECK(body->find("parameters")->get_int("top_k", 0) == 3);
  // The client reads a 200 with header.status ERROR as the error it names.
  auto back = decode_response(to_json(*body));
  REQUIRE_FALSE(back);
  CHECK(is(back.error(), errc::executor_failed));
  CHECK(error_message(back.error()).find("boom") != std::string::npos);

  Response resp;
  resp.parameters = Params{{"count", 7}};
  auto ok = decode_response(encode_response(resp, ex));
  REQUIRE(ok);
  CHECK(ok->parameters.get_int("top_k", 0) == 3);  // echoed
  CHECK(ok->parameters.get_int("count", 0) == 7);  // the executors' on top

  // docarray 0.6 writes a scipy sparse row as a dense 1 x dim list.
  auto req = decode_request(R"({"data": [{"id": "a", "embedding": [[0.0, 0.5, 0.0, 0.25]]}]})", "");
  REQUIRE_MESSAGE(req, describe(req));
  CHECK(req->docs[0].embedding == Embedding::sparse_vector(4, {1, 3}, {0.5f, 0.25f}));
  auto two_rows = decode_request(R"({"data": [{"embedding": [[1.0], [2.0]]}]})", "");
  REQUIRE_FALSE(two_rows);
  CHECK(error_message(two_rows.error()).find("data[0].embedding: expected one row") == 0);
}

TEST_CASE("timestamps are RFC 3339 with microseconds") {
  CHECK(iso8601(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(iso8601(1234567) == "1970-01-01T00:00:01.234567Z");
  CHECK(iso8601(1700000000000001) == "2023-11-14T22:13:20.000001Z");
  // Before the epoch, a leap day, the last microsecond of a year.
  CHECK(iso8601(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(iso8601(951782400000000) == "2000-02-29T00:00:00.000000Z");
  CHECK(iso8601(1735689599999999) == "2024-12-31T23:59:59.999999Z");
  // Past year 9999: the general formatter.
  CHECK(iso8601(253402300800000000) == "10000-01-01T00:00:00.000000Z");
}

TEST_CASE("the client's request body decodes on the server's side") {
  DocumentArray docs;
  docs.emplace_back().text = "a";
  docs.emplace_back().text = "b";
  auto req = decode_request(encode_post("/search", docs, Params{{"top_k", 5}}, "idx"), "");
  REQUIRE(req);
  CHECK(req->endpoint == "/search");
  CHECK(req->target_executor == "idx");
  CHECK(req->parameters.get_int("top_k", 0) == 5);
  CHECK(req->docs == docs);
}

TEST_CASE("routes: Jina's paths, methods and 404/405") {
  CHECK(route("POST", "/post").action == Action::post);
  CHECK(route("POST", "/post").endpoint.empty());
  CHECK(route("POST", "/index").endpoint == "/index");
  CHECK(route("POST", "/search?x=1").endpoint == "/search");
  CHECK(route("PUT", "/update").endpoint == "/update");
  CHECK(route("POST", "/update").endpoint == "/update");
  CHECK(route("DELETE", "/delete").endpoint == "/delete");
  CHECK(route("POST", "/delete").action == Action::post);
  CHECK(route("GET", "/status").action == Action::status);
  CHECK(route("GET", "/dry_run").action == Action::dry_run);
  CHECK(route("GET", "/metrics").action == Action::metrics);
  CHECK(route("GET", "/index/").action == Action::method_not_allowed);
  auto r = route("GET", "/index");
  CHECK(r.action == Action::method_not_allowed);
  CHECK(r.allow == "POST");
  CHECK(route("DELETE", "/update").allow == "PUT, POST");
  CHECK(route("POST", "/status").action == Action::method_not_allowed);
  CHECK(route("GET", "/nope").action == Action::not_found);
  CHECK(route("GET", "/nope").path == "/nope");
}
