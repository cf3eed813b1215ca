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

/// Bounds the stop that follows a stop signal: a thread waits `seconds` (or
/// for a second signal of `set`), then prints "caflow COMMAND: still stopping
/// after N s: exiting now" and ends the process with exit code 1, whatever
/// its peers do (a node that no longer answers, a flow holding replicas).
/// Acknowledged writes are in the storage's write-ahead log already, so
/// they survive this exit as they survive a crash.
void bound_stop(const sigset_t& set, double seconds, const char* command);

}  // namespace caflow::cli
