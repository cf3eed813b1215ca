// A catalogue of malformed requests against a real flow (NoOp, then an
// Indexer of 4-dimensional dense embeddings) behind the HTTP gateway: each
// gets its 4xx with a JSON message naming the problem, slow or silent
// clients are cut off without blocking others, and afterwards the flow still
// answers correctly and stored nothing from the bad requests. Cases that
// once crashed or hung the server stay here as regressions (marked so).
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/json.hpp"
#include "caflow/server.hpp"
#include "http/metrics.hpp"
#include "http/raw_socket.hpp"

using namespace caflow;
using namespace caflow::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr size_t body_limit = 256 * 1024;

// The flow and its server, with a workspace that is removed afterwards.
struct Served {
  fs::path dir;
  std::optional<RunningFlow> flow;
  std::unique_ptr<HttpServer> server;

  Served() {
    dir = fs::temp_directory_path() / ("caflow-bad-input-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    REQUIRE(ExecutorRegistry::instance().stateful("Indexer"));
    Flow description{FlowOptions{.workspace = dir.string()}};
    description.add({.name = "noop", .uses = "NoOp"}).add({.name = "indexer", .uses = "Indexer"});
    auto running = description.start();
    REQUIRE_MESSAGE(running, describe(running));
    flow.emplace(std::move(*running));
    // A short idle timeout so that slow and silent clients are cut off
    // within the test's bounded waits; a request timeout so that a hang in
    // the flow shows as 504 instead of a stuck test.
    // Small limits so that the catalogue can reach each of them cheaply.
    auto s = HttpServer::start(*flow, {.body_limit = body_limit,
                                       .request_timeout = 20s,
                                       .idle_timeout = 1500ms,
                                       .max_docs = 50,
                                       .max_top_k = 100,
                                       .max_matches = 1000,
                                       .max_response_bytes = 64 * 1024});
    REQUIRE_MESSAGE(s, describe(s));
    server = std::move(*s);
  }
  ~Served() {
    server.reset();
    flow.reset();
    fs::remove_all(dir);
  }
  Client client() const { return Client{"127.0.0.1", server->port(), {.timeout = 20s}}; }
};

// The message of an error answer: header.status.description, or "" when
// the body is not the JSON error shape (which fails the caller's check).
std::string description(const std::string& body) {
  auto v = parse_json(body);
  if (!v || !v->is_object())
    return "";
  const auto* header = v->find("header");
  const auto* status = header ? header->find("status") : nullptr;
  return status ? status->get_string("description", "") : "";
}

std::string post_body(const std::string& endpoint, const std::string& data,
                      const std::string& params = "{}") {
  return R"({"execEndpoint": ")" + endpoint + R"(", "data": )" + data + R"(, "parameters": )"
         + params + "}";
}

struct Case {
  const char* name;
  std::string target;
  std::string body;
  int status;
  std::string says;  // a part of the message that names the problem
};

std::vector<Case> json_cases() {
  const std::string q = R"([{"embedding": [1, 0, 0, 0]}])";
  auto many = [](int n, const std::string& doc) {
    std::string out = "[";
    for (int i = 0; i < n; ++i)
      out += (i ? "," : "") + doc;
    return out + "]";
  };
  auto target = [](const std::string& t) {
    return R"({"execEndpoint": "/index", "data": [{"id": "tx"}], "targetExecutor": ")" + t
           + R"("})";
  };
  return {
    // Regression: 20,000 nested parentheses overflowed std::regex's stack in
    // the gateway (exit 139); the pattern is now bounded (runtime/target_match).
    {"targetExecutor of 20,000 nested parentheses", "/post",
     target(std::string(20000, '(') + "noop" + std::string(20000, ')')), 400, "longer than 256"},
    {"targetExecutor that is not a regex", "/post", target("(noop"), 400,
     "valid regular expression"},
    {"targetExecutor nested past ICU's depth", "/post",
     target(std::string(110, '(') + "noop" + std::string(110, ')')), 400, "regular expression"},
    {"targetExecutor as a regex", "/post",
     R"({"execEndpoint": "/search", "data": [], "targetExecutor": "no+p"})", 200, ""},
    // Regression: top_k was the shard's business, so 1.5 and "abc" failed
    // each shard and answered 500 with several; refused at the door now.
    {"top_k: 1.5", "/post", post_body("/search", q, R"({"top_k": 1.5})"), 400, "top_k"},
    {"top_k: \"abc\"", "/post", post_body("/search", q, R"({"top_k": "abc"})"), 400, "top_k"},
    {"top_k: true", "/post", post_body("/search", q, R"({"top_k": true})"), 400, "top_k"},
    {"top_k: [3]", "/post", post_body("/search", q, R"({"top_k": [3]})"), 400, "top_k"},
    {"top_k: 3.0 (Jina's clients send floats)", "/post",
     post_body("/search", q, R"({"top_k": 3.0})"), 200, ""},
    {"top_k: null (the default)", "/post", post_body("/search", q, R"({"top_k": null})"), 200, ""},
    // Regression: 80 queries x top_k 100,000 ran the daemon out of memory
    // (std::bad_alloc, 3.5 GB resident, http_in_flight stuck at 1).
    {"top_k over max_top_k", "/post", post_body("/search", q, R"({"top_k": 100000})"), 400,
     "max_top_k"},
    {"queries x top_k over max_matches", "/post",
     post_body("/search", many(20, R"({"embedding": [1, 0, 0, 0]})"), R"({"top_k": 100})"), 400,
     "max_matches"},
    {"documents over max_docs", "/post", post_body("/index", many(51, R"({"text": "x"})")), 413,
     "51 documents"},
    {"an answer over max_response_bytes", "/post",
     post_body("/no-such-endpoint", R"([{"text": ")" + std::string(100000, 'y') + R"("}])"), 400,
     "max_response_bytes"},
    // A gzip file posted as is (curl --data-binary @docs.json.gz) was
    // "invalid UTF-8"; a byte order mark was a bare "syntax error".
    {"gzip magic bytes without Content-Encoding", "/post",
     std::string{"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10}, 415, "gzip"},
    {"UTF-16 body", "/post", std::string{"\xff\xfe{\0}\0", 6}, 415, "UTF-16"},
    {"UTF-8 byte order mark, then a search", "/post",
     "\xEF\xBB\xBF" + post_body("/search", q, R"({"top_k": 1})"), 200, ""},
    {"a byte order mark alone", "/post", "\xEF\xBB\xBF", 400, "JSON"},
    // POST /scale is bounded like `caflow scale` and the cluster port.
    {"scale to -1 replicas", "/scale", R"({"executor": "noop", "replicas": -1})", 400,
     "from 1 to 1024"},
    {"scale to 4294967295 replicas", "/scale", R"({"executor": "noop", "replicas": 4294967295})",
     400, "from 1 to 1024"},
    {"scale to 2.5 replicas", "/scale", R"({"executor": "noop", "replicas": 2.5})", 400,
     "replicas"},
    {"scale to \"3\" replicas", "/scale", R"({"executor": "noop", "replicas": "3"})", 400,
     "replicas"},
    {"scale without an executor", "/scale", R"({"replicas": 2})", 400, "executor"},
    {"truncated JSON", "/post", R"({"data": [{"text": "a"})", 400, "malformed JSON"},
    {"empty body", "/post", "", 400, "JSON"},
    {"top level is an array", "/post", "[]", 400, "object"},
    {"data: 5", "/post", R"({"execEndpoint": "/index", "data": 5})", 400, "data"},
    {"data: [5]", "/post", R"({"execEndpoint": "/index", "data": [5]})", 400, "data[0]"},
    {"parameters: []", "/post", post_body("/search", q, "[]"), 400, "parameters"},
    {"execEndpoint: 7", "/post", R"({"execEndpoint": 7, "data": []})", 400, "execEndpoint"},
    {"top_k: 1e400", "/post", post_body("/search", q, R"({"top_k": 1e400})"), 400, "out of range"},
    {"top_k: 99999999999999999999", "/post",
     post_body("/search", q, R"({"top_k": 99999999999999999999})"), 400, "top_k"},
    {"top_k: -1", "/post", post_body("/search", q, R"({"top_k": -1})"), 400, "top_k"},
    {"top_k: \"ten\"", "/post", post_body("/search", q, R"({"top_k": "ten"})"), 400, "top_k"},
    {"100,000 '['", "/post", std::string(100000, '['), 400, "too deep"},
    {"100,000 '[' in data", "/post",
     R"({"execEndpoint": "/index", "data": )" + std::string(100000, '['), 400, "too deep"},
    {"index: embedding of dimension 3", "/post",
     post_body("/index", R"([{"id": "bad3", "embedding": [1, 2, 3]}])"), 400, "dimension"},
    {"search: embedding of dimension 5", "/post",
     post_body("/search", R"([{"embedding": [1, 2, 3, 4, 5]}])"), 400, "dimension"},
    {"embedding with \"NaN\" as a string", "/post",
     post_body("/index", R"([{"id": "nan1", "embedding": ["NaN", 0, 0, 0]}])"), 400,
     "embedding[0]"},
    {"embedding with a bare NaN", "/post",
     post_body("/index", R"([{"id": "nan2", "embedding": [NaN, 0, 0, 0]}])"), 400,
     "malformed JSON"},
    {"embedding with a bare Infinity", "/post",
     post_body("/index", R"([{"id": "inf1", "embedding": [Infinity, 0, 0, 0]}])"), 400,
     "malformed JSON"},
    // Regression: 1e400 was stored as infinity and then came first in every
    // search; numbers beyond double range are now refused by the parser,
    // and beyond float range in embeddings with the element named
    // (src/json/json_value.cpp, json_embedding.cpp, json_document.cpp).
    {"embedding with 1e400", "/post",
     post_body("/index", R"([{"id": "inf2", "embedding": [1e400, 0, 0, 0]}])"), 400,
     "out of range"},
    {"search with 1e400", "/post", post_body("/search", R"([{"embedding": [0, 1e400, 0, 0]}])"),
     400, "out of range"},
    {"embedding with 1e39", "/post",
     post_body("/index", R"([{"id": "inf3", "embedding": [0, 0, 1e39, 0]}])"), 400, "embedding[2]"},
    {"unknown route", "/nope", post_body("/index", "[]"), 404, "/nope"},
    {"unknown targetExecutor", "/post",
     R"({"execEndpoint": "/index", "data": [{"id": "t"}], "targetExecutor": "nobody"})", 404,
     "nobody"},
    {"targetExecutor: []", "/post",
     R"({"execEndpoint": "/index", "data": [], "targetExecutor": []})", 400, "targetExecutor"},
    // Not errors, as in Jina: an empty batch, and an endpoint no executor
    // binds (the Indexer's "*" passes documents through). Pinned here so
    // that they stay harmless: the final /count shows they stored nothing.
    {"empty batch to /index", "/post", post_body("/index", "[]"), 200, ""},
    {"empty batch to /search", "/post", post_body("/search", "[]", R"({"top_k": 3})"), 200, ""},
    {"unknown endpoint", "/post", post_body("/no-such-endpoint", R"([{"id": "u"}])"), 200, ""},
    {"oversized body", "/post",
     post_body("/index", R"([{"text": ")" + std::string(body_limit, 'x') + R"("}])"), 413,
     std::to_string(body_limit)},
    {"embedding with 1e39 (float overflow)", "/post",
     post_body("/index", R"([{"id": "inf3", "embedding": [0, 0, 1e39, 0]}])"), 400, "embedding[2]"},
    // The parser said only "syntax error" (src/http/jina_codec.cpp).
    {"invalid UTF-8 in a string", "/post",
     post_body("/index", "[{\"id\": \"utf\", \"text\": \"\xff\xfe\xc3\"}]"), 400,
     "invalid UTF-8 at byte 59"},
  };
}

// Raw bytes that no HTTP library would send, with the status expected.
struct RawCase {
  const char* name;
  std::string bytes;
  int status;
  const char* says;
};

std::vector<RawCase> raw_cases() {
  std::string flood = "GET /status HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i)
    flood += "X-Flood-" + std::to_string(i) + ": " + std::string(40, 'a') + "\r\n";
  flood += "\r\n";
  return {
    {"bad Content-Length", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400,
     "Content-Length"},
    {"negative Content-Length", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400,
     "Content-Length"},
    {"two Content-Lengths",
     "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400,
     "Content-Length"},
    {"garbage request line", "HELLO THERE\r\n\r\n", 400, "malformed HTTP"},
    {"header flood", flood, 400, "header"},
    {"Content-Encoding: gzip",
     "POST /post HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}", 415,
     "Content-Encoding 'gzip'"},
    {"Content-Encoding: identity is no encoding",
     "POST /post HTTP/1.1\r\nHost: x\r\nContent-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}",
     200, ""},
    {"Content-Encoding: br on /index",
     "POST /index HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}", 415,
     "uncompressed"},
  };
}

// Sends one header byte per 50 ms for up to `limit`; true when the server
// cut the connection off before the header was complete.
bool slowloris(uint16_t port, std::chrono::milliseconds limit) {
  RawSocket s{port};
  std::string header = "POST /post HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(400, 'z');
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (char c : header) {
    if (std::chrono::steady_clock::now() > deadline || !s.send(std::string_view{&c, 1}))
      return s.closed_within(5s);
    std::this_thread::sleep_for(50ms);
  }
  return false;  // the whole header went through: nobody cut it off
}

DocumentArray ten_docs() {
  DocumentArray docs;
  for (int i = 0; i < 10; ++i) {
    auto& d = docs.emplace_back();
    d.id = "good" + std::to_string(i);
    d.text = "good document " + std::to_string(i);
    // First component 1: no two of these are parallel, nor parallel to
    // the seed document, so each is its own nearest neighbour by cosine.
    auto x = static_cast<float>(i);
    std::vector<float> v{1.0f, x, 0.5f, 10.0f - x};
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

}  // namespace

TEST_CASE("malformed requests each get a 4xx with a message; the flow serves on") {
  Served s;
  auto client = s.client();
  // Fix the index's dimension at 4 before the catalogue.
  auto first = client.request(
    "POST", "/post", post_body("/index", R"([{"id": "seed", "embedding": [0, 0, 0, 1]}])"));
  REQUIRE(first);
  REQUIRE_MESSAGE(first->status == 200, first->body);

  for (const auto& c : json_cases()) {
    INFO("case: " << std::string{c.name});
    auto reply = client.request("POST", c.target, c.body);
    REQUIRE_MESSAGE(reply, describe(reply));
    CHECK_MESSAGE(reply->status == c.status, reply->body.substr(0, 300));
    auto said = description(reply->body);
    CHECK_MESSAGE(said.find(c.says) != std::string::npos, "message: " << said);
  }

  for (const auto& c : raw_cases()) {
    INFO("raw case: " << std::string{c.name});
    RawSocket raw{s.server->port()};
    raw.send(c.bytes);
    auto reply = raw.read_reply(10s);
    REQUIRE_MESSAGE(reply, "no answer");
    CHECK(reply->status == c.status);
    auto said = description(reply->body);
    CHECK_MESSAGE(said.find(c.says) != std::string::npos, "message: " << said);
    if (c.status == 400)
      CHECK(raw.closed_within(10s));  // a framing error ends the connection
  }

  {
    INFO("partial headers, then the client half-closes: closed without an answer");
    RawSocket raw{s.server->port()};
    raw.send("POST /post HTTP/1.1\r\nHost: x\r\nContent-Le");
    raw.shutdown_send();
    CHECK(raw.closed_within(10s));
  }
  {
    INFO("a body shorter than its Content-Length, then a half-close");
    RawSocket raw{s.server->port()};
    raw.send("POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"data\"");
    raw.shutdown_send();
    CHECK(raw.closed_within(10s));
  }
  {
    INFO("a client that connects and sends nothing is closed after idle_timeout");
    RawSocket raw{s.server->port()};
    CHECK(raw.closed_within(10s));
  }
  {
    INFO("a slowloris client is cut off, and does not block other clients meanwhile");
    std::atomic<bool> cut{false};
    std::thread slow{[&] { cut = slowloris(s.server->port(), 15s); }};
    std::this_thread::sleep_for(200ms);  // let it start trickling
    for (int i = 0; i < 5; ++i) {
      auto other = s.client();
      auto st = other.request("GET", "/status");
      REQUIRE(st);
      CHECK(st->status == 200);
    }
    slow.join();
    CHECK(cut);
  }

  // No refused or failed request is left in flight.
  CHECK(s.server->metrics().in_flight() == 0);
  auto status = client.status();
  REQUIRE(status);
  CHECK(status->get_int("http_in_flight", -1) == 0);

  // The flow still answers correctly, and no bad request stored anything.
  auto docs = ten_docs();
  auto indexed = client.post("/index", docs);
  REQUIRE_MESSAGE(indexed, describe(indexed));
  CHECK(indexed->docs.size() == 10);
  auto counted = client.post("/count", {});
  REQUIRE_MESSAGE(counted, describe(counted));
  CHECK(counted->parameters.get_int("count", -1) == 11);
  DocumentArray queries;
  for (const auto& d : docs)
    queries.emplace_back().embedding = d.embedding;
  auto found = client.post("/search", queries, {.parameters = Params{{"top_k", 3}}});
  REQUIRE_MESSAGE(found, describe(found));
  REQUIRE(found->docs.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    REQUIRE_FALSE(found->docs[i].matches.empty());
    CHECK(found->docs[i].matches[0].id == docs[i].id);
  }
}

// Regression (#14.9): a deterministic input error from shards was answered
// 503 "1 shard(s) failed" under PARTITION (which tells clients to retry) and
// 500 "every shard failed" under ALL; it is the client's error: 400.
TEST_CASE("input errors from several shards answer 400, not 503 or 500") {
  auto dir = fs::temp_directory_path() / ("caflow-bad-shards-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    Flow sharded{FlowOptions{.workspace = dir.string()}};
    sharded.add({.name = "indexer",
                 .uses = "Indexer",
                 .shards = 2,
                 .polling = {{"/index", "PARTITION"}, {"*", "ALL"}}});
    auto flow = sharded.start();
    REQUIRE_MESSAGE(flow, describe(flow));
    auto server = HttpServer::start(*flow, {.request_timeout = 20s});
    REQUIRE_MESSAGE(server, describe(server));
    Client client{"127.0.0.1", (*server)->port(), {.timeout = 20s, .retries = 0}};
    // Both shards learn dimension 4 (ids spread over both by their hash).
    std::string docs = "[";
    for (int i = 0; i < 16; ++i)
      docs += std::string{i ? "," : ""} + R"({"id": "d)" + std::to_string(i)
              + R"(", "embedding": [1, 0, 0, 1]})";
    auto seeded = client.request("POST", "/post", post_body("/index", docs + "]"));
    REQUIRE(seeded);
    REQUIRE_MESSAGE(seeded->status == 200, seeded->body);

    struct ShardCase {
      const char* name;
      std::string body;
      const char* says;
    };
    std::vector<ShardCase> cases{
      {"ALL: a query of dimension 5 fails on every shard",
       post_body("/search", R"([{"embedding": [1, 2, 3, 4, 5]}])"), "dimension"},
      {"PARTITION: a document of dimension 3 fails on its shard",
       post_body("/index", R"([{"id": "bad", "embedding": [1, 2, 3]}])"), "dimension"},
      {"PARTITION: documents of dimension 3 on both shards",
       post_body("/index", R"([{"id": "b1", "embedding": [1, 2, 3]}, {"id": "b2", "embedding": )"
                           R"([1, 2, 3]}, {"id": "b3", "embedding": [1, 2, 3]}, {"id": "b4", )"
                           R"("embedding": [1, 2, 3]}])"),
       "dimension"},
      // Checked whole before any shard commits (#14.9): the good documents
      // on the other shard are not written either.
      {"PARTITION: good documents on both shards and one of dimension 3",
       post_body("/index",
                 R"([{"id": "g0", "embedding": [1, 0, 0, 1]}, {"id": "g1", )"
                 R"("embedding": [1, 0, 0, 1]}, {"id": "g2", "embedding": [1, 0, 0, 1]}, )"
                 R"({"id": "g3", "embedding": [1, 0, 0, 1]}, {"id": "g4", "embedding": )"
                 R"([1, 0, 0, 1]}, {"id": "g5", "embedding": [1, 0, 0, 1]}, {"id": )"
                 R"("bad9", "embedding": [1, 2, 3]}])"),
       "nothing written"},
    };
    for (const auto& c : cases) {
      INFO(c.name);
      auto reply = client.request("POST", "/post", c.body);
      REQUIRE(reply);
      CHECK_MESSAGE(reply->status == 400, reply->body.substr(0, 300));
      CHECK(reply->retry_after.empty());
      CHECK(description(reply->body).find(c.says) != std::string::npos);
    }
    auto counted = client.post("/count", {});
    REQUIRE_MESSAGE(counted, describe(counted));
    CHECK(counted->parameters.get_int("count", -1) == 16);
    DocumentArray good;
    for (int i = 0; i < 6; ++i)
      good.emplace_back().id = "g" + std::to_string(i);
    auto found = client.post("/fetch", good);
    REQUIRE_MESSAGE(found, describe(found));
    CHECK(found->docs.size() == 0);
  }
  fs::remove_all(dir);
}
