// The subcommands of the `caflow` executable. Each parses its own options
// (argv[0] is the subcommand's name) and returns the process exit code.
#pragma once

namespace caflow::cli {

int run_flow(int argc, char** argv);
int run_post(int argc, char** argv);
int run_ping(int argc, char** argv);
int run_node(int argc, char** argv);
int run_scale(int argc, char** argv);
int run_export(int argc, char** argv);
int run_reshard(int argc, char** argv);

}  // namespace caflow::cli
