#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
namespace fs = std::filesystem;

namespace {

class YamlTestEcho : public Executor {
 public:
  explicit YamlTestEcho(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(YamlTestEcho);

class YamlTestIndexer : public Executor {
 public:
  explicit YamlTestIndexer(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(YamlTestIndexer);

// A directory of its own per test, removed afterwards, with config files in it.
struct TempDir : test::TempWorkspace {
  std::string write(const std::string& text, const std::string& name = "flow.yml") const {
    auto file = (path / name).string();
    std::ofstream{file} << text;
    return file;
  }
};

caf::error load_and_validate(const TempDir& tmp, const std::string& yaml, std::string& path) {
  path = tmp.write(yaml);
  auto flow = Flow::load(path);
  if (!flow)
    return flow.error();
  return flow->validate();
}

// Checks that `yaml` fails (loading or validating) with `code` and a
// message that starts with its file's path and then `prefix`.
void check_error(const std::string& yaml, const std::string& prefix,
                 errc code = errc::invalid_config) {
  TempDir tmp;
  std::string path;
  auto err = load_and_validate(tmp, yaml, path);
  REQUIRE(err);
  auto message = error_message(err);
  INFO("message: " << message);
  CHECK(is(err, code));
  CHECK(message.rfind(path + prefix, 0) == 0);
}

void check_same(const DeploymentOptions& x, const DeploymentOptions& y) {
  INFO("deployment " << x.name);
  CHECK(x.name == y.name);
  CHECK(x.uses == y.uses);
  CHECK(x.uses_with == y.uses_with);
  CHECK(x.uses_metas == y.uses_metas);
  CHECK(x.workspace == y.workspace);
  CHECK(x.replicas == y.replicas);
  CHECK(x.shards == y.shards);
  CHECK(x.polling.entries() == y.polling.entries());
  CHECK(x.needs == y.needs);
  CHECK(x.timeout == y.timeout);
  CHECK(x.retries == y.retries);
}

}  // namespace

TEST_CASE("a Jina-style flow file loads like the same flow built in code") {
  TempDir tmp;
  auto path = tmp.write(R"(jtype: Flow
version: '1'
with:
  port: 12345
  workspace: ./workspace
executors:
  - name: vectorizer
    uses: YamlTestEcho
    replicas: 2
    uses_with:
      corpus: data/corpus.jsonl
      min_df: 2
      max_df: 0.95
      lowercase: true
  - name: indexer
    uses: YamlTestIndexer
    shards: 2
    polling: {'/index': ANY, '/search': ALL, '*': ALL}
    workspace: ./ws
    needs: vectorizer
    uses_with: {metric: cosine}
    timeout: 5000
    retries: 3
)");
  auto loaded = Flow::load(path);
  REQUIRE_MESSAGE(loaded, describe(loaded));
  CHECK_FALSE(loaded->validate());

  Flow expected{FlowOptions{.port = 12345, .workspace = (tmp.path / "workspace").string()}};
  expected
    .add({.name = "vectorizer",
          .uses = "YamlTestEcho",
          .uses_with
          = {{"corpus", "data/corpus.jsonl"}, {"min_df", 2}, {"max_df", 0.95}, {"lowercase", true}},
          .replicas = 2})
    .add({.name = "indexer",
          .uses = "YamlTestIndexer",
          .uses_with = {{"metric", "cosine"}},
          .workspace = (tmp.path / "ws").string(),
          .shards = 2,
          .polling = {{"/index", "ANY"}, {"/search", "ALL"}, {"*", "ALL"}},
          .needs = {"vectorizer"},
          .timeout = std::chrono::milliseconds{5000},
          .retries = 3});

  const auto& opts = loaded->options();
  CHECK(opts.port == 12345);
  CHECK(opts.protocol == "http");
  CHECK(opts.workspace == expected.options().workspace);
  REQUIRE(loaded->deployments().size() == 2);
  for (size_t i = 0; i < 2; ++i)
    check_same(loaded->deployments()[i], expected.deployments()[i]);

  const auto& origin = loaded->deployments()[1].origin;
  CHECK(origin.file == path);
  CHECK(origin.index == 1);
  CHECK(origin.line == 15);
  CHECK(origin.key_lines.at("name") == 15);
  CHECK(origin.key_lines.at("shards") == 17);
  CHECK(origin.key_lines.at("retries") == 23);
  CHECK(origin.key_lines.at("uses_with.metric") == 21);
  CHECK(loaded->deployments()[0].origin.key_lines.at("uses_with") == 10);
  CHECK(loaded->deployments()[0].origin.key_lines.at("uses_with.max_df") == 13);
}

TEST_CASE("uses as a mapping sets the type, uses_with and uses_metas") {
  auto flow = Flow::parse(R"(executors:
  - name: a
    uses:
      jtype: YamlTestEcho
      with: {k: 1, overridden: from_uses}
      metas: {description: demo}
    uses_with: {overridden: from_uses_with}
    hosts: [node1:4242, node2:4242]
)");
  REQUIRE_MESSAGE(flow, describe(flow));
  const auto& d = flow->deployments().at(0);
  CHECK(d.uses == "YamlTestEcho");
  CHECK(d.uses_with == Value{{"k", 1}, {"overridden", "from_uses_with"}});
  CHECK(d.uses_metas
        == Value{{"description", "demo"},
                 {"hosts", Value::Array{Value{"node1:4242"}, Value{"node2:4242"}}}});
}

TEST_CASE("needs takes a string or a list, and gateway") {
  auto flow = Flow::parse(R"(executors:
  - {name: a, uses: YamlTestEcho}
  - {name: b, uses: YamlTestEcho, needs: gateway}
  - {name: c, uses: YamlTestEcho, needs: [a, b]}
  - {name: d, uses: YamlTestEcho}
)");
  REQUIRE_MESSAGE(flow, describe(flow));
  const auto& ds = flow->deployments();
  CHECK(ds[0].needs.empty());
  CHECK(ds[1].needs == std::vector<std::string>{"gateway"});
  CHECK(ds[2].needs == std::vector<std::string>{"a", "b"});
  CHECK(ds[3].needs.empty());
  CHECK_FALSE(flow->validate());
}

TEST_CASE("YAML scalars in uses_with keep their types") {
  auto flow = Flow::parse(R"(executors:
  - name: a
    uses: YamlTestEcho
    uses_with:
      int: 5
      negative: -3
      hex: 0x10
      float: 0.5
      exp: 1e3
      yes_bool: true
      no_bool: False
      tilde: ~
      empty:
      quoted_int: '5'
      quoted_bool: "true"
      word: cosine
      yes_word: yes
      list: [1, two, 3.5]
      nested: {k: v}
)");
  REQUIRE_MESSAGE(flow, describe(flow));
  const auto& w = flow->deployments().at(0).uses_with;
  CHECK(*w.find("int") == Value{5});
  CHECK(*w.find("negative") == Value{-3});
  CHECK(*w.find("hex") == Value{16});
  CHECK(*w.find("float") == Value{0.5});
  CHECK(*w.find("exp") == Value{1000.0});
  CHECK(*w.find("yes_bool") == Value{true});
  CHECK(*w.find("no_bool") == Value{false});
  CHECK(w.find("tilde")->is_null());
  CHECK(w.find("empty")->is_null());
  CHECK(*w.find("quoted_int") == Value{"5"});
  CHECK(*w.find("quoted_bool") == Value{"true"});
  CHECK(*w.find("word") == Value{"cosine"});
  CHECK(*w.find("yes_word") == Value{"yes"});
  CHECK(*w.find("list") == Value{Value::Array{Value{1}, Value{"two"}, Value{3.5}}});
  CHECK(*w.find("nested") == Value{{"k", "v"}});
}

TEST_CASE("flow settings: protocol, plugins, paths") {
  TempDir tmp;
  auto path = tmp.write(R"(with:
  name: demo
  protocol: HTTP
  plugins: [./plugins/libmine.so, libtheirs.so]
  max_in_flight: 64
executors:
  - name: a
    uses: YamlTestEcho
    workspace: /abs/ws
    timeout_send: -1
)");
  auto flow = Flow::load(path);
  REQUIRE_MESSAGE(flow, describe(flow));
  const auto& o = flow->options();
  CHECK(o.name == "demo");
  CHECK(o.protocol == "http");
  CHECK(o.plugins
        == std::vector<std::string>{(tmp.path / "plugins/libmine.so").string(), "libtheirs.so"});
  CHECK(o.max_in_flight == 64);
  CHECK(flow->deployments()[0].workspace == "/abs/ws");
  CHECK(flow->deployments()[0].timeout == std::chrono::milliseconds{0});
  // Parsed text has no directory: relative paths stay as given.
  auto parsed = Flow::parse("with: {workspace: ./ws}\nexecutors: []\n");
  REQUIRE(parsed);
  CHECK(parsed->options().workspace == "./ws");
  CHECK(parsed->deployments().empty());
}

TEST_CASE("config errors name file, line and key") {
  // Line 7 holds the bad replicas of executors[1].
  const std::string head
    = "executors:\n"              // 1
      "  - name: a\n"             // 2
      "    uses: YamlTestEcho\n"  // 3
      "  - name: b\n"             // 4
      "    uses: YamlTestEcho\n"  // 5
      "    shards: 1\n";          // 6
  for (const char* bad : {"0", "-1", "two", "1.5", "[2]"})
    check_error(head + "    replicas: " + bad + "\n",
                ":7: executors[1].replicas: expected a "
                "positive integer, got ");
  check_error(head + "    replica: 2\n",
              ":7: executors[1].replica: unknown key (did you mean 'replicas'?)");
  check_error(head + "    shards: 0\n", ":7: executors[1].shards: key given twice");
  check_error(head + "  - name: c\n    uses: YamlTestEcho\n    shards: 0\n",
              ":9: executors[2].shards: expected a positive integer, got 0");
  check_error(head + "    uses_with: [1, 2]\n", ":7: executors[1].uses_with: expected a mapping");
  check_error(head + "    needs: nobody\n",
              ":7: executors[1].needs: 'nobody' is no deployment of this flow");
  check_error(head + "    polling: SOME\n",
              ":7: executors[1].polling: unknown polling mode 'SOME'");
  check_error(head + "    polling:\n      /index: ANY\n      /search: SOMETIMES\n",
              ":9: executors[1].polling['/search']: unknown polling mode 'SOMETIMES'");
  check_error(head + "    retries: -2\n",
              ":7: executors[1].retries: expected a non-negative integer, got -2");
  check_error(head + "    timeout: 100\n    timeout_send: 100\n",
              ":8: executors[1].timeout_send: give either timeout or timeout_send");
  check_error(head + "  - name: a\n    uses: YamlTestEcho\n",
              ":7: executors[2].name: 'a' is used twice");
  check_error(head + "  - uses: YamlTestEcho\n", ":7: executors[2].name: is required");
  check_error(head + "  - name: c\n", ":7: executors[2].uses: is required");
  check_error(
    head + "  - name: c\n    uses: Nope\n",
    ":8: executors[2].uses: unknown executor type 'Nope' (known: ", errc::unknown_executor);
  check_error(head + "  - name: c d\n    uses: YamlTestEcho\n",
              ":7: executors[2].name: 'c d' may only hold");
  check_error(head + "  - name: c\n    uses: {with: {k: 1}}\n",
              ":8: executors[2].uses.jtype: is required");
}

TEST_CASE("unknown executor errors list the known types") {
  TempDir tmp;
  std::string path;
  auto err = load_and_validate(tmp, "executors:\n  - {name: a, uses: Nope}\n", path);
  REQUIRE(err);
  CHECK(is(err, errc::unknown_executor));
  CHECK(error_message(err).find("YamlTestEcho") != std::string::npos);
}

TEST_CASE("needs cycles are named") {
  check_error(
    "executors:\n"
    "  - {name: a, uses: YamlTestEcho, needs: b}\n"
    "  - {name: b, uses: YamlTestEcho, needs: a}\n",
    ":2: executors[0].needs: needs cycle: a -> b -> a");
  // b and c follow their predecessors by default; a closes the loop.
  check_error(
    "executors:\n"
    "  - name: a\n"
    "    uses: YamlTestEcho\n"
    "    needs: [gateway, c]\n"
    "  - {name: b, uses: YamlTestEcho}\n"
    "  - {name: c, uses: YamlTestEcho}\n",
    ":4: executors[0].needs: needs cycle: a -> c -> b -> a (a deployment without");
}

TEST_CASE("flow-level errors") {
  check_error("jtype: Deployment\nexecutors: []\n", ":1: jtype: expected 'Flow', got 'Deployment'");
  check_error("jtype: Flow\nexecutor: []\n",
              ":2: executor: unknown key (did you mean 'executors'?)");
  check_error("with:\n  port: 70000\n",
              ":2: with.port: expected an integer in 1..65535, got 70000");
  check_error("with:\n  port: 0\n", ":2: with.port: expected an integer in 1..65535, got 0");
  check_error("with:\n  protocol: soap\n", ":2: with.protocol: unsupported protocol 'soap'");
  check_error("with:\n  protocol: [grpc, http]\n  port: 9000\n",
              ":3: with.port: give one port per protocol: 2 protocols, 1 port");
  check_error("with:\n  protocol: [grpc, GRPC]\n",
              ":2: with.protocol[1]: protocol 'grpc' is given twice");
  check_error("with:\n  protocol: [grpc, http]\n  port: [9000, 9000]\n",
              ":3: with.port[1]: port 9000 is given twice");
  check_error("with:\n  max_in_flight: 0\n", ":2: with.max_in_flight: expected a positive");
  check_error("executors: {a: 1}\n", ":1: executors: expected a list of executors");
  check_error("- just a list\n", ":1: flow: expected a mapping");
}

TEST_CASE("gateways: one protocol, or several with a port each (Jina's lists)") {
  auto one = Flow::parse("with:\n  protocol: GRPC\n  port: 54321\n");
  REQUIRE_MESSAGE(one, describe(one));
  CHECK(one->options().gateways() == std::vector<GatewayOptions>{{"grpc", 54321}});
  auto two = Flow::parse("with:\n  port: [9001, 9002]\n  protocol: [grpc, http]\n");
  REQUIRE_MESSAGE(two, describe(two));
  CHECK(two->options().gateways() == std::vector<GatewayOptions>{{"grpc", 9001}, {"http", 9002}});
  auto defaults = Flow::parse("with:\n  protocol: [http, grpc]\n");
  REQUIRE(defaults);
  CHECK(defaults->options().gateways()
        == std::vector<GatewayOptions>{{"http", 8080}, {"grpc", 8081}});
  auto ws = Flow::parse("with:\n  protocol: [WebSocket, grpc]\n  port: [9003, 9004]\n");
  REQUIRE_MESSAGE(ws, describe(ws));
  CHECK(ws->options().gateways()
        == std::vector<GatewayOptions>{{"websocket", 9003}, {"grpc", 9004}});
  auto none = Flow::parse("with: {name: x}\n");
  REQUIRE(none);
  CHECK(none->options().gateways() == std::vector<GatewayOptions>{{"http", 8080}});
}

TEST_CASE("YAML syntax errors name line and column") {
  check_error("executors:\n  - name: a\n    uses: YamlTestEcho\n   replicas: 2\n",
              ":4:4: end of sequence not found");
  check_error("executors:\n  - name: a\n    uses: [X\n  - name: b\n", ":4:9: ");
}

TEST_CASE("a missing file is an io_error") {
  TempDir tmp;
  auto path = (tmp.path / "missing.yml").string();
  auto flow = Flow::load(path);
  REQUIRE_FALSE(flow);
  CHECK(is(flow.error(), errc::io_error));
  CHECK(error_message(flow.error()) == "cannot open " + path + ": No such file or directory");
  auto dir = Flow::load(tmp.path.string());
  REQUIRE_FALSE(dir);
  CHECK(is(dir.error(), errc::io_error));
}

TEST_CASE("a recursive alias is an error, not a crash") {
  check_error(
    "executors:\n  - name: a\n    uses: YamlTestEcho\n    uses_with:\n"
    "      extra: &x [1, *x]\n",
    ":5: executors[0].uses_with: nested more than 64 levels deep (a recursive alias?)");
  auto shared = Flow::parse(
    "executors:\n  - name: a\n    uses: YamlTestEcho\n    uses_with:\n      e: &a {k: 1}\n"
    "      f: *a\n");
  REQUIRE_MESSAGE(shared, describe(shared));
  CHECK(shared->deployments().at(0).uses_with
        == Value{{"e", Value{{"k", 1}}}, {"f", Value{{"k", 1}}}});
}
