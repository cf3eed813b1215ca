// uses_before / uses_after (and their _with) in flow configs and in code:
// loaded, merged, and refused with file, line and key when wrong.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "entry_error.hpp"

using namespace caflow;
using caflow::testing::entry_error;

namespace {

// Declares no uses_with keys: takes any.
class StagesTestAny : public Executor {
 public:
  explicit StagesTestAny(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(StagesTestAny);

}  // namespace

TEST_CASE("stages: uses_before and uses_after load as a type or a mapping, with their _with") {
  auto flow = Flow::parse(
    "executors:\n"
    "  - name: x\n"
    "    uses: NoOp\n"
    "    shards: 2\n"
    "    uses_before: NoOp\n"
    "    uses_after: {jtype: StagesTestAny, with: {a: 1, b: 1}}\n"
    "    uses_after_with: {b: 2}\n",
    "flow.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  CHECK_FALSE(flow->validate());
  const auto& d = flow->deployments()[0];
  CHECK(d.uses_before == "NoOp");
  CHECK(d.uses_before_with == Value::object());
  CHECK(d.uses_after == "StagesTestAny");
  CHECK(d.uses_after_with == Value{{"a", 1}, {"b", 2}});
}

TEST_CASE("stages: bad uses_before / uses_after name file, line and key") {
  auto unknown = entry_error("    uses_before: Nope\n");
  CHECK(
    unknown.rfind("flow.yml:4: executors[0].uses_before: unknown executor type 'Nope' (known: ", 0)
    == 0);
  CHECK(entry_error("    uses_after: Indexer\n    uses_after_with:\n      metirc: cosine\n")
        == "flow.yml:6: executors[0].uses_after_with.metirc: unknown key for Indexer (did you "
           "mean 'metric'?)");
  CHECK(entry_error("    uses_after: {jtype: Indexer, with: {metirc: cosine}}\n")
          .rfind("flow.yml:4: executors[0].uses_after.with.metirc: unknown key for Indexer", 0)
        == 0);
  CHECK(entry_error("    uses_before_with: {k: 1}\n")
        == "flow.yml:4: executors[0].uses_before_with: is given without uses_before (the "
           "executor it configures)");
  CHECK(entry_error("    uses_after: NoOp\n    uses_after_with: {k: 1}\n")
        == "flow.yml:5: executors[0].uses_after_with.k: NoOp takes no uses_with keys");
  CHECK(entry_error("    uses_after: {jtype: NoOp, metas: {name: y}}\n")
          .rfind("flow.yml:4: executors[0].uses_after.metas: is not supported for uses_after", 0)
        == 0);
  CHECK(entry_error("    uses_after: {with: {k: 1}}\n")
        == "flow.yml:4: executors[0].uses_after.jtype: is required (the executor type)");
  CHECK(entry_error("    uses_before: [NoOp]\n").rfind("flow.yml:4: executors[0].uses_before: ", 0)
        == 0);
  CHECK(entry_error("    uses_after_address: 10.0.0.2:1234\n")
          .find("executors[0].uses_after_address: Jina's 'uses_after_address' is not supported: "
                "caflow runs uses_after in the head's process")
        != std::string::npos);
}

TEST_CASE("stages: a flow built in code is checked by validate()") {
  Flow flow;
  flow.add({.name = "x", .uses = "NoOp", .uses_after = "Nope"});
  auto err = flow.validate();
  REQUIRE(err);
  CHECK(is(err, errc::unknown_executor));
  CHECK(error_message(err).rfind("deployment 'x': uses_after: unknown executor type 'Nope'", 0)
        == 0);
  Flow orphan;
  orphan.add({.name = "x", .uses = "NoOp", .uses_before_with = Params{{"k", 1}}});
  CHECK(error_message(orphan.validate())
        == "deployment 'x': uses_before_with: is given without uses_before (the executor it "
           "configures)");
}
