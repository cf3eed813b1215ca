// The scheduler policy's queueing decisions, on stand-ins for CAF's worker
// and coordinator (the policy only touches their data() and parent()).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "runtime/affine_sharing.hpp"

using caflow::detail::AffineSharing;

namespace {

struct FakeCoordinator {
  AffineSharing::coordinator_data data_{nullptr};
  AffineSharing::coordinator_data& data() { return data_; }
};

struct FakeWorker {
  FakeCoordinator* coordinator;
  AffineSharing::worker_data data_{nullptr};
  AffineSharing::worker_data& data() { return data_; }
  FakeCoordinator* parent() { return coordinator; }
};

// Jobs are never run here: distinct addresses stand for them.
caf::resumable* job(uintptr_t n) {
  return reinterpret_cast<caf::resumable*>(n * 64);
}

}  // namespace

TEST_CASE("affine sharing: a job made ready by a worker's own actor runs next on that worker") {
  FakeCoordinator c;
  FakeWorker w{&c};
  AffineSharing policy;
  policy.central_enqueue(&c, job(1));  // from outside: the shared queue
  policy.internal_enqueue(&w, job(2));
  CHECK(w.data().next == job(2));
  CHECK(c.data().queue.size() == 1);
  CHECK(policy.dequeue(&w) == job(2));  // before the older shared job
  CHECK(policy.dequeue(&w) == job(1));
  CHECK(c.data().queue.empty());
}

TEST_CASE("affine sharing: a second ready job goes to the shared queue, for another worker") {
  FakeCoordinator c;
  FakeWorker a{&c};
  FakeWorker b{&c};
  AffineSharing policy;
  policy.internal_enqueue(&a, job(1));
  policy.internal_enqueue(&a, job(2));  // a fan-out: the slot is taken
  CHECK(a.data().next == job(1));
  REQUIRE(c.data().queue.size() == 1);
  CHECK(policy.dequeue(&b) == job(2));  // the other worker takes it
  CHECK(policy.dequeue(&a) == job(1));
}

TEST_CASE("affine sharing: a job that used up its throughput and external jobs queue in order") {
  FakeCoordinator c;
  FakeWorker w{&c};
  AffineSharing policy;
  policy.external_enqueue(&w, job(1));
  policy.resume_job_later(&w, job(2));  // behind the others, not in the slot
  CHECK(w.data().next == nullptr);
  CHECK(policy.dequeue(&w) == job(1));
  CHECK(policy.dequeue(&w) == job(2));
}

TEST_CASE("affine sharing: shutdown sees the jobs in slots and in the queue") {
  FakeCoordinator c;
  FakeWorker w{&c};
  AffineSharing policy;
  policy.internal_enqueue(&w, job(1));
  policy.central_enqueue(&c, job(2));
  policy.central_enqueue(&c, job(3));
  std::vector<caf::resumable*> seen;
  auto collect = [&](caf::resumable* j) { seen.push_back(j); };
  policy.foreach_resumable(&w, collect);
  policy.foreach_central_resumable(&c, collect);
  CHECK(seen == std::vector<caf::resumable*>{job(1), job(2), job(3)});
  CHECK(w.data().next == nullptr);
  CHECK(c.data().queue.empty());
}
