// Command-line parsing shared by the subcommands (Boost.Program_options).
#pragma once

#include <cstdint>
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

/// True when min <= value <= max; else prints "caflow COMMAND: OPTION must
/// be from MIN to MAX, got VALUE" and returns false. Numeric options are read
/// as signed 64-bit integers and checked here, because Boost reads "-1" into
/// an unsigned type as its largest value (--replicas -1 became 4294967295).
bool in_range(const char* command, const char* option, int64_t value, int64_t min, int64_t max);

/// The same for a number of seconds (NaN and infinities fail too).
bool in_range(const char* command, const char* option, double value, double min, double max);

}  // namespace caflow::cli
