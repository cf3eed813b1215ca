#include "http/jina_codec.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <optional>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "json/json_fast.hpp"
#include "json/utf8.hpp"

namespace caflow::http {

namespace {

// The member of `obj` under the first of `keys` that is present and not
// null; `found` names that key.
const Value* member(const Value& obj, std::initializer_list<std::string_view> keys,
                    std::string_view* found = nullptr) {
  for (auto key : keys)
    if (auto* v = obj.find(key); v != nullptr && !v->is_null()) {
      if (found)
        *found = key;
      return v;
    }
  return nullptr;
}

// A string member looked up at the top level, then in "header".
caf::error read_string(const Value& body, std::initializer_list<std::string_view> keys,
                       std::string& out) {
  std::string_view key;
  const Value* v = member(body, keys, &key);
  std::string where;
  if (v == nullptr) {
    if (auto* header = body.find("header"); header != nullptr && header->is_object())
      v = member(*header, keys, &key);
    where = "header.";
  }
  if (v == nullptr)
    return {};
  where += key;
  if (!v->is_string())
    return make_error(errc::invalid_json,
                      where + ": expected a string, got " + to_string(v->kind()));
  out = v->as_string();
  return {};
}

// Jina's StatusProto of a failure, as its HTTP gateway writes it
// (MessageToDict: enum as integer, every exception field).
Value status_value(const caf::error& err) {
  auto st = jina_status(err);
  Value::Array args;
  for (auto& a : st.args)
    args.emplace_back(std::move(a));
  Value exception = Value::object();
  exception["name"] = st.name;
  exception["args"] = std::move(args);
  exception["stacks"] = Value::Array{};
  exception["executor"] = st.executor;
  Value status = Value::object();
  status["code"] = jina_status_error;
  status["description"] = st.description;
  status["exception"] = std::move(exception);
  return status;
}

Value header_value(const Exchange& ex, Value status) {
  Value header = Value::object();
  header["request_id"] = ex.request_id;
  header["status"] = std::move(status);
  header["exec_endpoint"] = ex.endpoint;
  header["target_executor"] = ex.target_executor;
  return header;
}

Value route_value(const std::string& executor, int64_t start, int64_t end,
                  const std::string& error) {
  Value route = Value::object();
  route["executor"] = executor;
  route["start_time"] = iso8601(start);
  route["end_time"] = iso8601(end);
  if (error.empty()) {
    route["status"] = nullptr;
  } else {
    Value status = Value::object();
    status["code"] = jina_status_error;
    status["description"] = error;
    route["status"] = std::move(status);
  }
  return route;
}

// Writes header_value(ex, nullptr) (keys sorted, as a Value object writes them).
void append_header(std::string& out, const Exchange& ex) {
  out += "{\"exec_endpoint\":";
  json_fast::append_string(out, ex.endpoint);
  out += ",\"request_id\":";
  json_fast::append_string(out, ex.request_id);
  out += ",\"status\":null,\"target_executor\":";
  json_fast::append_string(out, ex.target_executor);
  out += '}';
}

// Writes route_value(...).
void append_route(std::string& out, const std::string& executor, int64_t start, int64_t end,
                  const std::string& error) {
  out += "{\"end_time\":";
  json_fast::append_string(out, iso8601(end));
  out += ",\"executor\":";
  json_fast::append_string(out, executor);
  out += ",\"start_time\":";
  json_fast::append_string(out, iso8601(start));
  if (error.empty()) {
    out += ",\"status\":null}";
  } else {
    out += ",\"status\":{\"code\":";
    json_fast::append_int(out, jina_status_error);
    out += ",\"description\":";
    json_fast::append_string(out, error);
    out += "}}";
  }
}

}  // namespace

// A caflow error carries the "caflow" category; others (CAF's own) do not.
bool is_caflow(const caf::error& err) {
  return err && err.category() == error_category;
}

caf::expected<Request> decode_request(std::string_view body, std::string_view path_endpoint) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return make_error(errc::invalid_json,
                      "request body is empty: expected a JSON object such as "
                      "{\"data\": [{\"text\": \"hello\"}]}");
  // The fast path reads the documents straight from the text; when it cannot
  // tell, the general path parses a Value tree and gives the exact error.
  Value rest;
  std::optional<std::vector<Document>> fast_docs;
  bool fast = json_fast::parse_envelope(body, rest, fast_docs);
  caf::expected<Value> parsed{Value{}};
  if (!fast) {
    parsed = parse_json(body);
    if (!parsed) {
      // The JSON parser calls a bad UTF-8 sequence a "syntax error"; say
      // what it is, so that the client can find its encoding bug.
      std::string why = error_message(parsed.error());
      if (auto bad = utf8::first_invalid(body))
        why = "invalid UTF-8 at byte " + std::to_string(*bad) + " (" + why + ")";
      return make_error(errc::invalid_json, "malformed JSON in request body: " + why);
    }
  }
  const Value& v = fast ? rest : *parsed;
  if (!v.is_object())
    return make_error(errc::invalid_json, std::string{"request body: expected a JSON object, got "}
                                            + to_string(v.kind()));
  Request req;
  if (auto err = read_string(v, {"execEndpoint", "exec_endpoint"}, req.endpoint))
    return err;
  if (!path_endpoint.empty())
    req.endpoint = std::string{path_endpoint};
  if (req.endpoint.empty())
    req.endpoint = "/";
  if (auto err = read_string(v, {"targetExecutor", "target_executor"}, req.target_executor))
    return err;
  if (auto err = read_string(v, {"requestId", "request_id"}, req.id))
    return err;
  if (req.id.empty())
    req.id = new_document_id();
  if (auto* p = member(v, {"parameters"})) {
    if (!p->is_object())
      return make_error(errc::invalid_json,
                        std::string{"parameters: expected an object, got "} + to_string(p->kind()));
    req.parameters = *p;
  }
  if (fast) {
    if (fast_docs)
      req.docs = DocumentArray(std::move(*fast_docs));
  } else if (auto* data = member(v, {"data"})) {
    auto docs = to_documents(*data, "data");
    if (!docs)
      return std::move(docs.error());
    req.docs = std::move(*docs);
  }
  return req;
}

std::string encode_response(const Response& resp, const Exchange& ex) {
  const Params* params = &resp.parameters;
  Params with_failures;
  bool echo = ex.parameters.is_object() && ex.parameters.size() > 0;
  if (resp.shards_failed > 0 || echo) {
    // Jina answers with the request's parameters and the executors' on top.
    with_failures = echo ? ex.parameters : Params::object();
    if (resp.parameters.is_object())
      with_failures.merge(resp.parameters);
  }
  if (echo)
    params = &with_failures;
  if (resp.shards_failed > 0) {
    detail::put_shard_failures(with_failures, resp.shards_failed, resp.failures);
    params = &with_failures;
  }
  // Written straight to text: the documents dominate the size.
  std::string out;
  out.reserve(256 + resp.routes.size() * 128 + resp.docs.size() * 96);
  out += "{\"header\":";
  append_header(out, ex);
  out += ",\"parameters\":";
  if (params->is_object())
    json_fast::append_value(out, *params);
  else
    out += "{}";
  out += ",\"routes\":[";
  append_route(out, "gateway", ex.start_us, ex.end_us, "");
  for (const auto& r : resp.routes) {
    out += ',';
    append_route(out, r.executor, r.start_us, r.end_us, r.status);
  }
  out += "],\"data\":";
  json_fast::append_documents(out, resp.docs.docs().data(), resp.docs.size());
  out += '}';
  return out;
}

std::string encode_error(const caf::error& err, const Exchange& ex) {
  Value body = Value::object();
  body["header"] = header_value(ex, status_value(err));
  body["parameters"] = ex.parameters.is_object() ? ex.parameters : Value::object();
  body["routes"] = Value::Array{route_value("gateway", ex.start_us, ex.end_us, error_message(err))};
  body["data"] = nullptr;
  return to_json(body);
}

int http_status(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return 504;
  if (in_band(err))
    return 200;
  if (!is_caflow(err))
    return 500;
  switch (static_cast<errc>(err.code())) {
    case errc::invalid_json:
    case errc::invalid_argument:
    case errc::dimension_mismatch:
      return 400;
    case errc::not_found:
      return 404;
    case errc::overloaded:
    case errc::unavailable:
      return 503;
    case errc::timeout:
      return 504;
    default:
      return 500;
  }
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601(int64_t us) {
  // Computed from the calendar, not gmtime_r + snprintf: those take glibc's
  // time zone lock and parse a format, for two stamps per route of every
  // answer.
  using namespace std::chrono;
  sys_time<microseconds> t{microseconds{us}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  auto year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    // Out of the four-digit range: the general formatter.
    auto secs = static_cast<std::time_t>(floor<seconds>(t).time_since_epoch().count());
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>((t - floor<seconds>(t)).count()));
    return buf;
  }
  hh_mm_ss<microseconds> hms{t - day};
  char buf[] = "0000-00-00T00:00:00.000000Z";
  auto put = [&buf](size_t at, size_t width, long long v) {
    for (size_t i = at + width; i > at; v /= 10)
      buf[--i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, year);
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, hms.hours().count());
  put(14, 2, hms.minutes().count());
  put(17, 2, hms.seconds().count());
  put(20, 6, hms.subseconds().count());
  return {buf, sizeof buf - 1};
}

// ---- the client's side -------------------------------------------------------

std::string encode_post(std::string_view endpoint, const Document* first, size_t count,
                        const Params& parameters, std::string_view target_executor) {
  std::string out;
  out.reserve(128 + count * 96);
  out += "{\"exec_endpoint\":";
  json_fast::append_string(out, endpoint);
  out += ",\"parameters\":";
  if (parameters.is_object())
    json_fast::append_value(out, parameters);
  else
    out += "{}";
  if (!target_executor.empty()) {
    out += ",\"target_executor\":";
    json_fast::append_string(out, target_executor);
  }
  out += ",\"data\":";
  json_fast::append_documents(out, first, count);
  out += '}';
  return out;
}

std::string encode_post(std::string_view endpoint, const DocumentArray& docs,
                        const Params& parameters, std::string_view target_executor) {
  return encode_post(endpoint, docs.docs().data(), docs.size(), parameters, target_executor);
}

caf::expected<DecodedResponse> decode_response(std::string_view body) {
  Value rest;
  std::optional<std::vector<Document>> fast_docs;
  bool fast = json_fast::parse_envelope(body, rest, fast_docs);
  caf::expected<Value> parsed{Value{}};
  if (fast) {
    parsed = std::move(rest);
  } else {
    parsed = parse_json(body);
    if (!parsed)
      return make_error(errc::invalid_json,
                        "malformed JSON in response body: " + error_message(parsed.error()));
    if (!parsed->is_object())
      return make_error(errc::invalid_json, "response body: expected a JSON object");
  }
  // Jina answers an executor's failure with 200 and header.status ERROR.
  if (auto* header = parsed->find("header"); header && header->is_object())
    if (auto* st = header->find("status"); st && st->is_object())
      if (auto* code = st->find("code"); code && code->is_number() && code->as_int() != 0) {
        std::string name;
        if (auto* e = st->find("exception"); e && e->is_object())
          name = e->get_string("name", "");
        return error_named(name, st->get_string("description", "the flow reported an error"));
      }
  DecodedResponse out;
  if (fast) {
    if (fast_docs)
      out.docs = DocumentArray(std::move(*fast_docs));
  } else if (auto* data = member(*parsed, {"data"})) {
    auto docs = to_documents(*data, "data");
    if (!docs)
      return std::move(docs.error());
    out.docs = std::move(*docs);
  }
  if (auto* p = member(*parsed, {"parameters"}); p != nullptr && p->is_object()) {
    out.parameters = *p;
    detail::take_shard_failures(out.parameters, out);
  }
  return out;
}

caf::error error_from_reply(int status, std::string_view body) {
  std::string description;
  std::string name;
  if (auto parsed = parse_json(body); parsed && parsed->is_object())
    if (auto* header = parsed->find("header"); header && header->is_object())
      if (auto* st = header->find("status"); st && st->is_object()) {
        description = st->get_string("description", "");
        if (auto* ex = st->find("exception"); ex && ex->is_object())
          name = ex->get_string("name", "");
      }
  if (description.empty())
    description = std::string{body.substr(0, 200)};
  auto message = "HTTP " + std::to_string(status) + ": " + description;
  if (auto code = errc_named(name))
    return make_error(*code, std::move(message));
  switch (status) {
    case 400:
    case 405:
    case 413:
      return make_error(errc::invalid_argument, std::move(message));
    case 404:
      return make_error(errc::not_found, std::move(message));
    case 503:
      return make_error(errc::unavailable, std::move(message));
    case 504:
      return make_error(errc::timeout, std::move(message));
    default:
      return make_error(errc::executor_failed, std::move(message));
  }
}

}  // namespace caflow::http
