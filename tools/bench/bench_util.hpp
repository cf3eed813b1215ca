// Shared helpers of caflow-bench: timing, percentiles, JSON-line output.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow::bench {

using clock = std::chrono::steady_clock;

/// Seconds since `start`.
double seconds_since(clock::time_point start);

/// The p-th percentile (0..100) of `xs` (sorted in place).
double percentile(std::vector<double>& xs, double p);

/// `n` documents with the text "hello world" (the overhead benchmarks' load).
DocumentArray hello_docs(size_t n);

/// Prints `v` as one JSON line on standard output and flushes.
void emit(const Value& v);

/// The machine's load average over the last minute (the benchmarks run on
/// shared machines: a figure is read beside it).
double load_average();

/// The value of `--name=value` in argv, or `fallback`.
long long arg(int argc, char** argv, const std::string& name, long long fallback);

/// The value of `--name=value` or `--name value` in argv, or `fallback`.
std::string arg_string(int argc, char** argv, const std::string& name, std::string fallback);

/// `relative` under the source tree (for default data paths).
std::string source_path(const std::string& relative);

}  // namespace caflow::bench

namespace caflow::bench {

/// `s` quoted for a POSIX shell.
std::string shell_quote(const std::string& s);

/// Runs `command` through the shell: its standard output, or an empty
/// optional (with a message on stderr) when it fails.
std::optional<std::string> run_command(const std::string& command);

/// "env PYTHONPATH=... LD_LIBRARY_PATH=... /usr/bin/python3", with Debian's
/// scikit-learn and scipy importable (tools/sklearn-env.sh, cached in
/// build/sklearn-env), or nullopt when they cannot be had.
std::optional<std::string> python_with_scipy();

/// This process's resident set size in bytes (VmRSS).
size_t rss_bytes();

/// The bytes of the files under `dir`.
size_t disk_bytes(const std::string& dir);

}  // namespace caflow::bench
