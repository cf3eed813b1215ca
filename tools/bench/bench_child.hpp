// The far side of a benchmark as a child process: this binary re-executed
// with other arguments (e.g. `caflow-bench remote --serve`), so that what is
// measured crosses a real process boundary (loopback, another address
// space) without a second program to build or find.
//
// The two sides talk through pipes: the child prints one line that starts
// with "serving" and carries what the parent needs (its ports), then serves
// until its standard input closes. A parent that dies therefore never
// leaves a server behind: its end of the pipe closes with it.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace caflow::bench {

/// The child's half: prints "serving P1 P2 ..." on standard output, then
/// blocks until standard input is closed (the parent finished or died).
void serve_until_stdin_closes(const std::vector<unsigned>& ports);

/// The parent's half: `/proc/self/exe` run with `args` (after argv[0]),
/// whose "serving ..." line has been read. The destructor closes the
/// child's standard input, sends SIGTERM and reaps it.
class BenchChild {
 public:
  /// Starts the child and waits for its line; throws std::runtime_error
  /// (naming `args`) when it cannot start or exits before printing it.
  explicit BenchChild(const std::vector<std::string>& args);
  ~BenchChild();
  BenchChild(const BenchChild&) = delete;
  BenchChild& operator=(const BenchChild&) = delete;

  /// The numbers of the child's "serving" line, in order.
  [[nodiscard]] const std::vector<unsigned>& ports() const { return ports_; }
  /// Its process id (-1 once killed).
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// kill -9 and reap it now (a crash, for failover measurements).
  void kill9();

 private:
  void reap(int signal);

  pid_t pid_ = -1;
  int to_child_ = -1;
  std::FILE* from_child_ = nullptr;
  std::vector<unsigned> ports_;
};

}  // namespace caflow::bench
