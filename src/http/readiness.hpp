// Readiness, defined once for GET /dry_run, GET /status and `caflow ping`:
// a flow is ready when every replica of every deployment has started (its
// slot is alive, none lost or being re-spawned) and answers a ping. A ping
// reaches the replica actor but not the executor's handlers, so a
// vectorizer that waits for POST /fit is ready (and /fit can reach it),
// where sending a request through the flow, as Jina's /dry_run does, would
// fail on it. A replica that takes over half a second to answer its ping is
// busy with a request (it is alive and started, as its head's status says):
// ready, and marked "busy" in the deployment's entry.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "caflow/messages.hpp"
#include "caflow/value.hpp"

namespace caflow::http {

/// The answer of a readiness check.
struct Readiness {
  bool ready = false;
  /// One line per replica or deployment that is not ready, e.g.
  /// "indexer/shard-1/replica-0: not running (node 127.0.0.1:4243 lost)".
  std::vector<std::string> problems;
  /// Per deployment: {"ready": bool, "replicas": started, "expected": N}.
  Value deployments = Value::object();
};

/// Asks every head (deployment name, head actor) for its status and a ping,
/// from a fresh actor, and calls `done` once with the verdict on a CAF worker
/// thread (`done` must not block). A head that does not answer within
/// `timeout` (0: no limit) is not ready.
void ask_readiness(caf::actor_system& sys, std::vector<std::pair<std::string, head_actor>> heads,
                   std::chrono::milliseconds timeout, std::function<void(Readiness)> done);

}  // namespace caflow::http
