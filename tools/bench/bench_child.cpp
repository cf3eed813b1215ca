#include "bench/bench_child.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace caflow::bench {

void serve_until_stdin_closes(const std::vector<unsigned>& ports) {
  std::cout << "serving";
  for (auto p : ports)
    std::cout << ' ' << p;
  std::cout << std::endl;
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
}

BenchChild::BenchChild(const std::vector<std::string>& args) {
  std::string what = "caflow-bench";
  for (const auto& a : args)
    what += " " + a;
  int out[2], in[2];
  if (::pipe(out) != 0)
    throw std::runtime_error(what + ": pipe failed");
  if (::pipe(in) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error(what + ": pipe failed");
  }
  // argv is built before the fork: the child only calls async-signal-safe
  // functions until it execs (the parent may have threads).
  std::vector<std::string> storage{"caflow-bench"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(in[0], STDIN_FILENO);
    for (int fd : {out[0], out[1], in[0], in[1]})
      ::close(fd);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(in[0]);
  to_child_ = in[1];
  if (pid_ < 0) {
    ::close(out[0]);
    ::close(to_child_);
    throw std::runtime_error(what + ": fork failed");
  }
  // The read end stays open for the child's life: a child that writes to
  // its standard output later must not get SIGPIPE for it.
  from_child_ = ::fdopen(out[0], "r");
  char* line = nullptr;
  size_t cap = 0;
  bool got = from_child_ != nullptr && ::getline(&line, &cap, from_child_) > 0;
  std::istringstream words{got ? std::string{line} : std::string{}};
  std::free(line);
  std::string head;
  words >> head;
  for (unsigned p; words >> p;)
    ports_.push_back(p);
  if (head != "serving") {
    reap(SIGKILL);
    throw std::runtime_error(what + ": the child process did not start");
  }
}

BenchChild::~BenchChild() {
  reap(SIGTERM);
}

void BenchChild::kill9() {
  reap(SIGKILL);
}

void BenchChild::reap(int signal) {
  // A crash (SIGKILL) comes first, so the child never sees its input close
  // and starts a clean stop; a stop closes the input first, then signals.
  if (signal != SIGKILL && to_child_ >= 0)
    ::close(to_child_);
  if (pid_ > 0) {
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  if (signal == SIGKILL && to_child_ >= 0)
    ::close(to_child_);
  to_child_ = -1;
  if (from_child_ != nullptr)
    std::fclose(from_child_);
  from_child_ = nullptr;
}

}  // namespace caflow::bench
