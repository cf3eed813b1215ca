// A progress bar on a terminal, as Jina's client prints it: bar, elapsed
// time, requests per second, then "N steps done in S seconds".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace caflow::cli {

class ProgressBar {
 public:
  /// Draws on `out` (a terminal) when `enabled`; otherwise does nothing.
  ProgressBar(std::string label, bool enabled, std::FILE* out = stderr);

  /// Records progress; redraws at most every 100 ms. Thread-safe.
  void update(size_t done, size_t total);

  /// Draws the final line: "N steps done in S seconds".
  void finish(size_t done);

  /// Seconds since construction.
  [[nodiscard]] double elapsed() const;

 private:
  void draw(size_t done, size_t total);

  std::string label_;
  bool enabled_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::mutex mutex_;
};

/// "1:02:03" / "0:00:05".
std::string format_elapsed(double seconds);

}  // namespace caflow::cli
