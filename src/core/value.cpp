#include "caflow/value.hpp"

#include "caflow/errors.hpp"
#include "caflow/json.hpp"

#include <cmath>

namespace caflow {

namespace {

[[noreturn]] void wrong_kind(const char* wanted, Value::Kind got) {
  throw Error(errc::invalid_argument,
              std::string{"expected "} + wanted + ", got " + to_string(got));
}

// Prefixes the key to an accessor's error so that the user sees which one.
template <class F>
auto with_key(std::string_view key, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.code(), std::string{key} + ": " + e.what());
  }
}

}  // namespace

const char* to_string(Value::Kind kind) noexcept {
  switch (kind) {
    case Value::Kind::null:
      return "null";
    case Value::Kind::boolean:
      return "boolean";
    case Value::Kind::integer:
      return "integer";
    case Value::Kind::number:
      return "number";
    case Value::Kind::string:
      return "string";
    case Value::Kind::array:
      return "array";
    case Value::Kind::object:
      return "object";
  }
  return "unknown";
}

bool Value::as_bool() const {
  if (!is_bool())
    wrong_kind("a boolean", kind());
  return std::get<bool>(data_);
}

int64_t Value::as_int() const {
  if (is_int())
    return std::get<int64_t>(data_);
  // JSON clients (Jina's among them) send integers as floats: 3.0 means 3.
  if (is_double()) {
    auto d = std::get<double>(data_);
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18)
      return static_cast<int64_t>(d);
  }
  wrong_kind("an integer", kind());
}

double Value::as_double() const {
  if (is_double())
    return std::get<double>(data_);
  if (is_int())
    return static_cast<double>(std::get<int64_t>(data_));
  wrong_kind("a number", kind());
}

const std::string& Value::as_string() const {
  if (!is_string())
    wrong_kind("a string", kind());
  return std::get<std::string>(data_);
}

const Value::Array& Value::as_array() const {
  if (!is_array())
    wrong_kind("an array", kind());
  return std::get<Array>(data_);
}

Value::Array& Value::as_array() {
  if (!is_array())
    wrong_kind("an array", kind());
  return std::get<Array>(data_);
}

const Value::Object& Value::as_object() const {
  if (!is_object())
    wrong_kind("an object", kind());
  return std::get<Object>(data_);
}

Value::Object& Value::as_object() {
  if (!is_object())
    wrong_kind("an object", kind());
  return std::get<Object>(data_);
}

Value& Value::operator[](std::string_view key) {
  if (is_null())
    data_ = Object{};
  auto& obj = as_object();
  auto i = obj.find(key);
  if (i == obj.end())
    i = obj.emplace(std::string{key}, Value{}).first;
  return i->second;
}

const Value* Value::find(std::string_view key) const {
  if (!is_object())
    return nullptr;
  const auto& obj = std::get<Object>(data_);
  auto i = obj.find(key);
  return i == obj.end() ? nullptr : &i->second;
}

size_t Value::size() const noexcept {
  if (is_array())
    return std::get<Array>(data_).size();
  if (is_object())
    return std::get<Object>(data_).size();
  return 0;
}

bool Value::get_bool(std::string_view key, bool fallback) const {
  auto* v = find(key);
  return v == nullptr || v->is_null() ? fallback : with_key(key, [&] { return v->as_bool(); });
}

int64_t Value::get_int(std::string_view key, int64_t fallback) const {
  auto* v = find(key);
  return v == nullptr || v->is_null() ? fallback : with_key(key, [&] { return v->as_int(); });
}

double Value::get_double(std::string_view key, double fallback) const {
  auto* v = find(key);
  return v == nullptr || v->is_null() ? fallback : with_key(key, [&] { return v->as_double(); });
}

std::string Value::get_string(std::string_view key, std::string fallback) const {
  auto* v = find(key);
  if (v == nullptr || v->is_null())
    return fallback;
  return with_key(key, [&] { return v->as_string(); });
}

void Value::merge(const Value& other) {
  if (!other.is_object())
    return;
  for (const auto& [k, v] : other.as_object())
    (*this)[k] = v;
}

std::string Value::dump() const {
  return to_json(*this);
}

caf::error Value::load_text(const std::string& text) {
  auto parsed = parse_json(text);
  if (!parsed)
    return std::move(parsed.error());
  *this = std::move(*parsed);
  return {};
}

}  // namespace caflow
