// Shared helpers of caflow-bench: timing, percentiles, JSON-line output.
#pragma once

#include <chrono>
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

/// The value of `--name=value` in argv, or `fallback`.
long long arg(int argc, char** argv, const std::string& name, long long fallback);

/// The value of `--name=value` or `--name value` in argv, or `fallback`.
std::string arg_string(int argc, char** argv, const std::string& name, std::string fallback);

/// `relative` under the source tree (for default data paths).
std::string source_path(const std::string& relative);

}  // namespace caflow::bench
