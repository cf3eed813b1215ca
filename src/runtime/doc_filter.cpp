#include "runtime/doc_filter.hpp"

#include <algorithm>
#include <optional>
#include <regex>

namespace caflow::detail {

namespace {

enum class Op { eq, ne, lt, lte, gt, gte, in, nin, exists, regex };

constexpr std::pair<std::string_view, Op> operators[] = {
  {"$eq", Op::eq},         {"$ne", Op::ne},      {"$lt", Op::lt}, {"$lte", Op::lte},
  {"$gt", Op::gt},         {"$gte", Op::gte},    {"$in", Op::in}, {"$nin", Op::nin},
  {"$exists", Op::exists}, {"$regex", Op::regex}};

constexpr std::string_view operator_list
  = "$eq, $ne, $lt, $lte, $gt, $gte, $in, $nin, $exists, $regex";

constexpr std::string_view top_fields[] = {"id",        "parent_id", "text",   "uri",
                                           "mime_type", "tags",      "scores", "embedding"};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto at = path.find("__", start);
    out.push_back(path.substr(start, at - start));
    if (at == std::string::npos)
      return out;
    start = at + 2;
  }
}

// A field's value in a document; nullopt when absent.
std::optional<Value> field_of(const Document& d, const std::vector<std::string>& parts) {
  const auto& top = parts[0];
  if (parts.size() == 1) {
    if (top == "id")
      return Value{d.id};
    if (top == "parent_id")
      return Value{d.parent_id};
    if (top == "text")
      return Value{d.text};
    if (top == "uri")
      return Value{d.uri};
    if (top == "mime_type")
      return Value{d.mime_type};
    if (top == "tags")
      return d.tags;
    return std::nullopt;
  }
  if (top == "tags") {
    const Value* v = &d.tags;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!v->is_object())
        return std::nullopt;
      v = v->find(parts[i]);
      if (v == nullptr)
        return std::nullopt;
    }
    return *v;
  }
  if (top == "scores" && parts.size() == 2) {
    auto s = d.scores.find(parts[1]);
    return s == d.scores.end() ? std::nullopt : std::optional<Value>{Value{s->second}};
  }
  if (top == "embedding" && parts.size() == 2 && parts[1] == "dim")
    return Value{static_cast<int64_t>(d.embedding.dimension())};
  return std::nullopt;
}

// Equality as Python's ==: 1 == 1.0, but true is not 1.
bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number())
    return a.as_double() == b.as_double();
  return a == b;
}

// -1, 0, 1, or nullopt when a and b do not order (other types).
std::optional<int> order(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    auto x = a.as_double();
    auto y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string())
    return a.as_string().compare(b.as_string()) < 0 ? -1 : (a.as_string() == b.as_string() ? 0 : 1);
  return std::nullopt;
}

}  // namespace

struct DocFilter::Node {
  enum class Kind { all, any, condition } kind = Kind::all;
  std::vector<Node> children;  // all / any
  // condition:
  std::string field;
  std::vector<std::string> parts;
  Op op = Op::eq;
  Value operand;
  std::shared_ptr<const std::regex> regex;

  bool matches(const Document& d) const {
    switch (kind) {
      case Kind::all:
        return std::all_of(children.begin(), children.end(),
                           [&](const Node& c) { return c.matches(d); });
      case Kind::any:
        return std::any_of(children.begin(), children.end(),
                           [&](const Node& c) { return c.matches(d); });
      case Kind::condition:
        break;
    }
    auto v = field_of(d, parts);
    switch (op) {
      case Op::eq:
        return v && equal(*v, operand);
      case Op::ne:
        return !v || !equal(*v, operand);
      case Op::lt:
      case Op::lte:
      case Op::gt:
      case Op::gte: {
        if (!v)
          return false;
        auto o = order(*v, operand);
        if (!o)
          return false;
        return op == Op::lt ? *o < 0 : op == Op::lte ? *o <= 0 : op == Op::gt ? *o > 0 : *o >= 0;
      }
      case Op::in:
      case Op::nin: {
        bool found = v
                     && std::any_of(operand.as_array().begin(), operand.as_array().end(),
                                    [&](const Value& x) { return equal(*v, x); });
        return op == Op::in ? found : !found;
      }
      case Op::exists: {
        bool present = v && !v->is_null()
                       && !(v->is_string() && parts.size() == 1 && v->as_string().empty());
        return present == operand.as_bool();
      }
      case Op::regex:
        return v && v->is_string() && std::regex_search(v->as_string(), *regex);
    }
    return false;
  }
};

std::string FilterError::joined_path() const {
  std::string out;
  for (const auto& p : path) {
    if (!out.empty() && (p.empty() || p.front() != '['))
      out += '.';
    out += p;
  }
  return out;
}

std::string FilterError::message() const {
  auto at = joined_path();
  return (at.empty() ? std::string{} : at + ": ") + what;
}

namespace {

using Node = DocFilter::Node;
using Path = std::vector<std::string>;

std::variant<Node, FilterError> compile_node(const Value& v, Path path);

FilterError error(Path path, std::string what) {
  return FilterError{std::move(path), std::move(what)};
}

std::variant<Node, FilterError> compile_field(const std::string& field, const Value& conds,
                                              Path path) {
  auto parts = split_path(field);
  bool known = std::find(std::begin(top_fields), std::end(top_fields), parts[0])
               != std::end(top_fields);
  bool shaped = std::none_of(parts.begin(), parts.end(), [](auto& p) { return p.empty(); })
                && (parts[0] != "scores" || parts.size() == 2)
                && (parts[0] != "embedding" || (parts.size() == 2 && parts[1] == "dim"))
                && (parts[0] == "tags" || parts[0] == "scores" || parts[0] == "embedding"
                    || parts.size() == 1);
  if (!known || !shaped)
    return error(path,
                 "unknown field (known: id, parent_id, text, uri, mime_type, tags__KEY, "
                 "scores__NAME, embedding__dim)");
  if (!conds.is_object() || conds.as_object().empty())
    return error(path, std::string{"expected a mapping of operators ("} + std::string{operator_list}
                         + "), got " + (conds.is_object() ? "an empty one" : conds.dump()));
  Node all;
  for (const auto& [name, operand] : conds.as_object()) {
    auto at = path;
    at.push_back(name);
    auto it = std::find_if(std::begin(operators), std::end(operators),
                           [&](auto& o) { return o.first == name; });
    if (it == std::end(operators))
      return error(at, "unknown operator (known: " + std::string{operator_list} + ")");
    Node c;
    c.kind = Node::Kind::condition;
    c.field = field;
    c.parts = parts;
    c.op = it->second;
    c.operand = operand;
    switch (c.op) {
      case Op::in:
      case Op::nin:
        if (!operand.is_array())
          return error(at, "expected a list, got " + operand.dump());
        break;
      case Op::exists:
        if (!operand.is_bool())
          return error(at, "expected true or false, got " + operand.dump());
        break;
      case Op::regex:
        if (!operand.is_string())
          return error(at, "expected a regular expression (a string), got " + operand.dump());
        try {
          c.regex = std::make_shared<const std::regex>(operand.as_string(), std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return error(at,
                       "'" + operand.as_string() + "' is not a regular expression: " + e.what());
        }
        break;
      case Op::lt:
      case Op::lte:
      case Op::gt:
      case Op::gte:
        if (!operand.is_number() && !operand.is_string())
          return error(at, "expected a number or a string to compare with, got " + operand.dump());
        break;
      default:
        break;
    }
    all.children.push_back(std::move(c));
  }
  return all;
}

std::variant<Node, FilterError> compile_node(const Value& v, Path path) {
  if (!v.is_object())
    return error(path,
                 "expected a mapping {FIELD: {$OP: VALUE}} or {$and|$or: [...]}, got " + v.dump());
  Node all;
  for (const auto& [key, value] : v.as_object()) {
    auto at = path;
    at.push_back(key);
    if (key == "$and" || key == "$or") {
      if (!value.is_array() || value.as_array().empty())
        return error(at, "expected a non-empty list of filters, got " + value.dump());
      Node group;
      group.kind = key == "$and" ? Node::Kind::all : Node::Kind::any;
      const auto& items = value.as_array();
      for (size_t i = 0; i < items.size(); ++i) {
        auto item_at = at;
        item_at.push_back("[" + std::to_string(i) + "]");
        auto child = compile_node(items[i], item_at);
        if (auto* e = std::get_if<FilterError>(&child))
          return std::move(*e);
        group.children.push_back(std::move(std::get<Node>(child)));
      }
      all.children.push_back(std::move(group));
    } else if (!key.empty() && key.front() == '$') {
      return error(at, "unknown logical operator (known: $and, $or)");
    } else {
      auto field = compile_field(key, value, at);
      if (auto* e = std::get_if<FilterError>(&field))
        return std::move(*e);
      all.children.push_back(std::move(std::get<Node>(field)));
    }
  }
  return all;
}

}  // namespace

std::variant<DocFilter, FilterError> DocFilter::compile(const Value& when) {
  auto root = compile_node(when, {});
  if (auto* e = std::get_if<FilterError>(&root))
    return std::move(*e);
  DocFilter out;
  out.root_ = std::make_shared<const Node>(std::move(std::get<Node>(root)));
  return out;
}

bool DocFilter::matches(const Document& doc) const {
  return !root_ || root_->matches(doc);
}

FilterSplit split_by(const DocFilter& filter, DocumentArray docs) {
  FilterSplit out;
  out.taken_at.reserve(docs.size());
  for (auto& d : docs) {
    bool take = filter.matches(d);
    out.taken_at.push_back(take);
    (take ? out.taken : out.skipped).push_back(std::move(d));
  }
  return out;
}

DocumentArray rejoin(const std::vector<bool>& taken_at, DocumentArray answered,
                     DocumentArray skipped) {
  DocumentArray out;
  out.reserve(answered.size() + skipped.size());
  size_t a = 0;
  size_t s = 0;
  for (bool taken : taken_at) {
    if (!taken && s < skipped.size())
      out.push_back(std::move(skipped[s++]));
    else if (taken && a < answered.size())
      out.push_back(std::move(answered[a++]));
  }
  for (; a < answered.size(); ++a)
    out.push_back(std::move(answered[a]));
  return out;
}

}  // namespace caflow::detail
