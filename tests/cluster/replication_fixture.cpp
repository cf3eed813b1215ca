#include "cluster/replication_fixture.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <set>

#include <caf/scoped_actor.hpp>

#include "caflow/errors.hpp"
#include "caflow/messages.hpp"

namespace caflow::testing {

DocumentArray docs(size_t first, size_t n) {
  auto out = numbered_docs(first, n);
  for (size_t i = 0; i < out.size(); ++i)
    out[i].embedding = embedding_of(first + i);
  return out;
}

Flow replicated_flow(const std::string& workspace, const std::vector<std::string>& hosts,
                     uint32_t copies, Params uses_with, uint16_t cluster_port) {
  Flow flow{FlowOptions{.name = "repl", .workspace = workspace, .cluster_port = cluster_port}};
  DeploymentOptions index{.name = "indexer", .uses = "Indexer", .replicas = copies};
  Value::Array list;
  for (const auto& h : hosts)
    list.emplace_back(h);
  index.uses_metas["hosts"] = Value{std::move(list)};
  index.uses_with = std::move(uses_with);
  index.timeout = std::chrono::seconds(20);
  flow.add(std::move(index));
  return flow;
}

Value head_status(RunningFlow& flow) {
  caf::scoped_actor self{flow.system()};
  Value out = Value::object();
  self
    ->request(caf::actor_cast<head_actor>(flow.head("indexer")), std::chrono::seconds(10),
              status_atom::value)
    .receive([&](Value& v) { out = std::move(v); }, [](caf::error&) {});
  return out;
}

std::vector<std::string> copies(RunningFlow& flow) {
  std::vector<std::string> out;
  auto v = head_status(flow);
  if (const auto* p = v.find("placement"); p && p->is_array())
    for (const auto& slot : p->as_array())
      if (slot.get_bool("alive", false))
        out.push_back(slot.get_string("copy", "?"));
  return out;
}

bool all_in_sync(RunningFlow& flow, size_t n) {
  auto c = copies(flow);
  return c.size() == n && std::all_of(c.begin(), c.end(), [](auto& s) { return s == "in_sync"; });
}

int64_t count(RunningFlow& flow) {
  auto r = flow.post("/count", {});
  REQUIRE_MESSAGE(r, describe(r));
  return r->parameters.get_int("count", -1);
}

void check_all_there(RunningFlow& flow, const std::vector<std::string>& ids) {
  DocumentArray asked;
  for (const auto& id : ids)
    asked.emplace_back().id = id;
  auto fetched = flow.post("/fetch", asked, {.request_size = 200});
  REQUIRE_MESSAGE(fetched, describe(fetched));
  std::set<std::string> seen;
  for (const auto& d : fetched->docs)
    seen.insert(d.id);
  CHECK(seen.size() == fetched->docs.size());
  for (const auto& id : ids)
    CHECK_MESSAGE(seen.count(id) == 1, "acknowledged " << id << " is missing");
}

void kill_node(std::unique_ptr<NodeProcess>& node) {
  ::kill(node->proc->pid(), SIGKILL);
  CHECK(node->proc->wait(10s));
  node.reset();
}

Writer::Writer(RunningFlow& f, size_t n, size_t first) : flow(f), size(n) {
  thread = std::thread{[this, first] {
    for (size_t next = first; !stop; next += size) {
      auto batch = docs(next, size);
      auto r = flow.post("/index", batch, {.request_size = size});
      std::lock_guard<std::mutex> guard{mtx};
      if (!r) {
        ++failed;
        last_error = describe(r.error());
        continue;
      }
      for (const auto& d : batch)
        acked.push_back(d.id);
    }
  }};
}

Writer::~Writer() {
  stop = true;
  if (thread.joinable())
    thread.join();
}

size_t Writer::acknowledged() {
  std::lock_guard<std::mutex> guard{mtx};
  return acked.size();
}

std::vector<std::string> Writer::finish() {
  stop = true;
  thread.join();
  return acked;
}

std::vector<std::string> finish_after_rejoin(RunningFlow& flow, Writer& writer, size_t n,
                                             std::chrono::seconds within) {
  REQUIRE(eventually([&] { return all_in_sync(flow, n); }, within));
  auto acked_at_join = writer.acknowledged();
  REQUIRE(eventually([&] { return writer.acknowledged() >= acked_at_join + 100; }));
  auto acked = writer.finish();
  MESSAGE("acknowledged " << acked.size() << ", failed " << writer.failed.load()
                          << (writer.last_error.empty() ? "" : ": " + writer.last_error));
  CHECK(writer.failed.load() == 0);
  return acked;
}

}  // namespace caflow::testing
