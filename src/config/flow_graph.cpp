#include "config/flow_graph.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>

#include "caflow/errors.hpp"

namespace caflow::detail {

std::vector<std::vector<std::string>> effective_needs(
  const std::vector<DeploymentOptions>& deployments) {
  std::vector<std::vector<std::string>> out;
  out.reserve(deployments.size());
  for (size_t i = 0; i < deployments.size(); ++i) {
    if (!deployments[i].needs.empty())
      out.push_back(deployments[i].needs);
    else if (i == 0)
      out.push_back({std::string{gateway_name}});
    else
      out.push_back({deployments[i - 1].name});
  }
  return out;
}

std::vector<std::vector<size_t>> needs_indices(const std::vector<DeploymentOptions>& deployments) {
  // The first deployment of a name wins; validate() reports duplicates.
  std::map<std::string_view, size_t> index;
  for (size_t i = 0; i < deployments.size(); ++i)
    index.emplace(deployments[i].name, i);
  std::vector<std::vector<size_t>> out;
  for (const auto& needs : effective_needs(deployments)) {
    auto& edges = out.emplace_back();
    for (const auto& name : needs) {
      auto i = index.find(name);
      if (name != gateway_name && i != index.end()
          && std::find(edges.begin(), edges.end(), i->second) == edges.end())
        edges.push_back(i->second);
    }
  }
  return out;
}

std::vector<size_t> find_needs_cycle(const std::vector<DeploymentOptions>& deployments) {
  auto edges = needs_indices(deployments);
  enum class Color { white, grey, black };
  std::vector<Color> color(edges.size(), Color::white);
  std::vector<size_t> path;
  std::vector<size_t> cycle;
  // Depth-first; recursion depth is bounded by the number of deployments.
  std::function<bool(size_t)> visit = [&](size_t u) {
    color[u] = Color::grey;
    path.push_back(u);
    for (size_t v : edges[u]) {
      if (color[v] == Color::grey) {
        cycle.assign(std::find(path.begin(), path.end(), v), path.end());
        return true;
      }
      if (color[v] == Color::white && visit(v))
        return true;
    }
    path.pop_back();
    color[u] = Color::black;
    return false;
  };
  for (size_t start = 0; start < edges.size() && cycle.empty(); ++start)
    if (color[start] == Color::white)
      visit(start);
  if (!cycle.empty())
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  return cycle;
}

std::string format_cycle(const std::vector<DeploymentOptions>& deployments,
                         const std::vector<size_t>& cycle) {
  std::string out;
  for (size_t i : cycle)
    out += deployments[i].name + " -> ";
  if (!cycle.empty())
    out += deployments[cycle.front()].name;
  return out;
}

caf::expected<std::vector<size_t>> topological_order(
  const std::vector<DeploymentOptions>& deployments) {
  auto edges = needs_indices(deployments);
  std::vector<size_t> missing(edges.size());  // needs not yet placed
  std::vector<std::vector<size_t>> needed_by(edges.size());
  for (size_t i = 0; i < edges.size(); ++i) {
    missing[i] = edges[i].size();
    for (size_t j : edges[i])
      needed_by[j].push_back(i);
  }
  // Kahn's algorithm with the lowest ready index first: flow order where the
  // graph allows it.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < edges.size(); ++i)
    if (missing[i] == 0)
      ready.push(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    auto i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t j : needed_by[i])
      if (--missing[j] == 0)
        ready.push(j);
  }
  if (order.size() != edges.size())
    return make_error(errc::invalid_config,
                      "needs cycle: " + format_cycle(deployments, find_needs_cycle(deployments)));
  return order;
}

FlowGraph FlowGraph::from_needs(std::vector<std::vector<size_t>> needs) {
  FlowGraph g;
  auto n = needs.size();
  g.dependents.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& edges = needs[i];
    edges.erase(std::remove(edges.begin(), edges.end(), i), edges.end());
    if (edges.empty())
      g.starts.push_back(i);
    for (size_t j : edges)
      if (j < n)
        g.dependents[j].push_back(i);
  }
  for (size_t i = 0; i < n; ++i)
    if (g.dependents[i].empty())
      g.leaves.push_back(i);
  g.needs = std::move(needs);
  return g;
}

FlowGraph flow_graph(const std::vector<DeploymentOptions>& deployments) {
  return FlowGraph::from_needs(needs_indices(deployments));
}

std::vector<size_t> leaves(const std::vector<DeploymentOptions>& deployments) {
  return flow_graph(deployments).leaves;
}

}  // namespace caflow::detail
