/// Placement of replicas on nodes: pure functions, no actors.
///
/// The rule (documented for users in README "A cluster"): a deployment's slots
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
#include <set>
#include <string>
#include <string_view>
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
  bool can_host = true;   ///< knows the executor type being placed
};

/// True when a node that reported the executor `types` it knows can host a
/// replica of `type`. A node that lacks it (a plugin the flow loaded but the
/// node did not) would spawn a replica that fails every request.
[[nodiscard]] bool can_host(const std::set<std::string>& types, std::string_view type);

/// Why node `address` cannot host `type`, for errors: "node A cannot host
/// executor type 'X': it knows B, C (start it with --plugin for 'X')".
[[nodiscard]] std::string cannot_host(const std::string& address, const std::string& type,
                                      const std::set<std::string>& types);

/// The index of the available node that can host the type and hosts the
/// fewest replicas; ties go to the first (registration order), so the choice
/// is deterministic. nullopt when no node qualifies (the caller then places
/// locally: the flow's own process knows every type it validated).
std::optional<size_t> pick_least_loaded(const std::vector<NodeLoad>& nodes);

}  // namespace caflow::detail
