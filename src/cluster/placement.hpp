/// Placement of replicas on nodes: pure functions, no actors.
///
/// The rule (documented for users in README "Cluster"): a deployment's slots
/// are numbered shard-major, slot = shard * replicas + replica, and slot i
/// goes to hosts[i % hosts.size()]. So with hosts [a, b], 2 shards and 1
/// replica, shard-0 lands on a and shard-1 on b; with 1 shard and 2 replicas
/// the two replicas land on a and b. The host `local` means the flow's own
/// process. Deterministic: the same config always gives the same placement.
///
///   auto nodes = detail::place_replicas({"local", "10.0.0.2:4242"}, 2, 1);
///   // nodes[0][0] == "local", nodes[1][0] == "10.0.0.2:4242"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace caflow::detail {

/// The name of the flow's own process as a host.
inline constexpr const char* local_host = "local";

/// A node's address.
struct NodeAddress {
  std::string host;
  uint16_t port = 0;
};

/// True for "local" (and "" meaning the same).
bool is_local(const std::string& host);

/// Parses "HOST:PORT" (port 1-65535). errc::invalid_argument naming the
/// text when it is neither that nor "local".
caf::expected<NodeAddress> parse_node_address(const std::string& text);

/// The node of every slot, [shard][replica], by the rule in the file
/// comment. No hosts means every slot is local.
std::vector<std::vector<std::string>> place_replicas(const std::vector<std::string>& hosts,
                                                     uint32_t shards, uint32_t replicas);

/// What the least-loaded choice knows of a node.
struct NodeLoad {
  std::string address;
  size_t hosted = 0;      ///< replicas it hosts for this flow
  bool available = true;  ///< connected and not excluded
};

/// The index of the available node hosting the fewest replicas; ties go to
/// the first (registration order), so the choice is deterministic. nullopt
/// when no node is available (the caller then places locally).
std::optional<size_t> pick_least_loaded(const std::vector<NodeLoad>& nodes);

}  // namespace caflow::detail
