#include "cluster/placement.hpp"

#include <charconv>

#include "caflow/errors.hpp"

namespace caflow::detail {

bool is_local(const std::string& host) {
  return host.empty() || host == local_host;
}

caf::expected<NodeAddress> parse_node_address(const std::string& text) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return make_error(errc::invalid_argument, "'" + text + "' is not HOST:PORT (or 'local')");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return bad();
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || end != last || port == 0 || port > 65535)
    return bad();
  return NodeAddress{text.substr(0, colon), static_cast<uint16_t>(port)};
}

std::vector<std::vector<std::string>> place_replicas(const std::vector<std::string>& hosts,
                                                     uint32_t shards, uint32_t replicas) {
  std::vector<std::vector<std::string>> out(shards);
  size_t slot = 0;
  for (uint32_t k = 0; k < shards; ++k)
    for (uint32_t r = 0; r < replicas; ++r, ++slot)
      out[k].push_back(hosts.empty() ? std::string{local_host} : hosts[slot % hosts.size()]);
  return out;
}

bool can_host(const std::set<std::string>& types, std::string_view type) {
  return types.find(std::string{type}) != types.end();
}

std::string cannot_host(const std::string& address, const std::string& type,
                        const std::set<std::string>& types) {
  std::string known;
  for (const auto& t : types)
    known += (known.empty() ? "" : ", ") + t;
  return "node " + address + " cannot host executor type '" + type + "': it knows "
         + (known.empty() ? "none" : known) + " (start it with --plugin for '" + type + "')";
}

std::optional<size_t> pick_least_loaded(const std::vector<NodeLoad>& nodes) {
  std::optional<size_t> best;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].available && nodes[i].can_host && (!best || nodes[i].hosted < nodes[*best].hosted))
      best = i;
  return best;
}

}  // namespace caflow::detail
