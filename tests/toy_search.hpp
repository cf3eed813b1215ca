// The search of the test suites' toy indexes (runtime ToyIndex, cluster
// FileIndex): every stored (id, x) ranked by -|x - query's x| as "cosine",
// ties by id, cut to top_k (Default: 10) — an order the head's merge of shard
// answers must reproduce.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "caflow/document.hpp"
#include "caflow/value.hpp"

namespace caflow::testing {

inline void toy_search(DocumentArray& queries, const Params& params,
                       const std::vector<std::pair<std::string, double>>& stored) {
  auto k = static_cast<size_t>(params.get_int("top_k", 10));
  for (auto& q : queries) {
    auto x = q.tags.get_double("x", 0);
    std::vector<Document> matches;
    for (const auto& [id, value] : stored) {
      Document m;
      m.id = id;
      m.scores["cosine"] = -std::fabs(value - x);
      matches.push_back(std::move(m));
    }
    std::sort(matches.begin(), matches.end(), [](const Document& a, const Document& b) {
      auto sa = a.scores.at("cosine");
      auto sb = b.scores.at("cosine");
      return sa != sb ? sa > sb : a.id < b.id;
    });
    if (matches.size() > k)
      matches.resize(k);
    q.matches = std::move(matches);
  }
}

}  // namespace caflow::testing
