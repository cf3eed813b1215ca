/// Maps an HTTP method and target to what the gateway does with it: Jina 3's
/// routes (POST /post, /index, /search, PUT /update, DELETE /delete, GET
/// /status, /dry_run) plus GET /metrics and caflow's POST /scale. Pure; no I/O.
#pragma once

#include <string>
#include <string_view>

namespace caflow::http {

/// What a route does.
enum class Action {
  post,                ///< a data request to the flow (see RouteMatch::endpoint)
  status,              ///< the flow's status
  dry_run,             ///< readiness probe through the flow
  metrics,             ///< Prometheus metrics
  scale,               ///< change a deployment's replicas (POST /scale)
  not_found,           ///< unknown path (404)
  method_not_allowed,  ///< known path, wrong method (405; see RouteMatch::allow)
};

/// The outcome of routing one request.
struct RouteMatch {
  Action action = Action::not_found;
  /// For Action::post: the endpoint named by the path ("/index"), or "" for
  /// /post, whose body names it.
  std::string endpoint;
  /// For Action::method_not_allowed: the methods to list in `Allow`.
  std::string allow;
  /// The path without its query string, for metrics and messages.
  std::string path;
};

/// Routes `method` ("GET", "POST", ...) and `target` ("/index?x=1").
RouteMatch route(std::string_view method, std::string_view target);

}  // namespace caflow::http
