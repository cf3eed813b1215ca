// `when:` in flow configs and DeploymentOptions::when: loaded as a Value,
// bad filters refused with file, line and key.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "entry_error.hpp"

using namespace caflow;
using caflow::testing::entry_error;

TEST_CASE("when: a filter in YAML becomes the deployment's when") {
  auto flow = Flow::parse(
    "executors:\n"
    "  - name: cheap\n"
    "    uses: NoOp\n"
    "    when:\n"
    "      tags__price: {$lte: 5}\n"
    "  - name: any\n"
    "    uses: NoOp\n",
    "flow.yml");
  REQUIRE(flow);
  CHECK_FALSE(flow->validate());
  const auto& d = flow->deployments();
  CHECK(d[0].when == Value{{"tags__price", Value{{"$lte", 5}}}});
  CHECK(d[1].when == Value::object());
  CHECK(entry_error("    when: {}\n").empty());
  CHECK(entry_error("    when:\n").empty());
  CHECK(
    entry_error("    when: {$or: [{text: {$regex: '^a'}}, {tags__k: {$in: [1, 2]}}]}\n").empty());
}

TEST_CASE("when: bad filters name file, line and key") {
  CHECK(entry_error("    when: 5\n")
        == "flow.yml:4: executors[0].when: expected a mapping, got '5'");
  CHECK(entry_error("    when:\n      tags__price: {$gtt: 5}\n")
        == "flow.yml:5: executors[0].when.tags__price.$gtt: unknown operator (known: $eq, $ne, "
           "$lt, $lte, $gt, $gte, $in, $nin, $exists, $regex)");
  CHECK(entry_error("    when:\n"
                    "      $or:\n"
                    "        - text: {$eq: a}\n"
                    "        - tags__x:\n"
                    "            $regex: '(open'\n")
          .rfind("flow.yml:8: executors[0].when.$or[1].tags__x.$regex: '(open' is not", 0)
        == 0);
  CHECK(entry_error("    when:\n      prize: {$eq: 5}\n")
          .rfind("flow.yml:5: executors[0].when.prize: unknown field", 0)
        == 0);
  CHECK(entry_error("    when:\n      $or: []\n")
        == "flow.yml:5: executors[0].when.$or: expected a non-empty list of filters, got []");
  CHECK(entry_error("    when:\n      tags__k: {$eq: 1}\n      tags__k: {$eq: 2}\n")
          .rfind("flow.yml:6: executors[0].when.tags__k: key given twice", 0)
        == 0);
}

TEST_CASE("when: a flow built in code is checked by validate()") {
  Flow flow;
  flow.add({.name = "x", .uses = "NoOp", .when = Value{{"tags__k", Value{{"$in", 3}}}}});
  auto err = flow.validate();
  REQUIRE(err);
  CHECK(is(err, errc::invalid_config));
  CHECK(error_message(err) == "deployment 'x': when.tags__k.$in: expected a list, got 3");
}
