// The ready banner `caflow flow` prints once every replica is ready.
#pragma once

#include <ostream>
#include <string>

#include "caflow/flow.hpp"

namespace caflow::cli {

/// Protocol, local address and each executor with its type and replicas x
/// shards, e.g.
///   flow 'seed' ready in 1.2 s
///     protocol  http
///     address   http://127.0.0.1:8080
///     executor  vectorizer  TfidfVectorizer  replicas 2 x shards 1
void print_banner(std::ostream& out, const Flow& flow, const std::string& address,
                  double startup_s);

}  // namespace caflow::cli
