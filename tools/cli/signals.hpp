// SIGINT/SIGTERM handling of the daemons (`caflow flow`, `caflow node`).
#pragma once

#include <csignal>

namespace caflow::cli {

/// Blocks SIGINT and SIGTERM in the calling thread and returns the set. Call
/// it before any other thread starts: threads inherit the mask, so only a
/// later sigwait() on the set sees the signals (no async handler needed).
sigset_t block_stop_signals();

/// Waits for one of `set`'s signals and returns its name ("SIGTERM").
const char* wait_for_stop_signal(const sigset_t& set);

}  // namespace caflow::cli
