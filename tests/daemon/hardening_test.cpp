// What a new user (or an attacker) tried against the daemons (issue #14):
// numbers that wrapped, a client that gave up at the first 503, a readiness
// probe that blocked /fit, a node that ignored SIGTERM while a flow used it,
// an accept loop that spun when out of file descriptors. Each daemon is a
// child process on loopback; every wait is bounded.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "daemon/daemon_fixture.hpp"
#include "daemon/process.hpp"
#include "http/raw_socket.hpp"

using namespace caflow;
using namespace caflow::testing;
namespace fs = std::filesystem;

namespace {

// A flow of one NoOp deployment, with `with` lines added.
fs::path noop_config(const Scratch& scratch, const std::string& with = "",
                     const std::string& executor_extra = "") {
  auto path = scratch.dir / "noop.yml";
  std::ofstream{path} << "jtype: Flow\n"
                      << (with.empty() ? "" : "with:\n" + with)
                      << "executors:\n  - name: noop\n    uses: NoOp\n"
                      << executor_extra;
  return path;
}

// A daemon started from a config whose banner names "executor  noop".
struct NoopDaemon {
  std::unique_ptr<Process> process;
  uint16_t port = 0;

  explicit NoopDaemon(std::vector<std::string> argv) {
    process = std::make_unique<Process>(std::move(argv));
    auto line = process->wait_for("address", 60s);
    REQUIRE_MESSAGE(line, process->output());
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex{R"(http://[0-9.]+:([0-9]+))"}));
    port = static_cast<uint16_t>(std::stoi(m[1]));
    process->wait_for("executor  noop", 5s);
  }
};

bool said(const RunResult& r, const std::string& what) {
  return r.output.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("every numeric option is range-checked with a clear error (no wrapping)") {
  struct Bad {
    std::vector<std::string> args;
    std::string says;
  };
  // Regression: --replicas -1 became 4294967295 and the flow spun at full
  // CPU; --request-size -1 and --prefetch -5 were accepted.
  std::vector<Bad> cases{
    {{"scale", "127.0.0.1:1", "noop", "--replicas", "-1"}, "--replicas must be from 1 to 1024"},
    {{"scale", "127.0.0.1:1", "noop", "--replicas", "0"}, "--replicas must be from 1"},
    {{"scale", "127.0.0.1:1", "noop", "--replicas", "4294967296"}, "got 4294967296"},
    {{"scale", "127.0.0.1:1", "noop", "--replicas", "2.5"}, "replicas"},
    {{"post", "/index", "--text", "a", "--request-size", "-1"}, "--request-size must be from 1"},
    {{"post", "/index", "--text", "a", "--request-size", "0"}, "--request-size must be from 1"},
    {{"post", "/index", "--text", "a", "--prefetch", "-5"}, "--prefetch must be from 1"},
    {{"post", "/index", "--text", "a", "--port", "-1"}, "--port must be from 1 to 65535"},
    {{"post", "/index", "--text", "a", "--port", "65536"}, "--port must be from 1 to 65535"},
    {{"post", "/search", "--text", "a", "--top-k", "-3"}, "--top-k must be from 0"},
    {{"post", "/index", "--text", "a", "--retries", "-1"}, "--retries must be from 0"},
    {{"post", "/index", "--text", "a", "--request-size", "99999999999999999999"}, "request-size"},
    {{"ping", "127.0.0.1:1", "--timeout", "-1"}, "--timeout must be from"},
    {{"ping", "127.0.0.1:1", "--timeout", "nan"}, "--timeout must be from"},
    {{"ping", "127.0.0.1:1", "--timeout", "inf"}, "--timeout must be from"},
    {{"flow", "x.yml", "--port", "-2"}, "--port must be from -1 to 65535"},
    {{"flow", "x.yml", "--body-limit-mb", "-1"}, "--body-limit-mb must be from 1"},
    {{"flow", "x.yml", "--max-connections", "-1"}, "--max-connections must be from 0"},
    {{"flow", "x.yml", "--idle-timeout", "-1"}, "--idle-timeout must be from 0"},
    {{"flow", "x.yml", "--max-top-k", "-1"}, "--max-top-k must be from 0"},
    {{"flow", "x.yml", "--stop-timeout", "0"}, "--stop-timeout must be from"},
    {{"node", "--port", "-1", "--workspace", "w"}, "--port must be from 0 to 65535"},
    {{"node", "--port", "0", "--workspace", "w", "--stop-timeout", "-4"}, "--stop-timeout"},
  };
  for (auto& c : cases) {
    std::vector<std::string> argv{cli};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    std::string shown;
    for (auto& a : c.args)
      shown += a + " ";
    INFO("caflow " << shown);
    auto r = run(argv, 30s);
    CHECK(r.code == 2);
    CHECK_MESSAGE(said(r, c.says), r.output);
  }
}

TEST_CASE("caflow post retries 503 with back-off and prints what was acknowledged") {
  Scratch scratch;
  // One request in flight at a time, eight clients' worth of requests.
  NoopDaemon daemon{
    {cli, "flow", noop_config(scratch, "  max_in_flight: 1\n").string(), "--port", "0"}};
  {
    std::ofstream out{scratch.dir / "lines.txt"};
    for (int i = 0; i < 400; ++i)
      out << "line " << i << '\n';
  }
  // Regression: the first 503 ended the post with exit 1 after a fraction
  // of the documents.
  auto r = run({cli, "post", "/index", "--port", std::to_string(daemon.port), "--text-file",
                (scratch.dir / "lines.txt").string(), "--request-size", "2", "--prefetch", "8",
                "--retries", "50", "--output", (scratch.dir / "out.jsonl").string()},
               120s);
  CHECK_MESSAGE(r.code == 0, r.output);
  CHECK_MESSAGE(said(r,
                     "400 documents in 200 requests: 200 acknowledged (400 documents), 0 "
                     "failed, 0 not sent"),
                r.output);
  CHECK(read_docs(scratch.dir / "out.jsonl").size() == 400);

  // A request that fails for good (400) is not retried, and the summary says
  // how far the post got.
  auto bad = run({cli, "post", "/search", "--port", std::to_string(daemon.port), "--text", "q",
                  "--parameters", R"({"top_k": "many"})"},
                 60s);
  CHECK(bad.code == 1);
  CHECK_MESSAGE(said(bad, "HTTP 400"), bad.output);
  CHECK_MESSAGE(said(bad, "0 acknowledged (0 documents), 1 failed"), bad.output);
  daemon.process->signal(SIGTERM);
  CHECK(daemon.process->wait(60s) == 0);
}

TEST_CASE("readiness: a vectorizer waiting for /fit is ready, and /fit gets through") {
  Scratch scratch;
  auto config = scratch.dir / "unfitted.yml";
  std::ofstream{config} << "jtype: Flow\nwith:\n  workspace: ws\nexecutors:\n"
                           "  - name: vectorizer\n    uses: TfidfVectorizer\n"
                           "  - name: noop\n    uses: NoOp\n";
  NoopDaemon daemon{{cli, "flow", config.string(), "--port", "0"}};
  auto address = "127.0.0.1:" + std::to_string(daemon.port);
  // Regression: /dry_run sent a request through the unfitted vectorizer,
  // which threw, so the probe failed until /fit, which a probe-gated client
  // never sent.
  auto ping = run({cli, "ping", address, "--timeout", "20"}, 60s);
  CHECK_MESSAGE(ping.code == 0, ping.output);
  Client client{"127.0.0.1", daemon.port, {.timeout = 30s}};
  auto status = client.status();
  REQUIRE(status);
  CHECK(status->get_bool("ready", false));
  auto dry = client.request("GET", "/dry_run");
  REQUIRE(dry);
  CHECK(dry->status == 200);
  DocumentArray corpus;
  for (auto text : {"linux kernel driver", "cheap pills offer", "python feed parser"})
    corpus.emplace_back().text = text;
  auto fit = client.post("/fit", corpus);
  REQUIRE_MESSAGE(fit, describe(fit));
  auto indexed = client.post("/index", corpus);
  REQUIRE_MESSAGE(indexed, describe(indexed));
  CHECK(indexed->docs[0].embedding.dim > 0);
  daemon.process->signal(SIGTERM);
  CHECK(daemon.process->wait(60s) == 0);
}

TEST_CASE(
  "SIGTERM: caflow node exits while a flow uses it; caflow flow exits with its node frozen") {
  Scratch scratch;
  // Node a stops by itself (its bound is far off); node b's flow is bound
  // by --stop-timeout, the only way out while b is frozen.
  auto start_node = [&](const std::string& name, const std::string& stop_timeout) {
    auto node = std::make_unique<Process>(
      std::vector<std::string>{cli, "node", "--port", "0", "--workspace",
                               (scratch.dir / name).string(), "--stop-timeout", stop_timeout});
    auto line = node->wait_for("node ready on ", 30s);
    REQUIRE_MESSAGE(line, node->output());
    return std::make_pair(std::move(node), line->substr(line->find("on ") + 3));
  };
  auto [node_a, addr_a] = start_node("a", "30");
  auto [node_b, addr_b] = start_node("b", "3");
  auto config = scratch.dir / "remote.yml";
  std::ofstream{config} << "jtype: Flow\nexecutors:\n  - name: noop\n    uses: NoOp\n"
                           "    replicas: 2\n    hosts: ["
                        << addr_a << ", " << addr_b << "]\n";
  NoopDaemon flow{{cli, "flow", config.string(), "--port", "0", "--stop-timeout", "3"}};
  REQUIRE(node_a->wait_for("hosting noop", 30s));
  Client client{"127.0.0.1", flow.port, {.timeout = 30s}};
  DocumentArray docs;
  docs.emplace_back().text = "x";
  REQUIRE(client.post("/index", docs));

  // Regression: the node logged "SIGTERM: stopping", then waited for as long
  // as the flow used it (over 10 minutes).
  node_a->signal(SIGTERM);
  auto t0 = std::chrono::steady_clock::now();
  auto code = node_a->wait(60s);
  MESSAGE("caflow node stopped in "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
  REQUIRE_MESSAGE(code, "caflow node ignored SIGTERM: " << node_a->output());
  CHECK_MESSAGE(*code == 0, node_a->output());
  CHECK(node_a->output().find("stopping 1 hosted replica(s)") != std::string::npos);

  // The other node freezes (as a machine that no longer answers would): the
  // flow's stop cannot hear back from it and is bounded by --stop-timeout.
  node_b->signal(SIGSTOP);
  flow.process->signal(SIGTERM);
  auto flow_code = flow.process->wait(30s);
  node_b->signal(SIGCONT);
  REQUIRE_MESSAGE(flow_code, "caflow flow ignored SIGTERM: " << flow.process->output());
  node_b->signal(SIGTERM);
  CHECK(node_b->wait(30s));
}

TEST_CASE("connections: a cap answered 503, an idle timeout, and EMFILE logged once") {
  Scratch scratch;
  SUBCASE("--max-connections and --idle-timeout") {
    NoopDaemon daemon{{cli, "flow", noop_config(scratch).string(), "--port", "0",
                       "--max-connections", "4", "--idle-timeout", "1"}};
    std::vector<std::unique_ptr<RawSocket>> idle;
    for (int i = 0; i < 4; ++i)
      idle.push_back(std::make_unique<RawSocket>(daemon.port));
    // Wait until the server holds all four (each is answered after accept).
    Client probe{"127.0.0.1", daemon.port, {.timeout = 10s, .retries = 0}};
    RawSocket fifth{daemon.port};
    auto reply = fifth.read_reply(10s);
    REQUIRE(reply);
    CHECK(reply->status == 503);
    CHECK(reply->body.find("too many connections") != std::string::npos);
    // The idle ones are closed after --idle-timeout; then requests get through.
    for (auto& s : idle)
      CHECK(s->closed_within(10s));
    auto st = probe.status();
    CHECK_MESSAGE(st, describe(st));
  }
  SUBCASE("out of file descriptors") {
    // A cap above what `ulimit -n 64` allows: accept fails with EMFILE.
    NoopDaemon daemon{{"/bin/sh", "-c",
                       "ulimit -n 64 && exec " + cli + " flow " + noop_config(scratch).string()
                         + " --port 0 --max-connections 1000 --idle-timeout 2"}};
    std::vector<std::unique_ptr<RawSocket>> idle;
    for (int i = 0; i < 80; ++i)
      idle.push_back(std::make_unique<RawSocket>(daemon.port));  // the backlog takes them
    // Regression: the accept loop retried in a tight loop at 96% CPU and
    // logged nothing.
    auto line = daemon.process->wait_for("cannot accept connections", 20s);
    REQUIRE_MESSAGE(line, daemon.process->output());
    CHECK(line->find("Too many open files") != std::string::npos);
    // Once the idle ones time out, the server accepts and answers again.
    idle.clear();
    CHECK(daemon.process->wait_for("accepting connections again", 30s));
    Client client{"127.0.0.1", daemon.port, {.timeout = 20s}};
    auto st = client.status();
    CHECK_MESSAGE(st, describe(st));
    daemon.process->signal(SIGTERM);
    CHECK(daemon.process->wait(30s));
    auto& out = daemon.process->output();
    auto first = out.find("cannot accept connections");
    CHECK(out.find("cannot accept connections", first + 1) == std::string::npos);
  }
}
