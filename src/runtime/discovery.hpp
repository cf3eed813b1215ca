// Endpoint discovery (Jina's endpoint_discovery): a request to the reserved
// endpoint below walks the flow like any other; each replica answers with
// its executor's bound endpoints under its deployment's key instead of
// running a handler, and the gateway's merge of parameters keeps one key
// per deployment.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "caflow/value.hpp"

namespace caflow::detail {

/// The reserved endpoint; executors never see it.
inline constexpr std::string_view discovery_endpoint = "/_caflow_discover_endpoints";

/// Parameter key prefix of one deployment's endpoints list.
inline constexpr std::string_view discovery_key_prefix = "__endpoints__/";

/// The union of the endpoints in a discovery response's parameters, with
/// the default handler ("*") spelled as Jina does ("/default").
inline std::set<std::string> discovered_endpoints(const Params& params) {
  std::set<std::string> out;
  if (!params.is_object())
    return out;
  for (const auto& [key, list] : params.as_object()) {
    if (key.rfind(discovery_key_prefix, 0) != 0 || !list.is_array())
      continue;
    for (const auto& e : list.as_array())
      if (e.is_string())
        out.insert(e.as_string() == "*" ? std::string{"/default"} : e.as_string());
  }
  return out;
}

}  // namespace caflow::detail
