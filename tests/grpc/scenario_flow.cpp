#include "grpc/scenario_flow.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <stdexcept>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "grpc/python_client.hpp"

namespace caflow {

namespace {

// Upper-cases texts on every endpoint; `/fail` throws.
class GrpcUpper : public Executor {
 public:
  explicit GrpcUpper(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("/fail", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("upper refuses on purpose");
    });
    on("*", [](DocumentArray& docs, const Params&) {
      for (auto& d : docs)
        for (auto& c : d.text)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return Params::object();
    });
  }
};

}  // namespace

CAFLOW_REGISTER_EXECUTOR(GrpcUpper);

namespace testing {

caf::expected<RunningFlow> start_scenario_flow(const std::string& workspace) {
  Flow flow{FlowOptions{.workspace = workspace}};
  flow.add({.name = "upper", .uses = "GrpcUpper"})
    .add({.name = "indexer",
          .uses = "Indexer",
          .uses_with = {{"metric", "cosine"}},
          .shards = 2,
          .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}});
  return flow.start();
}

void check_scenarios(RunningFlow& flow, const std::string& script, std::vector<std::string> args,
                     const std::vector<std::string>& scenarios) {
  auto env = python_env();
  args.insert(args.end(), scenarios.begin(), scenarios.end());
  auto r = run_python(env, script, args);
  INFO(r.output);
  CHECK(r.code == 0);
  for (const auto& s : scenarios)
    CHECK(r.output.find("PASS " + s + "\n") != std::string::npos);
  auto count = flow.post("/count", {});
  REQUIRE(count);
  CHECK(count->parameters.get_int("count", -1) == 200);
}

}  // namespace testing

}  // namespace caflow
