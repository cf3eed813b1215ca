/// A JSON-like value: the type of document tags and request parameters.
///
/// `Value` holds null, a boolean, an integer, a floating-point number, a
/// string, an array or an object (keys sorted). It is a plain value type: copy
/// it freely; it is not thread-safe to mutate one instance from two threads.
///
///   caflow::Value tags = caflow::Value::object();
///   tags["group"] = "spam";
///   int64_t k = params.get_int("top_k", 10);  // 3.0 from a JSON client is 3
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace caflow {

/// A JSON-like value (see the file comment).
class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::map<std::string, Value, std::less<>>;

  /// The kinds a value can have, in JSON's terms.
  enum class Kind : uint8_t { null, boolean, integer, number, string, array, object };

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool x) : data_(x) {}
  Value(int x) : data_(int64_t{x}) {}
  Value(int64_t x) : data_(x) {}
  Value(uint32_t x) : data_(int64_t{x}) {}
  Value(double x) : data_(x) {}
  Value(const char* x) : data_(std::string{x}) {}
  Value(std::string x) : data_(std::move(x)) {}
  Value(std::string_view x) : data_(std::string{x}) {}
  Value(Array x) : data_(std::move(x)) {}
  Value(Object x) : data_(std::move(x)) {}
  /// An object from key/value pairs: `Value{{"top_k", 5}, {"metric", "cosine"}}`.
  Value(std::initializer_list<std::pair<const std::string, Value>> kvs) : data_(Object(kvs)) {}

  /// An empty object.
  static Value object() { return Value{Object{}}; }
  /// An empty array.
  static Value array() { return Value{Array{}}; }

  [[nodiscard]] Kind kind() const noexcept { return static_cast<Kind>(data_.index()); }
  [[nodiscard]] bool is_null() const noexcept { return kind() == Kind::null; }
  [[nodiscard]] bool is_bool() const noexcept { return kind() == Kind::boolean; }
  [[nodiscard]] bool is_int() const noexcept { return kind() == Kind::integer; }
  [[nodiscard]] bool is_double() const noexcept { return kind() == Kind::number; }
  /// True for integers and floating-point numbers.
  [[nodiscard]] bool is_number() const noexcept { return is_int() || is_double(); }
  [[nodiscard]] bool is_string() const noexcept { return kind() == Kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return kind() == Kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return kind() == Kind::object; }

  /// Accessors. Each requires the matching kind (checked: throws caflow::Error
  /// with errc::invalid_argument otherwise).
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] int64_t as_int() const;    ///< also a double with no fraction
  [[nodiscard]] double as_double() const;  ///< any number
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const Array& as_array() const;
  [[nodiscard]] Array& as_array();
  [[nodiscard]] const Object& as_object() const;
  [[nodiscard]] Object& as_object();

  /// Object member access; a null value becomes an object first.
  Value& operator[](std::string_view key);
  /// The member `key`, or nullptr when absent or when this is not an object.
  [[nodiscard]] const Value* find(std::string_view key) const;
  /// True when this is an object with member `key`.
  [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Number of elements (array) or members (object); 0 otherwise.
  [[nodiscard]] size_t size() const noexcept;

  /// Typed lookups of an object member with a default for absent or null
  /// members. A member of the wrong type throws caflow::Error naming the key.
  [[nodiscard]] bool get_bool(std::string_view key, bool fallback) const;
  [[nodiscard]] int64_t get_int(std::string_view key, int64_t fallback) const;
  [[nodiscard]] double get_double(std::string_view key, double fallback) const;
  [[nodiscard]] std::string get_string(std::string_view key, std::string fallback) const;

  /// Merges the members of `other` into this object (other's win).
  void merge(const Value& other);

  /// Compact JSON text.
  [[nodiscard]] std::string dump() const;

  friend bool operator==(const Value& x, const Value& y) { return x.data_ == y.data_; }

  /// CAF serialisation: a value crosses actors as its compact JSON text,
  /// which keeps the recursive structure out of the wire format.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, Value& x) {
    std::string text;
    if constexpr (Inspector::reads_state)
      text = x.dump();
    return f(caf::meta::type_name("caflow::Value"), text,
             caf::meta::load_callback([&]() -> caf::error { return x.load_text(text); }));
  }

 private:
  caf::error load_text(const std::string& text);

  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> data_;
};

/// Request parameters and `uses_with` options: a Value that is an object.
using Params = Value;

/// The name of a kind ("null", "boolean", ...), for error messages.
const char* to_string(Value::Kind kind) noexcept;

}  // namespace caflow
