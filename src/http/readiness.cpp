#include "http/readiness.hpp"

#include <memory>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "caflow/messages.hpp"

namespace caflow::http {

namespace {

// How long a ping may take before its replica counts as busy rather than
// not answering (see the ping's error handler).
constexpr std::chrono::milliseconds busy_after{500};

// One check's tally; lives in the asking actor only.
struct Tally {
  Readiness out;
  size_t pending = 0;
  std::set<std::string> unready;  // deployments with a problem
  std::function<void(Readiness)> done;

  void problem(const std::string& deployment, std::string line) {
    unready.insert(deployment);
    out.problems.push_back(std::move(line));
  }

  void step() {
    if (--pending > 0)
      return;
    for (auto& [name, d] : out.deployments.as_object())
      d["ready"] = unready.count(name) == 0;
    out.ready = out.problems.empty();
    done(std::move(out));
  }
};

// The deployment's own verdict from its head's status: every slot alive.
void judge_status(Tally& t, const std::string& name, const Value& status) {
  int64_t started = 0;
  int64_t slots = 0;
  if (const auto* placement = status.find("placement"); placement && placement->is_array())
    for (const auto& p : placement->as_array()) {
      ++slots;
      if (p.get_bool("alive", false)) {
        ++started;
        continue;
      }
      auto who = name + "/shard-" + std::to_string(p.get_int("shard", 0)) + "/replica-"
                 + std::to_string(p.get_int("replica", 0));
      auto lost = p.get_string("lost", "");
      t.problem(name, who + ": not running" + (lost.empty() ? "" : " (" + lost + ")"));
    }
  auto expected = status.get_int("shards", 1) * status.get_int("replicas", 1);
  if (slots < expected)
    t.problem(name, name + ": " + std::to_string(slots) + " of " + std::to_string(expected)
                      + " replicas placed");
  auto& d = t.out.deployments[name];
  d["started"] = started;
  d["expected"] = expected;
}

}  // namespace

void ask_readiness(caf::actor_system& sys, std::vector<std::pair<std::string, head_actor>> heads,
                   std::chrono::milliseconds timeout, std::function<void(Readiness)> done) {
  // Arguments rather than captures: see ask_by_actor in runtime/gateway_bridge.cpp.
  sys.spawn(
    [](caf::event_based_actor* self, std::vector<std::pair<std::string, head_actor>> heads,
       caf::duration t, std::function<void(Readiness)> cb) {
      auto tally = std::make_shared<Tally>();
      caf::duration ping_limit{busy_after};
      tally->done = std::move(cb);
      tally->pending = 2 * heads.size() + 1;
      for (auto& [name, head] : heads) {
        if (!head) {
          tally->problem(name, name + ": no head");
          tally->out.deployments[name]["started"] = 0;
          tally->pending -= 2;
          continue;
        }
        self->request(head, t, status_atom::value)
          .then(
            [tally, name = name](Value& v) {
              judge_status(*tally, name, v);
              tally->step();
            },
            [tally, name = name](caf::error& err) {
              tally->problem(name, name + ": no status (" + describe(err) + ")");
              tally->out.deployments[name]["started"] = 0;
              tally->step();
            });
        self->request(head, ping_limit, ping_atom::value)
          .then([tally](ok_atom) { tally->step(); },
                [tally, name = name](caf::error& err) {
                  // A replica busy with a long request answers its ping
                  // late: started and alive (the status said so), so ready.
                  if (err == caf::sec::request_timeout)
                    tally->out.deployments[name]["busy"] = true;
                  else
                    tally->problem(name, name + ": " + describe(err));
                  tally->step();
                });
      }
      tally->step();  // the initial count's extra one: delivers when no head answers later
    },
    std::move(heads), timeout.count() <= 0 ? caf::duration{caf::infinite} : caf::duration{timeout},
    std::move(done));
}

}  // namespace caflow::http
