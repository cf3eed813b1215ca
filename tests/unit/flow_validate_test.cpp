#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "config/flow_graph.hpp"

using namespace caflow;

namespace {

class ValidateTestEcho : public Executor {
 public:
  explicit ValidateTestEcho(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(ValidateTestEcho);

DeploymentOptions echo(std::string name, std::vector<std::string> needs = {}) {
  return {.name = std::move(name), .uses = "ValidateTestEcho", .needs = std::move(needs)};
}

std::string validate_message(const Flow& flow) {
  auto err = flow.validate();
  REQUIRE(err);
  CHECK(is(err, errc::invalid_config));
  return error_message(err);
}

Flow flow_of(std::vector<DeploymentOptions> deployments) {
  Flow flow;
  for (auto& d : deployments)
    flow.add(std::move(d));
  return flow;
}

using Names = std::vector<std::string>;
using Indices = std::vector<size_t>;

}  // namespace

TEST_CASE("add appends and chains; a sound flow validates") {
  Flow flow;
  auto& same = flow.add(echo("a")).add(echo("b", {"gateway"})).add(echo("c", {"a", "b"}));
  CHECK(&same == &flow);
  REQUIRE(flow.deployments().size() == 3);
  CHECK(flow.deployments()[2].name == "c");
  CHECK_FALSE(flow.validate());
  CHECK_FALSE(Flow{}.validate());
}

TEST_CASE("flows built in code name the deployment and key") {
  CHECK(validate_message(flow_of({echo("")})) == "deployment #0: name: must not be empty");
  CHECK(validate_message(flow_of({echo("a b")}))
        == "deployment 'a b': name: 'a b' may only hold letters, digits, '_' and '-'");
  CHECK(validate_message(flow_of({echo("gateway")}))
          .rfind("deployment 'gateway': name: "
                 "'gateway' is reserved",
                 0)
        == 0);
  CHECK(validate_message(flow_of({echo("a"), echo("a")}))
        == "deployment 'a': name: 'a' is used twice (first at position 0)");
  CHECK(validate_message(flow_of({{.name = "a"}})) == "deployment 'a': uses: must name an "
                                                      "executor type");
  auto zero_replicas = echo("a");
  zero_replicas.replicas = 0;
  CHECK(validate_message(flow_of({zero_replicas}))
        == "deployment 'a': replicas: must be at least 1, got 0");
  auto zero_shards = echo("a");
  zero_shards.shards = 0;
  CHECK(validate_message(flow_of({zero_shards}))
        == "deployment 'a': shards: must be at least 1, got 0");
  auto bad_polling = echo("a");
  bad_polling.polling = {{"/index", "SOME"}, {"*", "ALL"}};
  CHECK(validate_message(flow_of({bad_polling}))
        == "deployment 'a': polling['/index']: unknown mode 'SOME' (expected ANY, ALL or "
           "PARTITION)");
  CHECK(validate_message(flow_of({echo("a"), echo("b", {"x"})}))
        == "deployment 'b': needs: 'x' is no deployment of this flow (known: a, b, gateway)");
  CHECK(validate_message(flow_of({echo("a"), echo("b", {"a", "a"})}))
        == "deployment 'b': needs: lists 'a' twice");
}

TEST_CASE("an unknown executor type is unknown_executor and lists the known ones") {
  auto err = flow_of({{.name = "a", .uses = "Nope"}}).validate();
  REQUIRE(err);
  CHECK(is(err, errc::unknown_executor));
  auto message = error_message(err);
  CHECK(message.rfind("deployment 'a': uses: unknown executor type 'Nope' (known: ", 0) == 0);
  CHECK(message.find("ValidateTestEcho") != std::string::npos);
}

TEST_CASE("checks run in order: name, uses, replicas, shards, polling, needs") {
  DeploymentOptions d{
    .name = "a", .uses = "Nope", .replicas = 0, .shards = 0, .polling = "SOME", .needs = {"x"}};
  CHECK(error_message(flow_of({d}).validate()).find(": uses: ") != std::string::npos);
  d.uses = "ValidateTestEcho";
  CHECK(validate_message(flow_of({d})).find(": replicas: ") != std::string::npos);
  d.replicas = 1;
  CHECK(validate_message(flow_of({d})).find(": shards: ") != std::string::npos);
  d.shards = 1;
  CHECK(validate_message(flow_of({d})).find(": polling") != std::string::npos);
  d.polling = "all";  // modes are case-insensitive
  CHECK(validate_message(flow_of({d})).find(": needs: ") != std::string::npos);
  d.needs = {"gateway"};
  CHECK_FALSE(flow_of({d}).validate());
}

TEST_CASE("deployments with an origin name file, line and key") {
  auto d = echo("a");
  d.replicas = 0;
  d.origin = {
    .file = "f.yml", .key_lines = {{"name", 11}, {"replicas", 12}}, .line = 11, .index = 3};
  CHECK(validate_message(flow_of({d})) == "f.yml:12: executors[3].replicas: must be at "
                                          "least 1, got 0");
  d.replicas = 1;
  d.shards = 0;  // no line of its own: the entry's line
  CHECK(validate_message(flow_of({d})) == "f.yml:11: executors[3].shards: must be at least "
                                          "1, got 0");
  d.shards = 1;
  d.polling = "SOME";
  d.origin.key_lines["polling"] = 14;
  CHECK(validate_message(flow_of({d}))
          .rfind("f.yml:14: executors[3].polling['*']: unknown "
                 "mode 'SOME'",
                 0)
        == 0);
  auto again = echo("a");
  again.origin = {.file = "f.yml", .key_lines = {{"name", 20}}, .line = 20, .index = 4};
  d.polling = {};
  CHECK(validate_message(flow_of({d, again}))
        == "f.yml:20: executors[4].name: 'a' is used twice (first at f.yml:11)");
}

TEST_CASE("needs cycles are found and named") {
  CHECK(validate_message(flow_of({echo("a", {"b"}), echo("b", {"a"})}))
        == "deployment 'a': needs: needs cycle: a -> b -> a");
  CHECK(validate_message(flow_of({echo("a"), echo("b", {"b"})}))
        == "deployment 'b': needs: needs cycle: b -> b");
  // b and c follow their predecessors by default.
  CHECK(validate_message(flow_of({echo("a", {"c"}), echo("b"), echo("c")}))
        == "deployment 'a': needs: needs cycle: a -> c -> b -> a (a deployment without needs "
           "follows the previous one)");
}

TEST_CASE("effective_needs applies Jina's default") {
  std::vector<DeploymentOptions> ds{echo("a"), echo("b"), echo("c", {"gateway"}),
                                    echo("d", {"a", "c"}), echo("e")};
  CHECK(detail::effective_needs(ds)
        == std::vector<Names>{{"gateway"}, {"a"}, {"gateway"}, {"a", "c"}, {"d"}});
  CHECK(detail::needs_indices(ds) == std::vector<Indices>{{}, {0}, {}, {0, 2}, {3}});
  CHECK(detail::effective_needs({}).empty());
}

TEST_CASE("topological_order puts needs first and keeps flow order otherwise") {
  // a needs d (a forward reference); b and c are independent of d.
  std::vector<DeploymentOptions> ds{echo("a", {"d"}), echo("b", {"gateway"}),
                                    echo("c", {"gateway"}), echo("d", {"gateway"})};
  auto order = detail::topological_order(ds);
  REQUIRE(order);
  CHECK(*order == Indices{1, 2, 3, 0});
  auto chain = detail::topological_order({echo("x"), echo("y"), echo("z")});
  REQUIRE(chain);
  CHECK(*chain == Indices{0, 1, 2});
  auto cyclic = detail::topological_order({echo("a", {"b"}), echo("b", {"a"})});
  REQUIRE_FALSE(cyclic);
  CHECK(is(cyclic.error(), errc::invalid_config));
  CHECK(error_message(cyclic.error()) == "needs cycle: a -> b -> a");
}

TEST_CASE("leaves are the deployments nobody needs") {
  CHECK(detail::leaves({echo("a"), echo("b"), echo("c")}) == Indices{2});
  CHECK(detail::leaves({echo("a"), echo("b", {"gateway"}), echo("c", {"gateway"})})
        == Indices{0, 1, 2});  // three branches from the gateway
  CHECK(detail::leaves({echo("a"), echo("b", {"gateway"}), echo("c", {"a", "b"})}) == Indices{2});
  CHECK(detail::leaves({}).empty());
}

TEST_CASE("find_needs_cycle returns the cycle from its lowest index") {
  CHECK(detail::find_needs_cycle({echo("a"), echo("b")}).empty());
  std::vector<DeploymentOptions> ds{echo("a"), echo("b", {"d"}), echo("c"), echo("d")};
  CHECK(detail::find_needs_cycle(ds) == Indices{1, 3, 2});
  CHECK(detail::format_cycle(ds, {1, 3, 2}) == "b -> d -> c -> b");
}
