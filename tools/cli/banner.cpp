#include "cli/banner.hpp"

#include <algorithm>
#include <cstdio>

namespace caflow::cli {

void print_banner(std::ostream& out, const Flow& flow, const std::string& address,
                  double startup_s) {
  char line[512];
  std::snprintf(line, sizeof line, "flow '%s' ready in %.2f s\n",
                flow.options().name.c_str(), startup_s);
  out << line << "  protocol  " << flow.options().protocol << '\n'
      << "  address   http://" << address << '\n';
  size_t name_width = 4;
  size_t uses_width = 4;
  for (const auto& d : flow.deployments()) {
    name_width = std::max(name_width, d.name.size());
    uses_width = std::max(uses_width, d.uses.size());
  }
  for (const auto& d : flow.deployments()) {
    std::snprintf(line, sizeof line, "  executor  %-*s  %-*s  replicas %u x shards %u\n",
                  static_cast<int>(name_width), d.name.c_str(), static_cast<int>(uses_width),
                  d.uses.c_str(), d.replicas, d.shards);
    out << line;
  }
  out.flush();
}

}  // namespace caflow::cli
