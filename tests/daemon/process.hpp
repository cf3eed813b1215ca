// Child processes for multi-process tests: start a daemon, read its output
// line by line with a deadline, signal it, wait for it with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace caflow::testing {

using namespace std::chrono_literals;

class Process {
 public:
  /// Starts argv[0] with its arguments; stdout and stderr are captured into
  /// one pipe. Throws std::runtime_error when it cannot start.
  explicit Process(std::vector<std::string> argv);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  /// Kills the process (SIGKILL) if it still runs, and reaps it.
  ~Process();

  /// The next output line, or nullopt at end of output or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  /// Reads lines until one contains `needle`; returns it, or nullopt on
  /// timeout / end of output. Every line read is kept in output().
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::milliseconds timeout);

  /// Everything read so far.
  [[nodiscard]] const std::string& output() const noexcept { return output_; }

  void signal(int sig);

  /// Stops the process (SIGSTOP) and returns once it is stopped (kill()
  /// only queues the signal), or false after `timeout` or when it exited.
  bool suspend(std::chrono::milliseconds timeout = 10s);

  /// The exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
  std::string output_;
  std::optional<int> status_;
};

/// A loopback TCP port that was free a moment ago (the kernel's pick), for
/// daemons that cannot bind port 0 themselves and report it.
uint16_t free_port();

/// Runs a command to completion (bounded by `timeout`, then SIGKILL) and
/// returns its exit code and combined output.
struct RunResult {
  int code = -1;
  std::string output;
};
RunResult run(std::vector<std::string> argv, std::chrono::milliseconds timeout = 60s);

}  // namespace caflow::testing
