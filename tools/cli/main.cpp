// caflow: run a flow as a daemon, post documents to it, probe it.
//
//   caflow flow CONFIG.yml [--port N] [--host ADDR] [--plugin LIB]...
//   caflow post ENDPOINT [--host H] [--port P] [--input F.jsonl | --text-file F | --text T]
//   caflow ping HOST:PORT
//   caflow node --port P --workspace DIR [--join FLOW_HOST:CLUSTER_PORT]
//   caflow scale FLOW_HOST:CLUSTER_PORT EXECUTOR --replicas N
//   caflow reshard DIR --shards N
//   caflow export kubernetes|compose FLOW.yml OUTDIR
#include <cstring>
#include <exception>
#include <iostream>
#include <string_view>

#include "cli/commands.hpp"

namespace {

constexpr const char* usage
  = "usage: caflow <command> [options]\n"
    "\n"
    "commands:\n"
    "  flow CONFIG.yml   run a flow as a daemon with an HTTP gateway\n"
    "  post ENDPOINT     send documents to a running flow\n"
    "  ping HOST:PORT    exit 0 when the flow there is ready, 1 otherwise\n"
    "  node              host replicas that flows on other machines spawn here\n"
    "  scale ADDR EXEC   change the replicas of a running flow's executor\n"
    "  reshard DIR       change a stopped flow's shard count (offline)\n"
    "  export TARGET FLOW.yml OUTDIR\n"
    "                    write Kubernetes manifests or a compose project for a flow\n"
    "\n"
    "`caflow <command> --help` describes a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage;
    return 0;
  }
  try {
    if (command == "flow")
      return caflow::cli::run_flow(argc - 1, argv + 1);
    if (command == "post")
      return caflow::cli::run_post(argc - 1, argv + 1);
    if (command == "ping")
      return caflow::cli::run_ping(argc - 1, argv + 1);
    if (command == "node")
      return caflow::cli::run_node(argc - 1, argv + 1);
    if (command == "scale")
      return caflow::cli::run_scale(argc - 1, argv + 1);
    if (command == "reshard")
      return caflow::cli::run_reshard(argc - 1, argv + 1);
    if (command == "export")
      return caflow::cli::run_export(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::cerr << "caflow " << command << ": " << e.what() << '\n';
    return 2;
  }
  std::cerr << "caflow: unknown command '" << command << "'\n\n" << usage;
  return 2;
}
