#include "config/yaml_value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "caflow/errors.hpp"

namespace caflow::detail {

namespace {

constexpr std::string_view str_tag = "tag:yaml.org,2002:str";

bool is_bool_text(std::string_view s, bool& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

// Decimal, 0x hex and 0o octal integers (YAML 1.2 core schema).
bool is_int_text(std::string_view s, int64_t& out) {
  bool negative = false;
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    // The core schema has no signed hex or octal.
    if (digits.size() != s.size())
      return false;
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  if (digits.empty())
    return false;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return false;
  constexpr auto max = uint64_t{std::numeric_limits<int64_t>::max()};
  if (magnitude > max + (negative ? 1 : 0))
    return false;  // too large for an integer: read as a number instead
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool is_float_text(std::string_view s, double& out) {
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // from_chars also takes "inf", "nan" and hex: keep to digits, '.', exponent.
  bool has_digit = false;
  for (char c : body) {
    if (c >= '0' && c <= '9')
      has_digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
      return false;
  }
  if (!has_digit)
    return false;
  double value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec != std::errc{} || end != body.data() + body.size())
    return false;
  out = negative ? -value : value;
  return true;
}

// The value of plain scalar text by the core schema.
Value typed_scalar(const std::string& text) {
  bool b = false;
  if (is_bool_text(text, b))
    return Value{b};
  int64_t i = 0;
  if (is_int_text(text, i))
    return Value{i};
  double d = 0;
  if (is_float_text(text, d))
    return Value{d};
  return Value{text};
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

int line_of(const YAML::Node& node) {
  auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 1;
}

void fail(const YAML::Node& node, std::string key, std::string what) {
  throw YamlConfigError{line_of(node), std::move(key), std::move(what)};
}

Value scalar_value(const YAML::Node& node) {
  if (!node.IsScalar())
    return Value{};
  const std::string& text = node.Scalar();
  // "!" marks a quoted or block scalar: the author asked for a string.
  if (node.Tag() == "!" || node.Tag() == str_tag)
    return Value{text};
  return typed_scalar(text);
}

namespace {

// yaml-cpp resolves an alias inside its own anchor (`&x [*x]`) into a cyclic
// graph: without a bound, converting it would never end.
constexpr int max_depth = 64;

// `top` names the converted value in the depth error: the path down to the
// limit would be 64 segments long.
Value to_value_at(const YAML::Node& node, const std::string& key, const std::string& top,
                  int depth) {
  if (depth > max_depth)
    fail(node, top,
         "nested more than " + std::to_string(max_depth) + " levels deep (a recursive alias?)");
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_value(node);
    case YAML::NodeType::Sequence: {
      Value::Array out;
      for (size_t i = 0; i < node.size(); ++i)
        out.push_back(to_value_at(node[i], key + "[" + std::to_string(i) + "]", top, depth + 1));
      return Value{std::move(out)};
    }
    case YAML::NodeType::Map: {
      check_keys(node, key);
      Value::Object out;
      for (const auto& kv : node) {
        const auto& name = kv.first.Scalar();
        out.emplace(name,
                    to_value_at(kv.second, key.empty() ? name : key + "." + name, top, depth + 1));
      }
      return Value{std::move(out)};
    }
    default:
      return Value{};
  }
}

}  // namespace

Value to_value(const YAML::Node& node, const std::string& key) {
  return to_value_at(node, key, key, 0);
}

void check_keys(const YAML::Node& node, const std::string& key) {
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      fail(kv.first, key, "a mapping key must be a plain string, got " + describe_node(kv.first));
    const auto& name = kv.first.Scalar();
    if (!seen.insert(name).second)
      fail(kv.first, key.empty() ? name : key + "." + name, "key given twice");
  }
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

std::string suggest(std::string_view key, std::span<const std::string_view> known) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (auto candidate : known) {
    auto d = edit_distance(key, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // Two edits catch typos and singular/plural ("replica", "need") without
  // suggesting unrelated short keys.
  if (best_distance <= 2 && best_distance < key.size())
    return " (did you mean '" + std::string{best} + "'?)";
  std::string list;
  for (auto candidate : known)
    list += (list.empty() ? "" : ", ") + std::string{candidate};
  return " (known: " + list + ")";
}

std::string FieldReader::string(const YAML::Node& node, const std::string& key) const {
  if (!node.IsScalar())
    fail(node, key, "expected a string, got " + describe_node(node));
  return node.Scalar();
}

int64_t FieldReader::integer(const YAML::Node& node, const std::string& key, int64_t min,
                             int64_t max) const {
  auto expected = [&] {
    if (min == 1 && max >= INT32_MAX)
      return std::string{"a positive integer"};
    if (min == 0 && max >= INT32_MAX)
      return std::string{"a non-negative integer"};
    if (max >= INT32_MAX)
      return "an integer >= " + std::to_string(min);
    return "an integer in " + std::to_string(min) + ".." + std::to_string(max);
  };
  if (!node.IsScalar())
    fail(node, key, "expected " + expected() + ", got " + describe_node(node));
  auto value = typed_scalar(node.Scalar());
  if (!value.is_int() || value.as_int() < min || value.as_int() > max)
    fail(node, key, "expected " + expected() + ", got " + node.Scalar());
  return value.as_int();
}

std::vector<std::string> FieldReader::strings(const YAML::Node& node,
                                              const std::string& key) const {
  if (node.IsScalar())
    return {node.Scalar()};
  if (!node.IsSequence())
    fail(node, key, "expected a string or a list of strings, got " + describe_node(node));
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i)
    out.push_back(string(node[i], key + "[" + std::to_string(i) + "]"));
  return out;
}

Value FieldReader::mapping(const YAML::Node& node, const std::string& key) const {
  if (node.IsNull())
    return Value::object();
  if (!node.IsMap())
    fail(node, key, "expected a mapping, got " + describe_node(node));
  return to_value(node, key);
}

Polling FieldReader::polling(const YAML::Node& node, const std::string& key) const {
  auto check = [&](const YAML::Node& mode, const std::string& at) {
    auto text = string(mode, at);
    if (auto parsed = parse_polling_mode(text); !parsed)
      fail(mode, at, error_message(parsed.error()));
    return text;
  };
  if (node.IsScalar())
    return Polling{check(node, key)};
  if (!node.IsMap())
    fail(node, key,
         "expected a polling mode or a mapping endpoint -> mode, got " + describe_node(node));
  check_keys(node, key);
  std::map<std::string, std::string> modes;
  for (const auto& kv : node) {
    const auto& endpoint = kv.first.Scalar();
    // Named like Polling::validate names an entry: polling['/index'].
    modes[endpoint] = check(kv.second, key + "['" + endpoint + "']");
  }
  return Polling{std::move(modes)};
}

std::string FieldReader::path(const std::string& path) const {
  std::filesystem::path p{path};
  if (!dir_ || dir_->empty() || path.empty() || p.is_absolute())
    return path;
  return (*dir_ / p).lexically_normal().string();
}

std::string FieldReader::plugin_path(const std::string& path) const {
  return path.find('/') == std::string::npos ? path : this->path(path);
}

}  // namespace caflow::detail
