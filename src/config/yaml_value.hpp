/// YAML reading helpers of the flow config loader (private): YAML -> Value
/// conversion and typed field reads that name file, line and key.
///
/// Scalars are typed by YAML 1.2's core schema, which is what a reader of a
/// config expects: `5` is an integer, `0.5` and `1e3` numbers, `true`/`false`
/// booleans, `~`/`null`/empty null, anything else a string. Quoted scalars and
/// `!!str` stay strings. YAML 1.1's `yes`/`no`/`on`/`off` stay strings (the
/// "Norway problem": `country: no` must not become false).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/node/node.h>

#include "caflow/polling.hpp"
#include "caflow/value.hpp"

namespace caflow::detail {

/// A config error found while reading YAML. Thrown inside the loader only and
/// turned into "FILE:LINE: KEY: WHAT" (errc::invalid_config) at the edge of
/// Flow::parse; it never escapes the library.
struct YamlConfigError {
  int line = 0;      ///< 1-based
  std::string key;   ///< dotted path, e.g. "executors[1].uses_with.k"
  std::string what;  ///< what is wrong, e.g. "expected a positive integer, got -1"
};

/// The 1-based line of `node` (1 when the node carries no position, e.g. the
/// root of an empty document).
[[nodiscard]] int line_of(const YAML::Node& node);

/// Throws YamlConfigError at `node` for `key`.
[[noreturn]] void fail(const YAML::Node& node, std::string key, std::string what);

/// The typed value of a scalar node (see the file comment); null for a null
/// node.
[[nodiscard]] Value scalar_value(const YAML::Node& node);

/// Converts any node to a Value: mappings to objects, sequences to arrays.
/// Throws YamlConfigError for a mapping key that is not a scalar or that
/// appears twice; `key` names `node` in that error.
[[nodiscard]] Value to_value(const YAML::Node& node, const std::string& key);

/// Throws YamlConfigError when mapping `node` has a non-scalar key or the
/// same key twice (yaml-cpp keeps both, PyYAML silently keeps the last: both
/// hide typos). `key` names the mapping ("" at the top level).
void check_keys(const YAML::Node& node, const std::string& key);

/// "a list", "a mapping", "null" or the scalar quoted, for "got ..." texts.
[[nodiscard]] std::string describe_node(const YAML::Node& node);

/// " (did you mean 'replicas'?)" when `key` is a likely typo of one of
/// `known`, else " (known: a, b, c)".
[[nodiscard]] std::string suggest(std::string_view key, std::span<const std::string_view> known);

/// Typed reads of config fields. Each throws YamlConfigError naming the key
/// and the node's line; none returns a half-read value.
class FieldReader {
 public:
  /// `dir`: the config file's directory, against which relative paths are
  /// resolved; nullopt keeps them as given (YAML text with no file).
  FieldReader(std::string file, std::optional<std::filesystem::path> dir)
    : file_(std::move(file)), dir_(std::move(dir)) {}

  /// The config's name in errors.
  [[nodiscard]] const std::string& file() const noexcept { return file_; }

  /// A scalar as text (numbers too: `name: 42` is "42"); not null.
  [[nodiscard]] std::string string(const YAML::Node& node, const std::string& key) const;

  /// An integer in [min, max]. Quoted digits count: '2' is 2.
  [[nodiscard]] int64_t integer(const YAML::Node& node, const std::string& key, int64_t min,
                                int64_t max) const;

  /// A string or a list of strings.
  [[nodiscard]] std::vector<std::string> strings(const YAML::Node& node,
                                                 const std::string& key) const;

  /// A mapping (null: an empty object) as a Value.
  [[nodiscard]] Value mapping(const YAML::Node& node, const std::string& key) const;

  /// A polling mode, or a mapping endpoint -> mode; every mode checked.
  [[nodiscard]] Polling polling(const YAML::Node& node, const std::string& key) const;

  /// `path` resolved against the config's directory when relative.
  [[nodiscard]] std::string path(const std::string& path) const;

  /// Like path(), but a bare file name ("libx.so") stays as given: the
  /// dynamic loader searches its own path for it, as dlopen does.
  [[nodiscard]] std::string plugin_path(const std::string& path) const;

 private:
  std::string file_;
  std::optional<std::filesystem::path> dir_;
};

}  // namespace caflow::detail
