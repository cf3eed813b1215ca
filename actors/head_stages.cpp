#include "actors/head_stages.hpp"

#include <memory>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/replica.hpp"
#include "actors/replica_spawn.hpp"
#include "actors/shard_join.hpp"
#include "caflow/errors.hpp"
#include "runtime/discovery.hpp"

namespace caflow::actors {

namespace {

caf::duration stage_timeout(const DeploymentOptions& spec) {
  if (spec.timeout.count() <= 0)
    return caf::infinite;
  return caf::duration{spec.timeout};
}

// Its own context: the deployment's, with its type and uses_*_with, as the
// only replica of one shard, named "<deployment>-<role>" (so its workspace
// is WORKSPACE/<deployment>-<role>, apart from the shards').
ExecutorContext stage_context(const DeploymentOptions& spec, const std::string& role,
                              const std::string& uses, const Params& with) {
  auto ctx = make_context(spec, 0, 0);
  ctx.name = spec.name + "-" + role;
  ctx.uses = uses;
  ctx.uses_with = with;
  ctx.replicas = 1;
  ctx.dynamic_batching.clear();
  return ctx;
}

void spawn(head_pointer self, head_stage& s) {
  s.endpoints.reset();
  auto& st = self->state;
  s.replica = st.spawn ? st.spawn(self, s.ctx) : spawn_replica(self, s.ctx);
}

head_stage& stage_of(head_pointer self, bool after) {
  auto& stages = *self->state.stages;
  return after ? stages.after : stages.before;
}

// "indexer/uses_after: ..." with the replica's own message (its label
// dropped: it names a shard the stage does not have), keeping its code.
caf::error stage_error(head_pointer self, const head_stage& s, const caf::error& err) {
  const auto& spec = self->state.spec;
  auto who = spec.name + "/" + s.role;
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout,
                      who + ": timed out after " + std::to_string(spec.timeout.count()) + " ms");
  if (err.category() != error_category)
    return make_error(errc::executor_failed, who + " (" + s.ctx.uses + "): " + caf::to_string(err));
  // The replica and the registry name it by its context's name
  // ("indexer-uses_after/shard-0/replica-0: ", "indexer-uses_after (T): ").
  auto message = error_message(err);
  if (message.rfind(s.ctx.name, 0) == 0)
    if (auto colon = message.find(": "); colon != std::string::npos)
      message.erase(0, colon + 2);
  return make_error(static_cast<errc>(err.code()), who + " (" + s.ctx.uses + "): " + message);
}

// Sends `req` to the stage; a replica that went away is re-spawned and the
// request tried once more on the new one.
void call_stage(head_pointer self, bool after, Request req, bool may_retry,
                std::function<void(caf::expected<Response>)> then) {
  auto& s = stage_of(self, after);
  auto kept = may_retry ? std::make_shared<Request>(req) : nullptr;
  self->request(s.replica, stage_timeout(self->state.spec), std::move(req))
    .then([then](Response& resp) { then(std::move(resp)); },
          [self, after, kept, then](caf::error& err) {
            auto& s = stage_of(self, after);
            if (kept && detail::replica_gone(err) && err != caf::sec::request_timeout) {
              self->state.log(self->state.spec.name + "/" + s.role + " went away ("
                              + caf::to_string(err) + "): restarting it");
              spawn(self, s);
              call_stage(self, after, std::move(*kept), false, std::move(then));
              return;
            }
            then(stage_error(self, s, err));
          });
}

// Asks the stage for its endpoints (which also waits for its executor).
void discover(head_pointer self, bool after, std::function<void(caf::error)> done) {
  Request req;
  req.endpoint = std::string{detail::discovery_endpoint};
  call_stage(self, after, std::move(req), true, [self, after, done](caf::expected<Response> resp) {
    auto& s = stage_of(self, after);
    if (!resp) {
      done(std::move(resp.error()));
      return;
    }
    std::set<std::string> names;
    auto key = std::string{detail::discovery_key_prefix} + s.ctx.name;
    if (const Value* list = resp->parameters.find(key); list && list->is_array())
      for (const auto& e : list->as_array())
        if (e.is_string())
          names.insert(e.as_string());
    s.endpoints = std::move(names);
    done({});
  });
}

}  // namespace

bool head_stage::binds(const std::string& endpoint) const {
  return !endpoints || endpoints->count(endpoint) > 0 || endpoints->count("*") > 0;
}

head_stages::~head_stages() {
  for (auto* s : {&before, &after})
    if (s->replica)
      caf::anon_send_exit(s->replica, caf::exit_reason::user_shutdown);
}

std::unique_ptr<head_stages> make_stages(head_pointer self, const DeploymentOptions& spec) {
  if (spec.uses_before.empty() && spec.uses_after.empty())
    return nullptr;
  auto stages = std::make_unique<head_stages>();
  stages->before.role = "uses_before";
  stages->after.role = "uses_after";
  if (!spec.uses_before.empty())
    stages->before.ctx = stage_context(spec, "uses_before", spec.uses_before,
                                       spec.uses_before_with);
  if (!spec.uses_after.empty())
    stages->after.ctx = stage_context(spec, "uses_after", spec.uses_after, spec.uses_after_with);
  for (auto* s : {&stages->before, &stages->after})
    if (s->configured())
      spawn(self, *s);
  return stages;
}

bool after_takes(const head_stages& stages, const std::string& endpoint) {
  return stages.after.configured() && endpoint != detail::discovery_endpoint
         && stages.after.binds(endpoint);
}

void stages_ready(head_pointer self, std::function<void(caf::error)> done) {
  auto& stages = *self->state.stages;
  bool both = stages.before.configured() && stages.after.configured();
  auto join = std::make_shared<ShardJoin>(
    both ? 2 : 1, [done](std::vector<std::optional<Response>>, std::vector<std::string> failures) {
      if (failures.empty())
        done({});
      else
        done(make_error(errc::executor_start_failed, failures.front()));
    });
  size_t k = 0;
  for (bool after : {false, true}) {
    if (!stage_of(self, after).configured())
      continue;
    discover(self, after, [join, i = k++](caf::error err) {
      if (err)
        join->fail(i, error_message(err).empty() ? describe(err) : error_message(err));
      else
        join->skip(i);
    });
  }
}

void stage_request(head_pointer self, Request req, caf::typed_response_promise<Response> rp,
                   head_submit submit) {
  auto& st = self->state;
  auto& stages = *st.stages;
  auto forward = [self, submit](Request r, caf::typed_response_promise<Response> p) {
    auto& st = self->state;
    auto op = ++st.next_op;
    if (after_takes(*st.stages, r.endpoint))
      st.stages->pending[op] = head_after_call{r.id, r.endpoint, r.parameters};
    submit(self, op, std::move(r), std::move(p));
  };
  if (!stages.before.configured() || req.endpoint == detail::discovery_endpoint
      || !stages.before.binds(req.endpoint)) {
    forward(std::move(req), std::move(rp));
    return;
  }
  auto id = req.id;
  auto endpoint = req.endpoint;
  auto params = req.parameters;
  auto target = req.target_executor;
  call_stage(self, false, std::move(req), true,
             [forward, rp, id, endpoint, params, target](caf::expected<Response> resp) mutable {
               if (!resp) {
                 rp.deliver(std::move(resp.error()));
                 return;
               }
               // The shards get its documents, and the request's parameters
               // updated by what it returned.
               Request next{id, endpoint, std::move(resp->docs), std::move(params), target};
               next.parameters.merge(resp->parameters);
               forward(std::move(next), std::move(rp));
             });
}

bool stage_deliver(head_pointer self, uint64_t op, caf::expected<Response>& result,
                   caf::typed_response_promise<Response>& rp) {
  auto& stages = self->state.stages;
  if (!stages)
    return false;
  auto i = stages->pending.find(op);
  if (i == stages->pending.end())
    return false;
  auto call = std::move(i->second);
  stages->pending.erase(i);
  if (!result) {
    // The built-in reduce would fail it too: no shard answer to hand over.
    rp.deliver(std::move(result.error()));
    return true;
  }
  auto packed = std::make_shared<Response>(std::move(*result));
  Request req{call.id, call.endpoint, std::move(packed->docs), std::move(call.parameters), {}};
  call_stage(self, true, std::move(req), true, [rp, packed](caf::expected<Response> resp) mutable {
    if (!resp) {
      rp.deliver(std::move(resp.error()));
      return;
    }
    // Counts, failures and routes stay the shards'; the documents
    // and (over the built-in reduce's) parameters are uses_after's.
    packed->docs = std::move(resp->docs);
    packed->parameters.merge(resp->parameters);
    rp.deliver(std::move(*packed));
  });
  return true;
}

}  // namespace caflow::actors
