#include "actors/node.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/result.hpp>
#include <caf/sec.hpp>
#include <caf/system_messages.hpp>

#include "actors/replica.hpp"
#include "actors/replica_spawn.hpp"
#include "caflow/errors.hpp"
#include "runtime/flow_identity.hpp"
#include "storage/shard_db.hpp"
#include "storage/shard_store.hpp"

namespace caflow::actors {

namespace {

using node_pointer = node_actor::stateful_pointer<node_state>;

// A replica builds its executor when it starts. The answer to a placement
// waits for that build this long at most: less than the flow's own timeout
// for the placement (60 s in the cluster actor), so that a slow build (a
// large index reopened) is answered with the replica still building, as if
// it had not been awaited, rather than failed and placed again.
constexpr auto build_wait = std::chrono::seconds(45);

std::set<std::string> known_types() {
  auto names = ExecutorRegistry::instance().names();
  return {names.begin(), names.end()};
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

void on_down(node_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (auto i = st.replicas.find(dm.source); i != st.replicas.end()) {
    st.log("stopped " + i->second.label);
    if (auto f = st.flows.find(i->second.flow); f != st.flows.end() && f->second > 0)
      --f->second;
    st.replicas.erase(i);
    if (st.stopping && st.replicas.empty())
      self->quit(st.stopping);
    return;
  }
  if (auto f = st.flows.find(dm.source); f != st.flows.end()) {
    // The flow stopped or its process died: its replicas have no one to
    // answer to. Stopping them closes their executors (storage flushed).
    st.log("flow went away (" + caf::to_string(dm.reason) + "): stopping "
           + std::to_string(f->second) + " replica(s)");
    for (auto& [addr, h] : st.replicas)
      if (h.flow == dm.source)
        self->send_exit(h.replica, caf::exit_reason::user_shutdown);
    st.flows.erase(f);
  }
}

// What this node holds of the shard `ctx` names (see src/cluster/protocol.hpp).
Value holds(node_pointer self, const ExecutorContext& ctx) {
  namespace fs = std::filesystem;
  Value out = Value::object();
  out["holds"] = false;
  auto flow_id = ctx.uses_metas.is_object() ? ctx.uses_metas.get_string("flow_id", "") : "";
  if (!detail::valid_flow_identity(flow_id))
    return out;
  auto dir = fs::path{self->state.workspace} / flow_id / ctx.name;
  std::error_code ec;
  if (!fs::exists(dir / "CURRENT", ec))
    return out;
  auto db = ShardDb::open(dir.string(), StoreOptions{});
  if (!db)
    return out;
  auto ids = (*db)->shard_ids();
  if (std::find(ids.begin(), ids.end(), ctx.shard_id) == ids.end())
    return out;
  auto cf = (*db)->column_family(ctx.shard_id);
  if (!cf)
    return out;
  ShardStore store{*db, *cf, ctx.shard_id, false};
  auto n = store.count();
  auto applied = store.get_meta("applied");
  out["holds"] = n && *n > 0;
  out["documents"] = static_cast<int64_t>(n ? *n : 0);
  int64_t at = 0;
  if (applied && *applied) {
    try {
      at = std::stoll(**applied);
    } catch (const std::exception&) {
      // Unreadable: the shard's own start says so.
    }
  }
  out["applied"] = at;
  return out;
}

}  // namespace

node_actor::behavior_type node(node_pointer self, std::string workspace, node_log log) {
  self->state.workspace = std::move(workspace);
  self->state.log = std::move(log);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  // The node stops (SIGTERM): its replicas stop too, closing their executors
  // (storage flushed), whether or not their flows are still there. Without
  // this the actor system waited for the flows to let them go.
  // The node quits once they are gone (their down messages arrive), so that
  // the actor system shuts down with no replica left behind.
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    if (st.replicas.empty()) {
      self->quit(em.reason);
      return;
    }
    if (!st.stopping)
      st.log("stopping " + std::to_string(st.replicas.size()) + " hosted replica(s)");
    st.stopping = em.reason ? em.reason : caf::exit_reason::user_shutdown;
    for (auto& [addr, h] : st.replicas)
      self->send_exit(h.replica, caf::exit_reason::user_shutdown);
  });
  return {
    [self](place_atom, ExecutorContext& ctx, caf::actor& flow) -> caf::result<replica_actor> {
      auto& st = self->state;
      auto label = replica_label(ctx) + " (" + ctx.uses + ")";
      if (!ExecutorRegistry::instance().contains(ctx.uses)) {
        st.log("refused " + label + ": unknown executor type");
        return make_error(errc::unknown_executor,
                          "unknown executor type '" + ctx.uses + "' on this node (it knows: "
                            + joined(known_types()) + "; load its plugin with --plugin)");
      }
      // The executor's data lives on this node's disk, whatever the flow's
      // own workspace is.
      ctx.workspace = st.workspace;
      // Each flow's data apart, by the identity stored in the flow's own
      // workspace (not its name, which two flows may share).
      auto flow_id = ctx.uses_metas.is_object() ? ctx.uses_metas.get_string("flow_id", "") : "";
      if (detail::valid_flow_identity(flow_id)) {
        namespace fs = std::filesystem;
        auto flow_dir = fs::path{st.workspace} / flow_id;
        std::error_code ec;
        // Data of this executor from before flows were kept apart: not
        // served from the new place, so say where it is.
        if (fs::exists(fs::path{st.workspace} / ctx.name / "CURRENT", ec)
            && !fs::exists(flow_dir / ctx.name, ec))
          st.log("WARNING: " + (fs::path{st.workspace} / ctx.name).string()
                 + " holds data from before each flow got its own directory; flow " + flow_id
                 + " now uses " + (flow_dir / ctx.name).string()
                 + ": move the directory there (node stopped) to serve it");
        ctx.workspace = flow_dir.string();
      }
      // As in the flow's process: detached unless its executor runs on the
      // scheduler (actors/replica_spawn.hpp).
      auto handle = spawn_replica(self, std::move(ctx));
      // Answer only once the executor is built: a replica whose executor
      // cannot be created must never reach a head's rotation.
      auto rp = self->make_response_promise<replica_actor>();
      auto host = [self, handle, label, flow]() {
        auto& st = self->state;
        self->monitor(handle);
        if (flow && st.flows.count(flow.address()) == 0) {
          self->monitor(flow);
          st.flows[flow.address()] = 0;
        }
        if (flow)
          ++st.flows[flow.address()];
        st.replicas[handle.address()] = {handle, label, flow ? flow.address() : caf::actor_addr{}};
        st.log("hosting " + label);
      };
      self->request(handle, build_wait, ping_atom::value)
        .then(
          [rp, handle, host](ok_atom) mutable {
            host();
            rp.deliver(handle);
          },
          [self, rp, handle, label, host](caf::error& err) mutable {
            if (err == caf::sec::request_timeout) {
              // Still building: the head's readiness check waits for it.
              host();
              rp.deliver(handle);
              return;
            }
            self->send_exit(handle, caf::exit_reason::user_shutdown);
            auto why = error_message(err).empty() ? describe(err) : error_message(err);
            self->state.log("could not start " + label + ": " + why);
            rp.deliver(make_error(is(err, errc::unknown_executor) ? errc::unknown_executor
                                                                  : errc::executor_start_failed,
                                  why));
          });
      return rp;
    },
    [](ping_atom) -> ok_atom { return ok_atom::value; },
    [self](holds_atom, const ExecutorContext& ctx) -> Value { return holds(self, ctx); },
    [](types_atom) -> std::set<std::string> { return known_types(); },
    [self](status_atom) -> Value {
      Value v = Value::object();
      Value::Array hosted;
      for (auto& [addr, h] : self->state.replicas)
        hosted.emplace_back(h.label);
      Value::Array types;
      for (const auto& t : known_types())
        types.emplace_back(t);
      v["workspace"] = self->state.workspace;
      v["hosted"] = std::move(hosted);
      v["executors"] = std::move(types);
      return v;
    },
  };
}

}  // namespace caflow::actors
