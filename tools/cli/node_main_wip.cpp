// Temporary executable for the node daemon and `scale` until they are
// folded into `caflow` as `caflow node` and `caflow scale`:
//   caflow-node-wip [node] --port 0 --workspace DIR ...
//   caflow-node-wip scale FLOW_HOST:CLUSTER_PORT EXECUTOR --replicas N
#include <cstring>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "scale") == 0)
      return caflow::cli::run_scale(argc - 1, argv + 1);
    if (argc > 1 && std::strcmp(argv[1], "node") == 0)
      return caflow::cli::run_node(argc - 1, argv + 1);
    argv[0] = const_cast<char*>("node");
    return caflow::cli::run_node(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "caflow: " << e.what() << '\n';
    return 1;
  }
}
