// Shared helpers of caflow-bench: timing, percentiles, JSON-line output.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

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

/// Whether `--name` (a switch, no value) is in argv.
bool flag(int argc, char** argv, const std::string& name);

/// `relative` under the source tree (for default data paths).
std::string source_path(const std::string& relative);

}  // namespace caflow::bench

namespace caflow::bench {

/// `s` quoted for a POSIX shell.
std::string shell_quote(const std::string& s);

/// Runs `command` through the shell: its standard output, or an io_error
/// naming the command (and its exit status) when it cannot run or fails.
caf::expected<std::string> command_output(const std::string& command);

/// command_output(), the error printed on stderr and dropped.
std::optional<std::string> run_command(const std::string& command);

/// "PYTHONPATH=... LD_LIBRARY_PATH=... " (shell-quoted, for `env`) that make
/// Debian's scikit-learn and scipy importable by /usr/bin/python3
/// (tools/sklearn-env.sh, cached in `env_dir`), or an error.
caf::expected<std::string> sklearn_env(const std::string& env_dir);

/// "env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 <sklearn_env> /usr/bin/python3"
/// with the cache in build/sklearn-env (one BLAS thread: scipy's baselines
/// run on one core, as caflow's do), or nullopt (the error on stderr).
std::optional<std::string> python_with_scipy();

/// This process's resident set size in bytes (VmRSS).
size_t rss_bytes();

/// The bytes of the files under `dir`.
size_t disk_bytes(const std::string& dir);

}  // namespace caflow::bench
