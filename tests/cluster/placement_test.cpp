#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "cluster/placement.hpp"

using namespace caflow::detail;

TEST_CASE("place_replicas: shard-major round robin over hosts") {
  auto p = place_replicas({"a:1", "b:2"}, 2, 2);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == std::vector<std::string>{"a:1", "b:2"});
  CHECK(p[1] == std::vector<std::string>{"a:1", "b:2"});
  auto q = place_replicas({"a:1", "b:2", "local"}, 2, 1);
  CHECK(q[0][0] == "a:1");
  CHECK(q[1][0] == "b:2");
  auto one = place_replicas({"a:1"}, 1, 3);
  CHECK(one[0] == std::vector<std::string>{"a:1", "a:1", "a:1"});
}

TEST_CASE("place_replicas: no hosts means local") {
  auto p = place_replicas({}, 2, 1);
  CHECK(p[0][0] == "local");
  CHECK(p[1][0] == "local");
  CHECK(is_local(p[0][0]));
  CHECK(is_local(""));
  CHECK_FALSE(is_local("a:1"));
}

TEST_CASE("parse_node_address") {
  auto a = parse_node_address("127.0.0.1:4242");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 4242);
  for (auto bad : {"4242", ":4242", "host:", "host:0", "host:70000", "host:42x"}) {
    auto b = parse_node_address(bad);
    REQUIRE_FALSE(b);
    CHECK(caflow::is(b.error(), caflow::errc::invalid_argument));
    CHECK(caflow::error_message(b.error()).find(bad) != std::string::npos);
  }
}

TEST_CASE("pick_least_loaded: fewest hosted, ties to the first, skips unavailable") {
  CHECK_FALSE(pick_least_loaded({}));
  CHECK(*pick_least_loaded({{"a", 2, true}, {"b", 1, true}, {"c", 1, true}}) == 1);
  CHECK(*pick_least_loaded({{"a", 0, false}, {"b", 3, true}}) == 1);
  CHECK_FALSE(pick_least_loaded({{"a", 0, false}}));
}

#include "caflow/flow.hpp"

TEST_CASE("yaml: nodes, cluster_port, tls and hosts") {
  auto flow = caflow::Flow::parse(R"(
jtype: Flow
with:
  nodes: [10.0.0.2:4242, local]
  cluster_port: 4300
  tls: {cert: /pki/flow.pem, key: /pki/flow.key, ca: /pki/ca.pem}
executors:
  - name: indexer
    uses: NoOp
    hosts: [10.0.0.3:4242, 10.0.0.4:4242]
)",
                                  "flow.yml");
  REQUIRE_MESSAGE(flow, caflow::describe(flow));
  CHECK(flow->options().nodes == std::vector<std::string>{"10.0.0.2:4242", "local"});
  CHECK(flow->options().cluster_port == 4300);
  CHECK(flow->options().tls.cert == "/pki/flow.pem");
  CHECK(flow->options().tls.ca == "/pki/ca.pem");
  CHECK(flow->deployments()[0].uses_metas.find("hosts")->as_array().size() == 2);
}

TEST_CASE("yaml: a malformed host names file, line and key") {
  auto bad = caflow::Flow::parse(
    "executors:\n  - name: indexer\n    uses: NoOp\n"
    "    hosts: [10.0.0.3:4242, nowhere]\n",
    "flow.yml");
  REQUIRE_FALSE(bad);
  CHECK(caflow::error_message(bad.error())
        == "flow.yml:4: executors[0].hosts[1]: 'nowhere' is not HOST:PORT (or 'local')");
  auto tls = caflow::Flow::parse("with:\n  tls: {cert: a.pem}\n", "flow.yml");
  REQUIRE_FALSE(tls);
  CHECK(caflow::error_message(tls.error()).find("flow.yml:2: with.tls: give cert, key and ca")
        == 0);
  auto port = caflow::Flow::parse("with:\n  cluster_port: 70000\n", "flow.yml");
  REQUIRE_FALSE(port);
  CHECK(caflow::error_message(port.error()).find("flow.yml:2: with.cluster_port") == 0);
}
