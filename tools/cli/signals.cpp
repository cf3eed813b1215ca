#include "cli/signals.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

namespace caflow::cli {

sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

const char* wait_for_stop_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

void bound_stop(const sigset_t& set, double seconds, const char* command) {
  std::thread{[set, seconds, command] {
    timespec limit{};
    limit.tv_sec = static_cast<time_t>(seconds);
    limit.tv_nsec = static_cast<long>((seconds - static_cast<double>(limit.tv_sec)) * 1e9);
    for (;;) {
      int sig = sigtimedwait(&set, nullptr, &limit);
      if (sig < 0 && errno == EINTR)
        continue;
      if (sig > 0)
        std::fprintf(stderr, "caflow %s: a second stop signal: exiting now\n", command);
      else
        std::fprintf(stderr, "caflow %s: still stopping after %g s: exiting now\n", command,
                     seconds);
      std::fflush(stdout);
      std::_Exit(1);
    }
  }}.detach();
}

}  // namespace caflow::cli
