#include "runtime/inline_unit.hpp"

#include <memory>
#include <mutex>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace caflow::detail {

// The units of threads alive (taken) and of threads gone (free). Never
// destroyed: units must outlive every actor that may hold one as its
// context(), and threads may exit during static destruction.
struct InlineUnitPool {
  std::mutex mtx;
  std::vector<std::unique_ptr<InlineUnit>> all;  // guarded by mtx
  std::vector<InlineUnit*> free;                 // guarded by mtx

  static InlineUnitPool& instance() {
    static auto* pool = new InlineUnitPool;
    return *pool;
  }

  InlineUnit* take() {
    std::lock_guard<std::mutex> guard{mtx};
    InlineUnit* unit = nullptr;
    if (free.empty()) {
      all.emplace_back(new InlineUnit);
      unit = all.back().get();
    } else {
      unit = free.back();
      free.pop_back();
    }
    unit->owner_.store(std::this_thread::get_id(), std::memory_order_release);
    return unit;
  }

  void give(InlineUnit* unit) {
    unit->owner_.store(std::thread::id{}, std::memory_order_release);
    std::lock_guard<std::mutex> guard{mtx};
    free.push_back(unit);
  }
};

namespace {

struct ThreadUnit {
  InlineUnit* unit = InlineUnitPool::instance().take();
  ThreadUnit() = default;
  ThreadUnit(const ThreadUnit&) = delete;
  ThreadUnit& operator=(const ThreadUnit&) = delete;
  ~ThreadUnit() { InlineUnitPool::instance().give(unit); }
};

// What an actor needs to be scheduled: its own system's scheduler (a unit
// held as a stale context() may have run for another system since).
caf::actor_system& home_of(caf::resumable* ptr, caf::actor_system* fallback) {
  if (auto* actor = dynamic_cast<caf::abstract_actor*>(ptr))
    return actor->home_system();
  return *fallback;
}

}  // namespace

InlineUnit& InlineUnit::here() {
  thread_local ThreadUnit mine;
  return *mine.unit;
}

InlineUnit::~InlineUnit() = default;

void InlineUnit::begin(caf::actor_system& sys, Bound bound) {
  system_ = &sys;
  bound_ = bound;
  deadline_ = std::chrono::steady_clock::now() + bound.time;
  last_ = {};
  closed_ = false;
  running_ = true;
}

void InlineUnit::exec_later(caf::resumable* ptr) {
  // The owner check first: any thread may get here, and only the owner may
  // read the rest.
  if (owner_.load(std::memory_order_acquire) == std::this_thread::get_id() && running_
      && !closed_) {
    queue_.push_back(ptr);  // the caller's reference goes with it
    return;
  }
  forward(ptr);
}

void InlineUnit::forward(caf::resumable* ptr) {
  // The scheduler takes over the reference, as from any enqueue.
  home_of(ptr, system_).scheduler().enqueue(ptr);
}

void InlineUnit::drain() {
  // Whatever happens below (CAF's resume catches actors' exceptions, but
  // not e.g. std::bad_alloc from its own queues), what is queued goes to
  // the scheduler and the unit is usable again.
  struct Finish {
    InlineUnit& u;
    ~Finish() {
      u.closed_ = true;
      for (auto* job : u.queue_) {
        u.forward(job);
        ++u.last_.forwarded;
      }
      u.queue_.clear();
      u.running_ = false;
      u.closed_ = false;
    }
  } finish{*this};
  auto max_throughput = system().scheduler().max_throughput();
  while (!queue_.empty()) {
    if (last_.resumed >= bound_.jobs || std::chrono::steady_clock::now() >= deadline_)
      return;  // Finish hands the rest over
    auto* job = queue_.front();
    queue_.pop_front();
    ++last_.resumed;
    // As caf/scheduler/worker.hpp does with the result.
    switch (job->resume(this, max_throughput)) {
      case caf::resumable::resume_later:
        queue_.push_back(job);  // keeps its reference
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
        intrusive_ptr_release(job);
        break;
      case caf::resumable::shutdown_execution_unit:
        // Only the scheduler's own shutdown job says so, and it is never
        // woken through a unit; a worker keeps no reference to it either.
        break;
    }
  }
}

}  // namespace caflow::detail
