/// Jina 3 config keys that caflow does not implement (private to the loader).
///
/// A Jina flow file carries settings caflow has no counterpart for. Ignoring
/// them would run something else than the file says (`external: true` with
/// `host:`/`port:` describes an executor that runs elsewhere; caflow would
/// start it here), so each is refused by name with what to do instead.
#pragma once

#include <optional>
#include <string_view>

namespace caflow::detail {

/// Where a key appears in a flow file.
enum class JinaScope {
  flow_with,  ///< `with:` at the top level (the gateway and the flow)
  executor,   ///< an entry of `executors:`
  uses,       ///< `uses: {jtype, with, metas, ...}`
  metas,      ///< `uses_metas:` or `uses.metas`
};

/// Why Jina's `key` in `scope` is refused ("caflow runs every executor in the
/// flow's process or on its nodes: ..."), or nullopt when `key` is no Jina key
/// caflow refuses (a caflow key, or an unknown one).
[[nodiscard]] std::optional<std::string_view> jina_unsupported(JinaScope scope,
                                                               std::string_view key) noexcept;

}  // namespace caflow::detail
