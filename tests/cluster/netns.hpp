// A network namespace joined to this one by a veth pair, for tests that cut
// a node off from the flow by a real partition: the node runs inside the
// namespace (`ip netns exec`), the flow reaches it over the veth pair, and
// taking the link down drops every packet both ways while both processes
// and their TCP connections live on (no reset, no error: heartbeats find it).
// Needs root (CAP_NET_ADMIN) and iproute2; where either is missing, open()
// says why and the test skips.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace caflow::testing {

class NetNamespace {
 public:
  /// Creates the namespace, the veth pair and a /30 between them; nullopt
  /// with `why` set when this machine does not allow it.
  static std::optional<NetNamespace> open(std::string& why);

  NetNamespace(NetNamespace&& other) noexcept;
  NetNamespace& operator=(NetNamespace&&) = delete;
  NetNamespace(const NetNamespace&) = delete;
  /// Deletes the veth pair and the namespace.
  ~NetNamespace();

  /// The address of the namespace's end ("10.x.y.2"): a node inside binds it.
  [[nodiscard]] const std::string& inner_address() const noexcept { return inner_; }

  /// The command prefix that runs a program inside the namespace.
  [[nodiscard]] std::vector<std::string> exec_prefix() const;

  /// Takes the link down (true) or up again (false); throws when `ip` fails.
  void partition(bool cut);

 private:
  NetNamespace() = default;
  std::string name_;   // the namespace
  std::string outer_;  // this namespace's veth end
  std::string inner_;
};

}  // namespace caflow::testing
