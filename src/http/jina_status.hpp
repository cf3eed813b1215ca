// How a failed request looks in Jina's StatusProto, for every protocol.
//
// Jina answers an executor's exception in-band: the response (HTTP 200, or a
// gRPC message) carries header.status = {code: ERROR, description,
// exception: {name, args, stacks, executor}}. caflow does the same for
// failures that come from executors; failures of the request itself
// (malformed input, unknown target) keep their HTTP 4xx or gRPC status.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "caflow/errors.hpp"

namespace caflow::http {

/// Jina 3.0's StatusProto codes that caflow uses.
constexpr int jina_status_success = 0;
constexpr int jina_status_error = 3;

/// A StatusProto with code ERROR, in plain values.
struct JinaStatus {
  std::string description;        ///< the message
  std::string name;               ///< exception.name: the caflow errc name
  std::vector<std::string> args;  ///< exception.args: [the message]
  std::string executor;           ///< exception.executor: the deployment ("" if none)
};

/// The errc whose name is `name` (what JinaStatus::name holds), if any.
std::optional<errc> errc_named(std::string_view name);

/// The caflow error a status names: errc_named(name), else executor_failed
/// (a Jina gateway's Python exception names). Both clients read in-band
/// failures back with it.
caf::error error_named(std::string_view name, std::string description);

/// The status of `err`. The executor is the deployment named at the start
/// of the message ("indexer/shard-1/replica-0: ..." -> "indexer").
JinaStatus jina_status(const caf::error& err);

/// True for failures that Jina reports in-band: an executor threw or its
/// shards failed (executor_failed, all_shards_failed, storage_error,
/// executor_start_failed), as opposed to bad requests (a dimension
/// mismatch included: the client's vector is wrong), overload,
/// unavailability and timeouts.
bool in_band(const caf::error& err);

/// CAF's own errors of a request to the flow (request timeout after
/// `timeout`, gateway down) in caflow's words; other errors unchanged. Every
/// gateway (HTTP, gRPC) answers with these.
caf::error normalize(caf::error err, std::chrono::milliseconds timeout);

}  // namespace caflow::http
