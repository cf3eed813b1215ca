/// Dynamic batching (Jina's `uses_dynamic_batching`): a replica gathers the
/// small requests of one endpoint into batches and calls its executor once
/// per batch.
///
///   flow.add({.name = "encoder", .uses = "MyEncoder",
///             .dynamic_batching = {{"/encode", {.preferred_batch_size = 64,
///                                               .timeout = std::chrono::milliseconds{10}}}}});
///
/// YAML: `uses_dynamic_batching: {/encode: {preferred_batch_size: 64, timeout: 10}}`.
///
/// A batch is flushed when it holds `preferred_batch_size` documents, or
/// `timeout` after its first request arrived, whichever comes first; a
/// request that would take a batch past the preferred size goes into the
/// next one (a request larger than the size is a batch of its own). Only
/// requests with equal parameters share a batch, so the executor sees each
/// request's own parameters. The executor's documents go back to the
/// requests in order (it must return as many as it was given); its response
/// parameters go to every request of the batch. A batch that fails fails its
/// requests only.
#pragma once

#include <chrono>
#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace caflow {

/// Batching of one endpoint (see the file comment).
struct DynamicBatching {
  /// Documents at which a batch is flushed. Required: at least 1.
  uint32_t preferred_batch_size = 0;
  /// How long a batch waits for more requests after its first one.
  /// Default: 10 ms
  std::chrono::milliseconds timeout{10};

  friend bool operator==(const DynamicBatching&, const DynamicBatching&) = default;
};

/// CAF serialisation (a replica on a node receives it in its context).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, DynamicBatching& x) {
  return f(caf::meta::type_name("caflow::DynamicBatching"), x.preferred_batch_size, x.timeout);
}

}  // namespace caflow
