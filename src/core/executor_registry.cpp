#include "caflow/executor.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace caflow {

namespace {

using TypeSet = std::set<std::string, std::less<>>;

// Adds or removes `type` (find first: erasing by a string_view key needs C++23).
void set_member(TypeSet& set, std::string_view type, bool member) {
  if (member)
    set.emplace(type);
  else if (auto i = set.find(type); i != set.end())
    set.erase(i);
}

}  // namespace

struct ExecutorRegistry::Impl {
  mutable std::mutex mtx;
  std::map<std::string, ExecutorFactory, std::less<>> factories;
  std::map<std::string, bool, std::less<>> stateful;
  std::map<std::string, bool, std::less<>> replicated;
  TypeSet on_scheduler;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> reads;
  TypeSet concurrent_reads;
  std::map<std::string, std::function<Params(const ExecutorContext&)>, std::less<>> defaults;
  std::map<std::string, std::vector<std::string>, std::less<>> uses_with_keys;
};

std::shared_ptr<ExecutorRegistry::Impl> ExecutorRegistry::make_impl() {
  return std::make_shared<Impl>();
}

ExecutorRegistry& ExecutorRegistry::instance() {
  // Function-local static: safe to use from other static initialisers
  // (CAFLOW_REGISTER_EXECUTOR), whatever their order.
  static ExecutorRegistry registry;
  return registry;
}

bool ExecutorRegistry::add(std::string type, ExecutorFactory factory, bool stateful,
                           bool replicated) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->stateful[type] = stateful;
  impl_->replicated[type] = replicated;
  impl_->reads.erase(type);
  set_member(impl_->concurrent_reads, type, false);
  set_member(impl_->on_scheduler, type, false);
  // A re-registration replaces the type: its keys come with it (or not).
  if (auto i = impl_->uses_with_keys.find(type); i != impl_->uses_with_keys.end())
    impl_->uses_with_keys.erase(i);
  impl_->factories[std::move(type)] = std::move(factory);
  return true;
}

bool ExecutorRegistry::declare_defaults(std::string type,
                                        std::function<Params(const ExecutorContext&)> defaults) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->defaults[std::move(type)] = std::move(defaults);
  return true;
}

Params ExecutorRegistry::defaults(const ExecutorContext& ctx) const {
  std::function<Params(const ExecutorContext&)> fn;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    auto i = impl_->defaults.find(ctx.uses);
    if (i != impl_->defaults.end())
      fn = i->second;
  }
  if (!fn)
    return Params::object();
  try {
    auto out = fn(ctx);
    return out.is_object() ? out : Params::object();
  } catch (...) {
    // A malformed uses_with: the replica's constructor says what is wrong.
    return Params::object();
  }
}

bool ExecutorRegistry::declare_uses_with(std::string_view type, std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->uses_with_keys[std::string{type}] = std::move(keys);
  return true;
}

std::optional<std::vector<std::string>> ExecutorRegistry::uses_with_keys(
  std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->uses_with_keys.find(type);
  if (i == impl_->uses_with_keys.end())
    return std::nullopt;
  return i->second;
}

bool ExecutorRegistry::declare_reads(std::string_view type, std::vector<std::string> endpoints) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->reads[std::string{type}] = {endpoints.begin(), endpoints.end()};
  return true;
}

std::vector<std::string> ExecutorRegistry::read_endpoints(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto r = impl_->reads.find(type);
  if (r == impl_->reads.end())
    return {};
  return {r->second.begin(), r->second.end()};
}

bool ExecutorRegistry::declare_concurrent_reads(std::string_view type, bool concurrent) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  set_member(impl_->concurrent_reads, type, concurrent);
  return true;
}

bool ExecutorRegistry::concurrent_reads(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->concurrent_reads.find(type) != impl_->concurrent_reads.end();
}

bool ExecutorRegistry::declare_runs_on_scheduler(std::string_view type, bool on) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  set_member(impl_->on_scheduler, type, on);
  return true;
}

bool ExecutorRegistry::runs_on_scheduler(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->on_scheduler.find(type) != impl_->on_scheduler.end();
}

bool ExecutorRegistry::writes(std::string_view type, std::string_view endpoint) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto s = impl_->stateful.find(type);
  if (s == impl_->stateful.end() || !s->second)
    return false;
  auto r = impl_->reads.find(type);
  return r == impl_->reads.end() || r->second.find(endpoint) == r->second.end();
}

bool ExecutorRegistry::replicated(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->replicated.find(type);
  return i != impl_->replicated.end() && i->second;
}

bool ExecutorRegistry::stateful(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->stateful.find(type);
  return i != impl_->stateful.end() && i->second;
}

bool ExecutorRegistry::contains(std::string_view type) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->factories.find(type) != impl_->factories.end();
}

std::vector<std::string> ExecutorRegistry::names() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  std::vector<std::string> out;
  for (const auto& [name, _] : impl_->factories)
    out.push_back(name);
  return out;
}

caf::expected<std::unique_ptr<Executor>> ExecutorRegistry::create(ExecutorContext ctx) const {
  ExecutorFactory factory;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    auto i = impl_->factories.find(ctx.uses);
    if (i != impl_->factories.end())
      factory = i->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& name : names())
      known += (known.empty() ? "" : ", ") + name;
    return make_error(errc::unknown_executor, "unknown executor type '" + ctx.uses + "' (known: "
                                                + (known.empty() ? "none" : known) + ")");
  }
  auto where = ctx.name + " (" + ctx.uses + ")";
  try {
    return factory(std::move(ctx));
  } catch (const std::exception& e) {
    return make_error(errc::executor_start_failed, where + ": " + e.what());
  } catch (...) {
    return make_error(errc::executor_start_failed, where + ": unknown exception");
  }
}

}  // namespace caflow
