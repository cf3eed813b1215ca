#include "cli/banner.hpp"

#include <algorithm>
#include <cstdio>

namespace caflow::cli {

std::string describe_placement(const std::vector<ReplicaPlacement>& placement,
                               const DeploymentOptions& deployment) {
  std::string out;
  bool all_local = true;
  for (const auto& p : placement) {
    if (p.deployment != deployment.name)
      continue;
    all_local = all_local && p.node == "local";
    out += out.empty() ? "" : ", ";
    out += "shard-" + std::to_string(p.shard);
    if (deployment.replicas > 1)
      out += "/replica-" + std::to_string(p.replica);
    out += ": " + p.node;
  }
  return all_local ? "local" : out;
}

void print_banner(std::ostream& out, const RunningFlow& running,
                  const std::vector<std::pair<std::string, std::string>>& gateways,
                  double startup_s) {
  const auto& flow = running.flow();
  auto placement = running.placement();
  char line[512];
  std::snprintf(line, sizeof line, "flow '%s' ready in %.2f s\n", flow.options().name.c_str(),
                startup_s);
  out << line;
  for (const auto& [protocol, address] : gateways)
    out << "  protocol  " << protocol << '\n'
        << "  address   " << (protocol == "websocket" ? "ws" : protocol) << "://" << address
        << '\n';
  if (running.cluster_port() != 0)
    out << "  cluster   " << flow.options().host << ':' << running.cluster_port()
        << (flow.options().tls.enabled() ? " (TLS)" : "") << '\n';
  size_t name_width = 4;
  size_t uses_width = 4;
  for (const auto& d : flow.deployments()) {
    name_width = std::max(name_width, d.name.size());
    uses_width = std::max(uses_width, d.uses.size());
  }
  for (const auto& d : flow.deployments()) {
    std::snprintf(line, sizeof line, "  executor  %-*s  %-*s  replicas %u x shards %u  on ",
                  static_cast<int>(name_width), d.name.c_str(), static_cast<int>(uses_width),
                  d.uses.c_str(), d.replicas, d.shards);
    out << line << describe_placement(placement, d) << '\n';
  }
  out.flush();
}

}  // namespace caflow::cli
