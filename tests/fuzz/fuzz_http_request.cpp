// libFuzzer target: what a request's bytes reach in the gateway before the
// actor system (src/http/session.cpp), without sockets.
#include <cstddef>
#include <cstdint>
#include <string>

// GCC 12 at -O2 warns that Beast's content_length() optional "may be used
// uninitialized" (a false positive inside Boost's headers).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "fuzz_targets.hpp"
#include "http/jina_codec.hpp"
#include "http/router.hpp"

namespace caflow::fuzz {

namespace {

namespace bhttp = boost::beast::http;

// Session::handle_post: decode the body; the flow would answer with the
// documents; encode that answer and read it back as caflow's client does.
void post(const http::RouteMatch& r, std::string_view body) {
  http::Exchange ex{.endpoint = r.endpoint.empty() ? std::string{"/"} : r.endpoint,
                    .start_us = 1'700'000'000'000'000};
  auto req = http::decode_request(body, r.endpoint);
  ex.end_us = ex.start_us + 1234;
  if (!req) {
    // The 400 answer, and what the client makes of it.
    auto text = http::encode_error(req.error(), ex);
    auto err = http::error_from_reply(400, text);
    if (!err)
      throw Failure{"error_from_reply lost the error of: " + text};
    return;
  }
  ex.request_id = req->id;
  ex.endpoint = req->endpoint;
  ex.target_executor = req->target_executor;
  Response resp;
  resp.id = req->id;
  resp.docs = req->docs;
  resp.parameters = req->parameters;
  resp.shards_answered = 2;
  resp.shards_failed = 1;
  resp.failures = {"indexer/shard-1: timeout"};
  resp.routes = {Route{"gateway", ex.start_us, ex.end_us, ""},
                 Route{req->target_executor, ex.start_us + 1, ex.end_us - 1, "failed"}};
  auto text = http::encode_response(resp, ex);
  auto back = http::decode_response(text);
  if (!back)
    throw Failure{"decode_response failed on encode_response's text (" + describe(back.error())
                  + "): " + text};
  if (!(back->docs == req->docs))
    throw Failure{"response documents differ after the round trip: " + text};
  if (back->failed_shards != 1 || back->failures != resp.failures)
    throw Failure{"response failures lost in the round trip: " + text};
}

// Session::handle_scale's reading of {"executor": NAME, "replicas": N}.
void scale(std::string_view body) {
  auto v = parse_json(body);
  if (!v || !v->is_object())
    return;
  try {
    (void)v->get_string("executor", "");
    (void)v->get_int("replicas", 0);
  } catch (const Error&) {
    // a wrong type: the session answers 400
  }
}

void dispatch(std::string_view method, std::string_view target, std::string_view body) {
  auto r = http::route(method, target);
  switch (r.action) {
    case http::Action::post:
      post(r, body);
      break;
    case http::Action::scale:
      scale(body);
      break;
    default:
      break;
  }
}

}  // namespace

void http_request(std::string_view data) {
  // As the session reads it: Beast's parser over the raw bytes (headers,
  // then a body up to the limit; a smaller limit than the server's default
  // keeps the fuzzer's memory bounded).
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(size_t{1} << 20);
  boost::beast::error_code ec;
  auto used = parser.put(boost::asio::buffer(data.data(), data.size()), ec);
  if (!ec && used < data.size() && !parser.is_done())
    parser.put(boost::asio::buffer(data.data() + used, data.size() - used), ec);
  if (!ec && parser.is_done()) {
    auto& req = parser.get();
    dispatch(req.method_string(), req.target(), req.body());
  }
  // Directly: "METHOD TARGET\nBODY", so that the fuzzer reaches the router and
  // the codec without first learning HTTP/1.1 framing.
  auto eol = data.find('\n');
  auto line = data.substr(0, eol);
  auto body = eol == std::string_view::npos ? std::string_view{} : data.substr(eol + 1);
  auto space = line.find(' ');
  if (space == std::string_view::npos)
    return;
  dispatch(line.substr(0, space), line.substr(space + 1), body);
}

}  // namespace caflow::fuzz

#ifndef CAFLOW_FUZZ_NO_ENTRY
CAFLOW_FUZZ_ENTRY(caflow::fuzz::http_request)
#endif
