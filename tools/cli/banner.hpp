// The ready banner `caflow flow` prints once every replica is ready.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "caflow/flow.hpp"

namespace caflow::cli {

/// Protocol, local address, the cluster port when there is one, and each
/// executor with its type, replicas x shards and where its replicas run, e.g.
///   flow 'seed' ready in 1.2 s
///     protocol  http
///     address   http://127.0.0.1:8080
///     executor  vectorizer  TfidfVectorizer  replicas 2 x shards 1  on local
///     executor  indexer     Indexer          replicas 1 x shards 2  on shard-0: 10.0.0.2:4242,
///     shard-1: 10.0.0.3:4242
/// With several gateways (Jina's `protocol: [grpc, http]`), a protocol and
/// an address line for each, in the config's order; `gateways` holds
/// (protocol, "host:port") pairs.
void print_banner(std::ostream& out, const RunningFlow& running,
                  const std::vector<std::pair<std::string, std::string>>& gateways,
                  double startup_s);

/// Where a deployment's replicas run, in one line: "local" when all are in
/// the flow's process, else "shard-K[/replica-R]: NODE" for each.
std::string describe_placement(const std::vector<ReplicaPlacement>& placement,
                               const DeploymentOptions& deployment);

}  // namespace caflow::cli
