/// Polling: how a deployment's head routes a request to its shards.
///
/// - `ANY`: one shard takes the request (the least busy replica of any shard).
/// - `ALL`: every shard takes it; the answers are reduced (merged by id, matches
///   merged by score and cut to `top_k`).
/// - `PARTITION` (beyond Jina): the request's documents are split across shards
///   by a stable hash of their id, so updates and deletes reach the shard that
///   holds the id; the answers are put back in request order.
///
/// A deployment's polling is one mode for every endpoint, or a per-endpoint map
/// with `*` as the default:
///
///   caflow::Polling p = "ALL";
///   caflow::Polling q = {{"/index", "ANY"}, {"/search", "ALL"}, {"*", "ALL"}};
///
/// With nothing given, Jina's defaults hold: `/search` ALL, everything else ANY.
/// Modes are case-insensitive. A Polling holds the strings as given;
/// `validate()` reports a bad one (Flow::start calls it).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace caflow {

/// The three polling modes.
enum class PollingMode : uint8_t { any, all, partition };

/// "ANY", "ALL" or "PARTITION".
const char* to_string(PollingMode mode) noexcept;

/// Parses a mode, case-insensitively; errc::invalid_config otherwise.
caf::expected<PollingMode> parse_polling_mode(std::string_view text);

/// A deployment's polling policy (see the file comment).
class Polling {
 public:
  /// Jina's defaults: `/search` ALL, `*` ANY.
  Polling();
  /// One mode for every endpoint.
  Polling(const char* mode);
  Polling(std::string mode);
  /// A per-endpoint map; `*` is the default (ANY when absent).
  Polling(std::initializer_list<std::pair<const std::string, std::string>> per_endpoint);
  explicit Polling(std::map<std::string, std::string> per_endpoint);

  /// The mode for `endpoint`: its own entry, else `*`, else ANY. Unparsable
  /// entries count as ANY (validate() reports them).
  [[nodiscard]] PollingMode mode_for(std::string_view endpoint) const;

  /// An error naming the first invalid entry, or none.
  [[nodiscard]] caf::error validate() const;

  /// The entries as given (endpoint -> mode string).
  [[nodiscard]] const std::map<std::string, std::string>& entries() const noexcept {
    return entries_;
  }

 private:
  std::map<std::string, std::string> entries_;
};

}  // namespace caflow
