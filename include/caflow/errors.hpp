/// caflow's error codes.
///
/// One enum, `caflow::errc`, serves everywhere: between actors it travels as a
/// `caf::error` (category atom "caflow", context = a human-readable message);
/// in synchronous code it is returned through `caf::expected<T>`; at the edges
/// (executor code, the CLI's `main`) it may be thrown as `caflow::Error`.
///
///   caf::expected<Value> v = parse_json(text);
///   if (!v) std::cerr << caflow::describe(v.error()) << '\n';
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>

namespace caflow {

/// Error codes of caflow. Values are part of the wire format: append only.
enum class errc : uint8_t {
  /// Malformed JSON or a JSON value of the wrong type.
  invalid_json = 1,
  /// A parameter, option or argument is out of range or of the wrong type.
  invalid_argument,
  /// A flow configuration is malformed (names file, line and key).
  invalid_config,
  /// No executor type is registered under the given name.
  unknown_executor,
  /// An executor's constructor threw: the replica could not start.
  executor_start_failed,
  /// An executor's endpoint threw while handling a request.
  executor_failed,
  /// A vector's dimension differs from the index's.
  dimension_mismatch,
  /// A request did not finish within its deployment's timeout.
  timeout,
  /// No replica could take the request (all dead, or shutting down).
  unavailable,
  /// The flow is at its in-flight limit.
  overloaded,
  /// A document, executor, deployment or file was not found.
  not_found,
  /// The storage layer (RocksDB) reported an error.
  storage_error,
  /// Reading or writing a file failed.
  io_error,
  /// Every shard of a deployment failed a request.
  all_shards_failed,
  /// A plugin could not be loaded.
  plugin_error,
};

/// The atom that marks caflow's error category inside a `caf::error`.
constexpr caf::atom_value error_category = caf::atom("caflow");

/// The name of an error code, such as "invalid_json".
const char* to_string(errc code) noexcept;

/// Makes a `caf::error` without context. Found by ADL, which lets CAF convert
/// an `errc` implicitly into `caf::error` and `caf::expected<T>`.
caf::error make_error(errc code);

/// Makes a `caf::error` whose context is `message`.
caf::error make_error(errc code, std::string message);

/// The caflow code of `err`, or no value when `err` is not a caflow error.
bool is(const caf::error& err, errc code) noexcept;

/// The message attached to `err` ("" when none).
std::string error_message(const caf::error& err);

/// A one-line description: "invalid_json: line 1, column 3: ..." for caflow
/// errors and CAF's own rendering for others.
std::string describe(const caf::error& err);

/// describe(e.error()) when `e` holds an error, "" when it holds a value:
/// for messages evaluated either way, such as a test assertion's under
/// doctest -s (error() of an expected that holds a value is undefined).
template <class T>
std::string describe(const caf::expected<T>& e) {
  return e ? std::string{} : describe(e.error());
}

/// An exception carrying a caflow error. Executor code may throw it (or any
/// std::exception) to fail one request; caflow catches it at the actor edge.
class Error : public std::runtime_error {
 public:
  Error(errc code, const std::string& message);
  explicit Error(const caf::error& err);

  /// The error code.
  [[nodiscard]] errc code() const noexcept { return code_; }

  /// The error as a `caf::error`.
  [[nodiscard]] caf::error to_error() const;

 private:
  errc code_;
};

/// Throws `Error` for `err` (which must not be empty).
[[noreturn]] void throw_error(const caf::error& err);

}  // namespace caflow
