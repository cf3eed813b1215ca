// A CAF execution unit that runs actors on the calling thread, so that a
// request from a thread outside CAF (an HTTP session on an Asio I/O thread)
// is carried through the flow's scheduled actors by that thread instead of
// being handed to a CAF worker and back.
//
// How: in CAF 0.17 an actor that a message wakes up is given to the
// execution unit passed to enqueue (execution_unit::exec_later), and an
// actor's own sends pass the unit it runs on (its context()). So a message
// enqueued with this unit as host queues the receiver here, and everything
// that receiver wakes while it runs here is queued here too; run() resumes
// them one after the other as CAF's own workers do (caf/scheduler/
// worker.hpp), until none is left. A flow whose actors are all scheduled
// (gateway, heads, scheduled replicas) then answers inside run(): no thread
// woken, no context switch. Detached actors are not affected (they run on
// threads of their own whoever wakes them).
//
// Bounded: after `time` of running or `jobs` resumes, whichever comes first,
// the jobs still queued go to the scheduler and run() returns, so the
// calling thread (which serves other connections) is not held for long and
// nothing is lost or starved. An actor woken by a thread other than the
// unit's, or while the unit is not running (an actor keeps its last unit as
// context()), goes to the scheduler too.
//
// One unit per thread, never freed while the process lives (an actor may
// hold it as its context() after the thread is gone): a thread that exits
// hands its unit back to a pool for the next thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <thread>

#include <caf/execution_unit.hpp>
#include <caf/fwd.hpp>

namespace caflow::detail {

/// How long one InlineUnit::run() may carry on. (Outside the class: a
/// default argument of the class's own cannot use its member initializers.)
struct InlineBound {
  std::chrono::microseconds time{500};
  size_t jobs = 1024;
};

class InlineUnit final : public caf::execution_unit {
 public:
  using Bound = InlineBound;

  /// The calling thread's unit (made on first use).
  static InlineUnit& here();

  /// True while run() is on this thread's stack (the unit's own thread).
  [[nodiscard]] bool running() const noexcept { return running_; }

  /// Calls `start(this)` (which enqueues something with this unit as host)
  /// and then resumes what it woke, and what those wake, until nothing is
  /// left or the bound is reached; the rest goes to `sys`' scheduler. Must
  /// not be called while running() (run() does not nest: callers send
  /// with a null host then). `start` must not throw.
  template <class Start>
  void run(caf::actor_system& sys, Start&& start) {
    begin(sys);
    start(static_cast<caf::execution_unit*>(this));
    drain();
  }

  /// As run(), with a bound of the caller's (tests).
  template <class Start>
  void run(caf::actor_system& sys, Bound bound, Start&& start) {
    begin(sys, bound);
    start(static_cast<caf::execution_unit*>(this));
    drain();
  }

  /// CAF's: `ptr` was woken by a job running here (or by someone holding
  /// this unit as an actor's stale context()). Carries a reference, as in
  /// CAF's schedulers.
  void exec_later(caf::resumable* ptr) override;

  /// What the last run() did, for tests and benchmarks.
  struct Stats {
    size_t resumed = 0;    // resume() calls on this thread
    size_t forwarded = 0;  // jobs handed to the scheduler (bound reached)
  };
  [[nodiscard]] Stats last_run() const noexcept { return last_; }

  InlineUnit(const InlineUnit&) = delete;
  InlineUnit& operator=(const InlineUnit&) = delete;
  ~InlineUnit() override;

 private:
  InlineUnit() = default;
  friend struct InlineUnitPool;

  void begin(caf::actor_system& sys, Bound bound = {});
  void drain();
  void forward(caf::resumable* ptr);

  // The thread the unit belongs to now (none while pooled); read by any
  // thread that calls exec_later, hence atomic.
  std::atomic<std::thread::id> owner_{};
  // The rest is touched by the owner thread only.
  bool running_ = false;
  bool closed_ = false;  // the bound was reached: no more queueing
  std::deque<caf::resumable*> queue_;
  Bound bound_;
  std::chrono::steady_clock::time_point deadline_;
  Stats last_;
};

}  // namespace caflow::detail
