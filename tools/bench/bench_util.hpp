// Shared helpers of caflow-bench: timing, percentiles, JSON-line output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "caflow/value.hpp"

namespace caflow::bench {

using clock = std::chrono::steady_clock;

/// Seconds since `start`.
double seconds_since(clock::time_point start);

/// The p-th percentile (0..100) of `xs` (sorted in place).
double percentile(std::vector<double>& xs, double p);

/// Prints `v` as one JSON line on standard output and flushes.
void emit(const Value& v);

/// The value of `--name=value` in argv, or `fallback`.
long long arg(int argc, char** argv, const std::string& name, long long fallback);

}  // namespace caflow::bench
