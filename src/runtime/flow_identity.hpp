/// A flow's identity and the defaults the runtime applies to stateful
/// executors. Pure logic plus one file; no actors.
///
/// The identity is stored in the flow's workspace (`.caflow-flow-id`),
/// created at its first start: "<flow name>-<16 hex digits>". It travels to
/// the executors as `uses_metas.flow_id`; shards record it in their layout,
/// and nodes keep each flow's data under `NODE_WORKSPACE/<flow id>/`, so two
/// flows never share a database, whatever their names.
///
///   auto id = flow_identity("/ws", "seed");   // "seed-3f9a0c2e1b7d4a65"
#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"

namespace caflow::detail {

/// The file in a workspace that holds the flow's identity.
inline constexpr const char* flow_identity_file = ".caflow-flow-id";

/// The identity stored in `workspace`, created there when missing. Without
/// a workspace: "name:<flow name>" (nothing to store it in).
caf::expected<std::string> flow_identity(const std::string& workspace,
                                         const std::string& flow_name);

/// True when `id` is safe as one path component (letters, digits, '-',
/// '_', '.', ':' and not "." or "..").
bool valid_flow_identity(const std::string& id);

/// The write endpoints of stateful executors: PARTITION unless given.
inline const std::vector<std::string> stateful_write_endpoints{"/index", "/update", "/delete"};

/// Applies the stateful defaults to `spec` (its type is stateful): a write
/// endpoint without its own polling entry gets PARTITION when `*` is ANY
/// (Jina's default), and `/index` also when `*` is ALL (which would store
/// every document on every shard). Returns a warning per write endpoint
/// explicitly polled ANY, and for `/index` explicitly ALL, with several
/// shards (saying what it means); empty when there is none.
std::vector<std::string> apply_stateful_defaults(DeploymentOptions& spec);

}  // namespace caflow::detail
