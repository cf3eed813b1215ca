// `caflow flow` as a child process on a free port, driven through HTTP, the
// C++ client and `caflow post` / `caflow ping`.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "daemon/daemon_fixture.hpp"
#include "daemon/process.hpp"

using namespace caflow;
using namespace caflow::testing;
namespace fs = std::filesystem;

TEST_CASE("caflow flow serves index and search over HTTP, the client and caflow post") {
  Scratch scratch;
  Daemon daemon{scratch.config()};
  CHECK(daemon.process->output().find("replicas 2 x shards 1") != std::string::npos);
  CHECK(run({cli, "ping", daemon.address()}).code == 0);

  // Index half the corpus with caflow post, half with the C++ client.
  auto corpus = read_docs(scratch.dir / "corpus.jsonl");
  DocumentArray first;
  DocumentArray second;
  for (size_t i = 0; i < corpus.size(); ++i)
    (i < 150 ? first : second).push_back(corpus[i]);
  {
    auto out = JsonlWriter::create((scratch.dir / "first.jsonl").string());
    REQUIRE(out);
    REQUIRE_FALSE(out->write(first));
    REQUIRE_FALSE(out->flush());
  }
  auto posted = run({cli, "post", "/index", "--port", std::to_string(daemon.port), "--input",
                     (scratch.dir / "first.jsonl").string(), "--request-size", "16", "--output",
                     (scratch.dir / "indexed.jsonl").string()});
  REQUIRE_MESSAGE(posted.code == 0, posted.output);
  CHECK(read_docs(scratch.dir / "indexed.jsonl").size() == 150);

  Client client{daemon.host, daemon.port};
  auto indexed = client.post("/index", second, {.request_size = 20, .prefetch = 4});
  REQUIRE_MESSAGE(indexed, describe(indexed));
  CHECK(indexed->docs.size() == 150);
  CHECK(count(client) == 300);

  // Search through the client: each query finds documents of its topic.
  DocumentArray queries;
  queries.emplace_back().text = "linux kernel driver";
  queries.emplace_back().text = "vacation prize winner";
  auto found = client.post("/search", queries, {.parameters = Value{{"top_k", 5}}});
  REQUIRE_MESSAGE(found, describe(found));
  REQUIRE(found->docs.size() == 2);
  for (size_t q = 0; q < 2; ++q) {
    REQUIRE(found->docs[q].matches.size() == 5);
    for (const auto& m : found->docs[q].matches)
      CHECK(m.tags.get_int("topic", -1) == (q == 0 ? 0 : 3));
  }

  // The same search with caflow post --text, as JSON Lines on a pipe.
  auto cli_found = run({cli, "post", "/search", "--port", std::to_string(daemon.port), "--text",
                        "cheap pills offer", "--top-k", "3"});
  REQUIRE_MESSAGE(cli_found.code == 0, cli_found.output);
  auto doc = parse_document(cli_found.output.substr(0, cli_found.output.find('\n')));
  REQUIRE_MESSAGE(doc, cli_found.output);
  REQUIRE(doc->matches.size() == 3);
  CHECK(doc->matches[0].tags.get_int("topic", -1) == 1);

  // Raw HTTP, as curl or Jina's client sends it.
  auto raw = client.request(
    "POST", "/post",
    R"({"execEndpoint": "/search", "data": [{"text": "python feed parser"}],)"
    R"( "parameters": {"top_k": 2}})");
  REQUIRE(raw);
  CHECK(raw->status == 200);
  auto body = parse_json(raw->body);
  REQUIRE(body);
  CHECK(to_json(*body).find("doc-") != std::string::npos);

  CHECK(daemon.stop() == 0);
  CHECK(daemon.process->output().find("stopped") != std::string::npos);
  CHECK(run({cli, "ping", daemon.address(), "--timeout", "1"}).code == 1);
}

TEST_CASE("SIGTERM during a stream of posts loses no acknowledged document") {
  Scratch scratch;
  auto config = scratch.config();
  std::vector<std::string> acked;
  {
    Daemon daemon{config};
    Client client{daemon.host, daemon.port};
    std::atomic<bool> stop{false};
    std::thread writer{[&] {
      for (int i = 0; !stop && i < 100000; ++i) {
        DocumentArray batch;
        for (int j = 0; j < 5; ++j) {
          auto& d = batch.emplace_back();
          d.id = "w" + std::to_string(i) + "-" + std::to_string(j);
          d.text = "linux kernel stream " + std::to_string(i);
        }
        auto result = client.post("/index", batch, {.request_size = 5, .prefetch = 1});
        if (!result)
          break;  // the daemon is going away
        for (const auto& d : batch)
          acked.push_back(d.id);
      }
    }};
    std::this_thread::sleep_for(1500ms);
    CHECK(daemon.stop(SIGTERM) == 0);
    stop = true;
    writer.join();
  }
  REQUIRE(acked.size() > 0);
  MESSAGE("acknowledged before SIGTERM: " << acked.size());
  Daemon again{config};
  Client client{again.host, again.port};
  CHECK(count(client) == static_cast<int64_t>(acked.size()));
  DocumentArray ids;
  for (const auto& id : acked)
    ids.emplace_back().id = id;
  auto fetched = client.post("/fetch", ids, {.request_size = 200});
  REQUIRE_MESSAGE(fetched, describe(fetched));
  const auto* not_found = fetched->parameters.find("not_found");
  CHECK((not_found == nullptr || not_found->size() == 0));
  CHECK(fetched->docs.size() == acked.size());
  CHECK(again.stop() == 0);
}

TEST_CASE("caflow ping fails when nothing listens, and a bad config names file, line and key") {
  CHECK(run({cli, "ping", "127.0.0.1:1", "--timeout", "1"}).code == 1);
  Scratch scratch;
  auto bad = scratch.dir / "bad.yml";
  std::ofstream{bad} << "jtype: Flow\nexecutors:\n  - name: x\n    uses: NoOp\n    replicas: -2\n";
  auto result = run({cli, "flow", bad.string(), "--port", "0"});
  CHECK(result.code != 0);
  CHECK_MESSAGE(result.output.find("bad.yml:5") != std::string::npos, result.output);
  CHECK_MESSAGE(result.output.find("replicas") != std::string::npos, result.output);
}

TEST_CASE("a plugin named with --plugin loads and serves") {
  Scratch scratch;
  auto config = scratch.dir / "plugin.yml";
  std::ofstream{config} << "jtype: Flow\nexecutors:\n  - name: stats\n    uses: TextStats\n";
  Daemon daemon{config, {"--plugin", CAFLOW_TEXT_STATS_PLUGIN}};
  Client client{daemon.host, daemon.port};
  DocumentArray docs;
  docs.emplace_back().text = "three little words";
  auto result = client.post("/stats", docs);
  REQUIRE_MESSAGE(result, describe(result));
  CHECK(result->parameters.get_int("words", -1) == 3);
  CHECK(daemon.stop(SIGINT) == 0);

  auto missing = run({cli, "flow", config.string(), "--port", "0", "--plugin",
                      (scratch.dir / "libnope.so").string()});
  CHECK(missing.code != 0);
  CHECK(missing.output.find("libnope.so") != std::string::npos);
}

TEST_CASE("a node joins caflow flow's cluster port and POST /scale places replicas on it") {
  Scratch scratch;
  auto config = scratch.dir / "scale.yml";
  std::ofstream{config} << "jtype: Flow\nexecutors:\n  - name: tagger\n    uses: NoOp\n";
  Daemon daemon{config, {"--cluster-port", std::to_string(free_port())}};
  auto cluster_line = daemon.process->output();
  std::smatch m;
  REQUIRE_MESSAGE(
    std::regex_search(cluster_line, m, std::regex{R"(cluster +127\.0\.0\.1:([0-9]+))"}),
    cluster_line);
  auto cluster = "127.0.0.1:" + m[1].str();
  CHECK(cluster_line.find("executor  tagger  NoOp  replicas 1 x shards 1  on local")
        != std::string::npos);

  Process node{{cli, "node", "--port", "0", "--workspace", (scratch.dir / "node").string(),
                "--join", cluster}};
  REQUIRE_MESSAGE(node.wait_for("joined the flow", 30s), node.output());

  Client client{daemon.host, daemon.port};
  auto scaled = client.request("POST", "/scale", R"({"executor": "tagger", "replicas": 2})");
  REQUIRE(scaled);
  CHECK_MESSAGE(scaled->status == 200, scaled->body);
  CHECK_MESSAGE(node.wait_for("hosting tagger/shard-0/replica-1", 30s), node.output());
  DocumentArray docs;
  for (int i = 0; i < 20; ++i)
    docs.emplace_back().text = "x";
  auto posted = client.post("/index", docs, {.request_size = 1, .prefetch = 4});
  REQUIRE_MESSAGE(posted, describe(posted));
  CHECK(posted->docs.size() == 20);

  auto unknown = client.request("POST", "/scale", R"({"executor": "nope", "replicas": 2})");
  REQUIRE(unknown);
  CHECK(unknown->status >= 400);
  CHECK(unknown->body.find("nope") != std::string::npos);
  auto bad = client.request("POST", "/scale", R"({"executor": "tagger"})");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(daemon.stop() == 0);
}
