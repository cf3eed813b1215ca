// What the replica-set unit tests share: picking effects out of a
// transition's result, and the requests and echo answers they feed it.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "runtime/op_record.hpp"
#include "runtime/replica_set.hpp"

namespace caflow::testing {

namespace fx = caflow::detail::effect;

/// Every effect of type T, in order.
template <class T>
std::vector<T> all_of(const detail::Effects& effects) {
  std::vector<T> out;
  for (const auto& e : effects)
    if (auto* x = std::get_if<T>(&e))
      out.push_back(*x);
  return out;
}

/// The one effect of type T (fails the test unless there is exactly one).
template <class T>
T one(const detail::Effects& effects) {
  auto xs = all_of<T>(effects);
  REQUIRE(xs.size() == 1);
  return xs.front();
}

/// Whether some log line contains `part`.
inline bool logs(const detail::Effects& effects, const std::string& part) {
  for (const auto& l : all_of<fx::Log>(effects))
    if (l.line.find(part) != std::string::npos)
      return true;
  return false;
}

/// A request "req" to `endpoint` with one empty document per id.
inline Request req(std::string endpoint, const std::vector<std::string>& ids,
                   Params params = Params::object()) {
  Request r;
  r.id = "req";
  r.endpoint = std::move(endpoint);
  for (const auto& id : ids)
    r.docs.emplace_back().id = id;
  r.parameters = std::move(params);
  return r;
}

/// A replica's answer that echoes the call's documents: those of its
/// request, or of the write's record (a copy on another node), and none
/// when it was asked to answer without them.
inline Response echo(const fx::SendCall& c) {
  Response r;
  r.id = c.req.id;
  if (c.docs && c.record) {
    auto sent = detail::decode_op(*c.record);
    REQUIRE(sent);
    r.docs = sent->docs;
  } else if (c.docs) {
    r.docs = c.req.docs;
  }
  r.shards_answered = 1;
  return r;
}

}  // namespace caflow::testing
