#include "runtime/reduce.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace caflow::detail {

namespace {

/// How matches are ranked: by one named score, in one direction.
struct Ranking {
  std::string name;
  bool higher = true;

  /// The score, or nullopt when absent or NaN (which cannot be ordered).
  [[nodiscard]] std::optional<double> score_of(const Document& d) const {
    auto i = d.scores.find(name);
    if (i == d.scores.end() || std::isnan(i->second))
      return std::nullopt;
    return i->second;
  }

  /// True when `x` scores strictly better than `y` (scoreless ones last).
  [[nodiscard]] bool better(const Document& x, const Document& y) const {
    auto sx = score_of(x);
    auto sy = score_of(y);
    if (!sx || !sy)
      return sx.has_value() && !sy.has_value();
    return higher ? *sx > *sy : *sx < *sy;
  }
};

std::optional<Ranking> ranking_for(const std::vector<Document>& matches) {
  for (const auto& m : matches)
    if (!m.scores.empty()) {
      const auto& name = m.scores.begin()->first;
      return Ranking{name, higher_is_better(name)};
    }
  return std::nullopt;
}

/// Keeps one copy per match id, at the first copy's position, preferring a
/// better-scoring later copy. Empty ids are never merged: they name nothing.
void dedup_matches(std::vector<Document>& matches, const std::optional<Ranking>& ranking) {
  std::unordered_map<std::string, size_t> kept;
  std::vector<Document> out;
  out.reserve(matches.size());
  for (auto& m : matches) {
    if (!m.id.empty()) {
      auto [i, added] = kept.emplace(m.id, out.size());
      if (!added) {
        if (ranking && ranking->better(m, out[i->second]))
          out[i->second] = std::move(m);
        continue;
      }
    }
    out.push_back(std::move(m));
  }
  matches = std::move(out);
}

/// Merges documents of several arrays by id: the first copy of each (id,
/// occurrence) is moved to the output; later copies are handed to
/// `merge(kept, later)`. Matching occurrence by occurrence keeps documents
/// that share an id (possible when users set ids) apart.
template <class Merge>
DocumentArray merge_by_id(std::vector<DocumentArray> inputs, Merge merge) {
  std::vector<Document> out;
  std::unordered_map<std::string, std::vector<size_t>> where;  // id -> out indices
  for (auto& input : inputs) {
    std::unordered_map<std::string, size_t> seen;  // id -> copies so far in `input`
    auto docs = std::move(input).docs();
    for (auto& doc : docs) {
      size_t occurrence = seen[doc.id]++;
      auto& slots = where[doc.id];
      if (occurrence < slots.size()) {
        merge(out[slots[occurrence]], std::move(doc));
      } else {
        slots.push_back(out.size());
        out.push_back(std::move(doc));
      }
    }
  }
  return DocumentArray{std::move(out)};
}

/// Appends the documents of `more` whose ids `into` does not hold yet.
void append_new(std::vector<Document>& into, std::vector<Document>&& more) {
  std::unordered_set<std::string> ids;
  for (const auto& d : into)
    ids.insert(d.id);
  for (auto& d : more)
    if (ids.insert(d.id).second)
      into.push_back(std::move(d));
}

void fill_if_empty(std::string& into, std::string&& from) {
  if (into.empty())
    into = std::move(from);
}

/// Best first under `ranking`, ties by id; unchanged without a ranking.
void sort_by(std::vector<Document>& matches, const std::optional<Ranking>& ranking) {
  if (!ranking)
    return;
  std::stable_sort(matches.begin(), matches.end(), [&](const Document& x, const Document& y) {
    if (ranking->better(x, y))
      return true;
    if (ranking->better(y, x))
      return false;
    return x.id < y.id;
  });
}

std::vector<std::string> ids_of(const Value& list) {
  std::vector<std::string> ids;
  for (const auto& id : list.as_array())
    if (id.is_string())
      ids.push_back(id.as_string());
  return ids;
}

/// The "not_found" rule of reduce_parameters (see reduce.hpp).
void reduce_not_found(const std::vector<Params>& answers, NotFound rule, Params& out) {
  std::optional<std::vector<std::string>> ids;
  for (const auto& answer : answers) {
    const auto* list = answer.is_object() ? answer.find("not_found") : nullptr;
    if (list == nullptr || !list->is_array())
      continue;
    auto here = ids_of(*list);
    if (!ids) {
      ids = std::move(here);
    } else if (rule == NotFound::intersect) {
      std::unordered_set<std::string> lacking(here.begin(), here.end());
      std::erase_if(*ids, [&](const std::string& id) { return lacking.count(id) == 0; });
    } else {
      ids->insert(ids->end(), std::make_move_iterator(here.begin()),
                  std::make_move_iterator(here.end()));
    }
  }
  if (!ids)
    return;
  Value::Array merged;
  std::unordered_set<std::string> seen;
  for (auto& id : *ids)
    if (seen.insert(id).second)
      merged.emplace_back(std::move(id));
  out["not_found"] = Value{std::move(merged)};
}

}  // namespace

bool higher_is_better(std::string_view score_name) {
  std::string name;
  for (char c : score_name)
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const char* distance : {"euclidean", "sqeuclidean", "l1", "l2", "manhattan", "hamming"})
    if (name == distance)
      return false;
  return name.find("distance") == std::string::npos && name.find("euclid") == std::string::npos;
}

void sort_matches(std::vector<Document>& matches) {
  sort_by(matches, ranking_for(matches));
}

DocumentArray reduce_shard_answers(std::vector<DocumentArray> answers,
                                   std::optional<size_t> top_k) {
  auto merged = merge_by_id(std::move(answers), [](Document& kept, Document&& later) {
    kept.matches.insert(kept.matches.end(), std::make_move_iterator(later.matches.begin()),
                        std::make_move_iterator(later.matches.end()));
  });
  for (auto& doc : merged) {
    // The ranking is chosen over all shards' matches together, so every shard's
    // copy of a match is compared under the same score.
    auto ranking = ranking_for(doc.matches);
    dedup_matches(doc.matches, ranking);
    sort_by(doc.matches, ranking);
    if (top_k && doc.matches.size() > *top_k)
      doc.matches.resize(*top_k);
  }
  return merged;
}

Params reduce_parameters(const std::vector<Params>& answers, NotFound not_found) {
  Params out;
  bool have_first = false;
  bool have_count = false;
  int64_t count = 0;
  for (const auto& answer : answers) {
    if (!answer.is_object())
      continue;
    if (!have_first) {
      out = answer;
      have_first = true;
    }
    if (const auto* c = answer.find("count"); c != nullptr && c->is_int()) {
      count += c->as_int();
      have_count = true;
    }
  }
  if (!have_first)
    return Params::object();
  if (have_count)
    out["count"] = count;
  reduce_not_found(answers, not_found, out);
  return out;
}

DocumentArray order_like(const std::vector<std::string>& ids, DocumentArray docs) {
  auto all = std::move(docs).docs();
  std::unordered_map<std::string_view, std::vector<size_t>> positions;
  for (size_t i = all.size(); i-- > 0;)
    positions[all[i].id].push_back(i);  // reversed: back() is the first
  std::vector<bool> taken(all.size(), false);
  std::vector<Document> out;
  out.reserve(all.size());
  for (const auto& id : ids) {
    auto p = positions.find(id);
    if (p == positions.end() || p->second.empty())
      continue;
    auto i = p->second.back();
    p->second.pop_back();
    taken[i] = true;
    out.push_back(std::move(all[i]));
  }
  for (size_t i = 0; i < all.size(); ++i)
    if (!taken[i])
      out.push_back(std::move(all[i]));
  return DocumentArray{std::move(out)};
}

DocumentArray join_by_id(std::vector<DocumentArray> inputs) {
  return merge_by_id(std::move(inputs), [](Document& kept, Document&& later) {
    fill_if_empty(kept.text, std::move(later.text));
    fill_if_empty(kept.uri, std::move(later.uri));
    fill_if_empty(kept.blob, std::move(later.blob));
    fill_if_empty(kept.mime_type, std::move(later.mime_type));
    fill_if_empty(kept.parent_id, std::move(later.parent_id));
    if (kept.embedding.empty())
      kept.embedding = std::move(later.embedding);
    if (!kept.tags.is_object()) {
      if (later.tags.is_object())
        kept.tags = std::move(later.tags);
    } else if (later.tags.is_object()) {
      for (auto& [key, value] : later.tags.as_object())
        kept.tags.as_object().emplace(key, std::move(value));
    }
    kept.scores.merge(later.scores);  // keeps the earlier value of a shared name
    append_new(kept.matches, std::move(later.matches));
    append_new(kept.chunks, std::move(later.chunks));
  });
}

}  // namespace caflow::detail
