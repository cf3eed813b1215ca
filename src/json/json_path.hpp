// Error paths for JSON conversions: "docs[2].embedding[1]: expected a number,
// got string". Private to the library.
#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "caflow/errors.hpp"
#include "caflow/value.hpp"

namespace caflow::json_path {

/// `where.name`, or `name` at the top level.
inline std::string field(std::string_view where, std::string_view name) {
  if (where.empty())
    return std::string{name};
  std::string out{where};
  out += '.';
  out += name;
  return out;
}

/// `where[i]`.
inline std::string element(std::string_view where, size_t i) {
  return std::string{where} + '[' + std::to_string(i) + ']';
}

/// "<path>: <what>" as an invalid_json error; `fallback` names an empty path.
inline caf::error invalid(std::string_view path, const std::string& what,
                          std::string_view fallback = "document") {
  return make_error(errc::invalid_json, std::string{path.empty() ? fallback : path} + ": " + what);
}

/// "<path>: expected <expected>, got <kind of got>".
inline caf::error type_error(std::string_view path, const char* expected, const Value& got,
                             std::string_view fallback = "document") {
  return invalid(path, std::string{"expected "} + expected + ", got " + to_string(got.kind()),
                 fallback);
}

}  // namespace caflow::json_path
