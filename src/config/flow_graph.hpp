/// The needs graph of a flow (private): pure helpers shared by
/// Flow::validate and the runtime, which walks the graph from the gateway.
///
/// Every helper takes the deployments in flow order and reads their
/// *effective* needs: Jina's rule that a deployment without `needs` follows
/// the previous one, and the first one follows the gateway. Names that are not
/// deployments (unknown names, and `gateway` itself) are no edges here;
/// Flow::validate reports unknown names.
///
///   auto order = caflow::detail::topological_order(flow.deployments());
///   if (!order) return order.error();           // "needs cycle: a -> b -> a"
///   for (size_t i : *order) spawn_head(flow.deployments()[i]);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"

namespace caflow::detail {

/// The name that stands for the start of the flow in `needs`.
inline constexpr std::string_view gateway_name = "gateway";

/// Each deployment's needs as given, or Jina's default when empty: the
/// previous deployment's name, and "gateway" for the first one.
[[nodiscard]] std::vector<std::vector<std::string>> effective_needs(
  const std::vector<DeploymentOptions>& deployments);

/// Per deployment, the indices of the deployments it needs (effective needs;
/// `gateway` and unknown names left out, duplicates kept once, in needs order).
[[nodiscard]] std::vector<std::vector<size_t>> needs_indices(
  const std::vector<DeploymentOptions>& deployments);

/// A cycle in the needs graph as indices, each needing the next and the last
/// needing the first, starting at its lowest index; empty when there is none.
/// The lowest index always names its needs explicitly (a default edge points
/// backwards), so its `needs:` line is where to report the cycle.
[[nodiscard]] std::vector<size_t> find_needs_cycle(
  const std::vector<DeploymentOptions>& deployments);

/// "a -> b -> a" for a cycle from find_needs_cycle.
[[nodiscard]] std::string format_cycle(const std::vector<DeploymentOptions>& deployments,
                                       const std::vector<size_t>& cycle);

/// The deployment indices ordered so that each comes after every deployment
/// it needs; independent ones keep flow order. A cycle is
/// errc::invalid_config "needs cycle: a -> b -> a".
[[nodiscard]] caf::expected<std::vector<size_t>> topological_order(
  const std::vector<DeploymentOptions>& deployments);

/// The deployments that no other deployment needs, in flow order: the flow's
/// outputs, whose responses the gateway joins into the answer.
[[nodiscard]] std::vector<size_t> leaves(const std::vector<DeploymentOptions>& deployments);

/// The needs graph with the edges both ways, as the gateway walks it.
struct FlowGraph {
  std::vector<std::vector<size_t>> needs;       ///< per node: the nodes it takes
  std::vector<std::vector<size_t>> dependents;  ///< per node: the nodes that take it
  std::vector<size_t> starts;                   ///< nodes fed by the request itself
  std::vector<size_t> leaves;                   ///< nodes nobody needs: the output

  /// The graph of `needs` (per node, indices of the nodes it needs; a
  /// self-edge is ignored).
  [[nodiscard]] static FlowGraph from_needs(std::vector<std::vector<size_t>> needs);
};

/// The graph of `deployments` (effective needs, as needs_indices).
[[nodiscard]] FlowGraph flow_graph(const std::vector<DeploymentOptions>& deployments);

}  // namespace caflow::detail
