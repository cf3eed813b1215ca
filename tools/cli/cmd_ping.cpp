// caflow ping HOST:PORT — a readiness probe (exit 0 ready, 1 not).
#include <iostream>

#include "caflow/client.hpp"
#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"

namespace caflow::cli {

int run_ping(int argc, char** argv) {
  std::string target;
  double timeout_s = 3;
  po::options_description options{"options"};
  options.add_options()("address", po::value(&target)->required(),
                        "HOST:PORT of the flow's gateway")(
    "timeout", po::value(&timeout_s)->default_value(3.0), "seconds to wait for an answer");
  po::positional_options_description positional;
  positional.add("address", 1);
  po::variables_map vm;
  const std::string usage
    = "usage: caflow ping HOST:PORT [--timeout S]\n\n"
      "Exits 0 when the flow at HOST:PORT answers that it is ready, "
      "1 otherwise\n(usable as a readiness probe).";
  if (int rc = parse_options(argc, argv, usage, options, positional, vm); rc >= 0)
    return rc;
  if (!in_range("ping", "--timeout", timeout_s, 0.001, 3600.0))
    return 2;
  auto address = parse_address(target);
  Client client{address.host, address.port};
  auto ms = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  if (client.ready(ms)) {
    std::cout << target << " is ready\n";
    return 0;
  }
  std::cout << target << " is not ready\n";
  return 1;
}

}  // namespace caflow::cli
