// An actor system on CAF's test_coordinator, for tests that order actor
// messages by hand: messages run only in sched->run(), timers fire only in
// sched->trigger_timeouts(). The fixtures of the head and replica tests
// derive from it.
#pragma once

#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "caflow/type_ids.hpp"

namespace caflow::testing {

struct CoordinatedSystem {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<caf::actor> cleanup;  // stopped at the end

  CoordinatedSystem() {
    add_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  // A derived fixture's destructor sends its own actors their exit first.
  ~CoordinatedSystem() {
    for (auto& a : cleanup)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    // Drain everything (timers included) or the system waits at shutdown.
    for (int i = 0; i < 100 && (sched->run() > 0 || sched->trigger_timeouts() > 0); ++i) {
    }
  }
};

}  // namespace caflow::testing
