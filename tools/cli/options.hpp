// Command-line parsing shared by the subcommands (Boost.Program_options).
#pragma once

#include <iostream>
#include <string>

#include <boost/program_options.hpp>

namespace caflow::cli {

namespace po = boost::program_options;

/// Parses argv into `vm`. Returns -1 to go on, else the exit code: 0 after
/// printing help (`usage` then the options), 2 after a usage error.
int parse_options(int argc, char** argv, const std::string& usage,
                  const po::options_description& options,
                  const po::positional_options_description& positional, po::variables_map& vm);

}  // namespace caflow::cli
