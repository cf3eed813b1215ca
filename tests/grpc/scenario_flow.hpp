// The flow the gateway tests' Python clients (tests/grpc/*.py) run their
// scenarios against, and the check of what they report: one definition for
// the gRPC, WebSocket and HTTP tests, so that the three protocols are
// tested on the same executors with the same expectations.
#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"

namespace caflow::testing {

/// `upper` (GrpcUpper: upper-cases texts on every endpoint, throws on
/// /fail), then `indexer`: a 2-shard cosine Indexer over `workspace`
/// (index PARTITION, search ALL).
caf::expected<RunningFlow> start_scenario_flow(const std::string& workspace);

/// Runs tests/grpc/`script` with `args` and then `scenarios` as its
/// arguments, and checks that it exits 0 having printed "PASS <name>" for
/// every scenario, and that the stream scenario's 200 documents reached
/// the shards of `flow` through the gateway.
void check_scenarios(RunningFlow& flow, const std::string& script, std::vector<std::string> args,
                     const std::vector<std::string>& scenarios);

}  // namespace caflow::testing
