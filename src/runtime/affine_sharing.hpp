// The scheduler policy of caflow's actor systems: CAF's work sharing (one
// queue, idle workers asleep on a condition variable) with a slot per
// worker for the job its own actors just made ready.
//
// Why: a request crosses gateway -> head -> replica -> head -> gateway ...,
// and under work sharing every one of these messages puts its receiver on
// the shared queue and wakes a sleeping worker (a futex call on both sides
// and a context switch), although the sending actor is about to return and
// its own worker could run the receiver at once, with the message still in
// its cache. Here a message sent by an actor running on a worker makes the
// receiver that worker's next job instead (at most one: a second one goes to
// the shared queue, waking a sleeping worker, so fan-outs still spread).
// Messages from outside the workers (I/O threads, detached replicas, the
// clock) go to the shared queue as before.
//
// The trade: a job in a worker's slot waits until the worker's current job
// returns. caflow's scheduled actors (gateway, heads, cluster, node) only
// sequence messages; executor code runs in detached replicas. A scheduled
// actor must not block waiting for another actor (CAF's rule anyway).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>

namespace caf {
class actor_system_config;
namespace scheduler {
class abstract_coordinator;
}  // namespace scheduler
}  // namespace caf

namespace caflow::detail {

class AffineSharing : public caf::policy::unprofiled {
 public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}
    std::deque<caf::resumable*> queue;  // guarded by lock
    std::mutex lock;
    std::condition_variable cv;
    size_t sleeping = 0;  // workers waiting on cv; guarded by lock
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
    caf::resumable* next = nullptr;  // touched by the worker's own thread only
  };

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    auto& cd = d(self);
    bool wake = false;
    {
      std::lock_guard<std::mutex> guard{cd.lock};
      cd.queue.push_back(job);
      wake = cd.sleeping > 0;
    }
    if (wake)
      cd.cv.notify_one();
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    central_enqueue(self->parent(), job);
  }

  // Called by the worker's own thread, from a job it runs (CAF's contract for
  // execution_unit::exec_later), so the slot needs no synchronisation.
  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    auto& slot = d(self).next;
    if (slot == nullptr)
      slot = job;
    else
      central_enqueue(self->parent(), job);
  }

  // A job that used up its throughput goes behind the others.
  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    central_enqueue(self->parent(), job);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& slot = d(self).next;
    if (slot != nullptr) {
      auto* job = slot;
      slot = nullptr;
      return job;
    }
    auto& cd = d(self->parent());
    std::unique_lock<std::mutex> guard{cd.lock};
    if (cd.queue.empty()) {
      ++cd.sleeping;
      cd.cv.wait(guard, [&] { return !cd.queue.empty(); });
      --cd.sleeping;
    }
    auto* job = cd.queue.front();
    cd.queue.pop_front();
    return job;
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker* self, UnaryFunction f) {
    auto& slot = d(self).next;
    if (slot != nullptr) {
      auto* job = slot;
      slot = nullptr;
      f(job);
    }
  }

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& cd = d(self);
    std::unique_lock<std::mutex> guard{cd.lock};
    while (!cd.queue.empty()) {
      auto* job = cd.queue.front();
      cd.queue.pop_front();
      f(job);
    }
  }
};

/// Makes `cfg`'s actor system schedule with AffineSharing.
void use_affine_sharing(caf::actor_system_config& cfg);

}  // namespace caflow::detail
