// Posting a document stream through a gateway: split into requests, keep at
// most `prefetch` in flight, put the answers back in input order.
#pragma once

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "caflow/flow.hpp"
#include "caflow/messages.hpp"

namespace caflow::detail {

/// Posts `docs` to `endpoint` through `gateway` and blocks until every
/// request answered (or one failed). Runs a short-lived client actor on `sys`.
caf::expected<PostResult> post_through(caf::actor_system& sys, const gateway_actor& gateway,
                                       const std::string& endpoint, DocumentArray docs,
                                       PostOptions options);

}  // namespace caflow::detail
