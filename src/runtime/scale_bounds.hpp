// The bound on a deployment's replicas per shard when scaling, shared by
// every way in: POST /scale, the cluster port (`caflow scale`) and
// RunningFlow::scale. Replicas are actors with an executor each: beyond a
// thousand per shard a typo (or a -1 read as 4294967295) would only make the
// flow spawn until it stops answering.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "caflow/errors.hpp"

namespace caflow::detail {

/// Most replicas per shard a scale may ask for.
constexpr int64_t max_scale_replicas = 1024;

/// errc::invalid_argument naming `deployment` unless 1 <= replicas <= 1024.
inline caf::error check_scale_replicas(const std::string& deployment, int64_t replicas) {
  if (replicas >= 1 && replicas <= max_scale_replicas)
    return {};
  return make_error(errc::invalid_argument, deployment + ": replicas must be from 1 to "
                                              + std::to_string(max_scale_replicas) + ", got "
                                              + std::to_string(replicas));
}

}  // namespace caflow::detail
