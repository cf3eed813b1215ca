// Catching up between two real replica actors (actors/replica_sync.cpp) with
// real Indexers, under CAF's test coordinator: the order of writes, log
// cuts and snapshot chunks is set by the test, without sleeps.
#include <doctest/doctest.h>

#include <memory>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/replica.hpp"
#include "caflow/type_ids.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/coordinated_system.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

Request index_one(uint64_t i) {
  Request r;
  r.endpoint = "/index";
  auto& d = r.docs.emplace_back();
  d.id = "d" + std::to_string(i);
  d.text = "mail " + std::to_string(i);
  std::vector<float> v(4, 0.25f);
  v[i % 4] += 1.0f;
  d.embedding = Embedding::dense_vector(std::move(v));
  return r;
}

struct fixture : testing::CoordinatedSystem {
  replica_actor spawn_replica(const TempWorkspace& ws, Params with) {
    auto r = sys->spawn(actors::replica, indexer_context(ws.path, std::move(with)));
    cleanup.push_back(caf::actor_cast<caf::actor>(r));
    sched->run();
    return r;
  }

  void write(const replica_actor& to, uint64_t seq) {
    caf::anon_send(to, write_atom::value, seq, index_one(seq));
  }

  // Asks `target` to catch up from `source` up to `upto`; the answer lands
  // in the result.
  std::shared_ptr<std::optional<caf::expected<uint64_t>>> recover(const replica_actor& target,
                                                                  const replica_actor& source,
                                                                  uint64_t upto) {
    auto out = std::make_shared<std::optional<caf::expected<uint64_t>>>();
    sys->spawn(
      [](caf::event_based_actor* self, replica_actor t, replica_actor s, uint64_t n,
         std::shared_ptr<std::optional<caf::expected<uint64_t>>> o) -> caf::behavior {
        self->request(t, caf::infinite, recover_atom::value, caf::actor_cast<caf::actor>(s), n)
          .then([o](uint64_t applied) { *o = applied; },
                [o](caf::error& err) { *o = caf::expected<uint64_t>{std::move(err)}; });
        return {[](progress_atom, uint64_t, uint64_t) {}};  // the head's progress reports
      },
      target, source, upto, out);
    return out;
  }

  uint64_t seq_of(const replica_actor& r) {
    auto out = std::make_shared<uint64_t>(0);
    sys->spawn(
      [](caf::event_based_actor* self, replica_actor r, std::shared_ptr<uint64_t> o) {
        self->request(r, caf::infinite, seq_atom::value).then([o](uint64_t n) { *o = n; });
      },
      r, out);
    sched->run();
    return *out;
  }
};

}  // namespace

TEST_CASE_FIXTURE(fixture,
                  "catch-up: a gap the source's log no longer covers after a snapshot "
                  "takes a fresh snapshot, and ends") {
  TempWorkspace a;
  TempWorkspace b;
  // The source keeps 1 write of log, cut once it holds 65 (see
  // storage/log_retention.hpp): after 100 writes it holds 66..100.
  auto source = spawn_replica(a, Params{{"log_retention", 1}});
  auto target = spawn_replica(b, Params::object());
  for (uint64_t seq = 1; seq <= 100; ++seq)
    write(source, seq);
  sched->run();
  REQUIRE(seq_of(source) == 100);
  // The head marked the target at write 109 and sends it the writes after;
  // the source has not applied 101..109 yet.
  for (uint64_t seq = 110; seq <= 140; ++seq)
    write(target, seq);
  auto done = recover(target, source, 109);
  // Its log does not reach back to 1: a snapshot at 100, which ends below
  // the gap 101..109; the source's log has nothing after 100 yet, so the
  // target looks again later.
  sched->run();
  CHECK_FALSE(done->has_value());
  // Now the source applies 101..140, and cuts its log to 131.. at 131.
  for (uint64_t seq = 101; seq <= 140; ++seq)
    write(source, seq);
  sched->run();
  // The target looks again: the log after 100 is gone, so a snapshot from
  // the start (at 140), and the writes it holds are duplicates of it. With
  // the finished snapshot continued instead, this never ended: bounded here.
  for (int i = 0; i < 10 && !done->has_value(); ++i) {
    sched->trigger_timeouts();
    sched->run(25);
  }
  REQUIRE(done->has_value());
  REQUIRE_MESSAGE(**done, describe(**done));
  CHECK(***done >= 140);
  CHECK(seq_of(target) == 140);
  auto count = std::make_shared<int64_t>(-1);
  sys->spawn(
    [](caf::event_based_actor* self, replica_actor r, std::shared_ptr<int64_t> o) {
      Request req;
      req.endpoint = "/count";
      self->request(r, caf::infinite, std::move(req)).then([o](Response& resp) {
        *o = resp.parameters.get_int("count", -1);
      });
    },
    target, count);
  sched->run();
  CHECK(*count == 140);
}
