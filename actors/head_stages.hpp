// A deployment's uses_before and uses_after executors, run by its head
// (what each one gets: caflow/shard_answers.hpp). Each is one replica actor
// that the head spawns in its own process (detached, so executor code never
// blocks the head), asks for its endpoints when the head is pinged, and
// re-spawns when it went away (that request is retried once on the new one).
//
//   request -> [uses_before] -> ReplicaSet (shards, polling) -> Deliver
//           -> [uses_after: every shard's answer, packed] -> the client
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/head.hpp"
#include "caflow/executor.hpp"
#include "caflow/messages.hpp"

namespace caflow::actors {

/// One of the two: its context, its replica and what it binds.
struct head_stage {
  std::string role;     // "uses_before" or "uses_after"
  ExecutorContext ctx;  // ctx.uses empty: not configured
  replica_actor replica;
  /// Its bound endpoints ("*" for the default), once it answered discovery.
  std::optional<std::set<std::string>> endpoints;

  [[nodiscard]] bool configured() const noexcept { return !ctx.uses.empty(); }
  /// True when it has a handler for `endpoint` (or a default); true while
  /// its endpoints are not known yet.
  [[nodiscard]] bool binds(const std::string& endpoint) const;
};

/// What uses_after needs of a request whose shard answers come back packed.
struct head_after_call {
  std::string id;
  std::string endpoint;
  Params parameters;
};

struct head_stages {
  head_stage before;
  head_stage after;
  std::unordered_map<uint64_t, head_after_call> pending;  // by op

  head_stages() = default;
  head_stages(const head_stages&) = delete;
  head_stages& operator=(const head_stages&) = delete;
  ~head_stages();
};

using head_pointer = head_actor::stateful_pointer<head_state>;

/// Sends a request (op, docs) on to the deployment's shards.
using head_submit = void (*)(head_pointer self, uint64_t op, Request req,
                             caf::typed_response_promise<Response> rp);

/// The stages of `spec`, spawned by `self`; nullptr when it has neither.
std::unique_ptr<head_stages> make_stages(head_pointer self, const DeploymentOptions& spec);

/// Whether the shard answers of requests to `endpoint` go to uses_after.
bool after_takes(const head_stages& stages, const std::string& endpoint);

/// Both stages built their executors and said what they bind; `done` gets
/// the first start error.
void stages_ready(head_pointer self, std::function<void(caf::error)> done);

/// A request to a head with stages: through uses_before (when configured),
/// then `submit`ted as op; noted for uses_after when it takes the endpoint.
void stage_request(head_pointer self, Request req, caf::typed_response_promise<Response> rp,
                   head_submit submit);

/// The set delivered op: true when uses_after takes it over (and delivers
/// to `rp` itself), false when the head delivers as usual.
bool stage_deliver(head_pointer self, uint64_t op, caf::expected<Response>& result,
                   caf::typed_response_promise<Response>& rp);

}  // namespace caflow::actors
