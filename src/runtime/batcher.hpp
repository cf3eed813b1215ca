/// The decisions of dynamic batching (private; see caflow/batching.hpp),
/// as plain logic that the replica actor sequences: which requests form a
/// batch, when a batch is due, and how the executor's answer is split back.
///
///   Batcher b{ctx.dynamic_batching};
///   auto added = b.add(ticket, req);          // ticket: the actor's promise id
///   if (added.timer) delayed_send(self, added.timer->timeout, batch_atom, added.timer->group,
///                                 added.timer->generation);
///   for (auto& batch : added.ready) run(batch);
///   // on the timer: if (auto batch = b.expire(group, generation)) run(*batch);
///
/// Thread-safety: none (one replica actor owns one).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/batching.hpp"
#include "caflow/messages.hpp"

namespace caflow::detail {

/// Requests gathered for one executor call.
struct Batch {
  std::string endpoint;
  Params parameters = Params::object();  ///< equal for every request of the batch
  std::vector<uint64_t> tickets;         ///< the requests, in arrival order
  std::vector<Request> requests;         ///< the requests, their documents moved into `docs`
  DocumentArray docs;                    ///< every request's documents, in order (the
                                         ///< executor's input; moved out to call it)
  std::vector<size_t> sizes;             ///< documents per request
};

/// A timer the actor must start for a batch that just got its first request.
struct BatchTimer {
  std::string group;
  uint64_t generation = 0;
  std::chrono::milliseconds timeout{0};
};

/// What Batcher::add decided.
struct BatchAdd {
  std::vector<Batch> ready;         ///< batches to run now, in order
  std::optional<BatchTimer> timer;  ///< a timer to start
};

/// Gathers requests of batched endpoints (see the file comment).
class Batcher {
 public:
  Batcher() = default;
  explicit Batcher(std::map<std::string, DynamicBatching> config) : config_(std::move(config)) {}

  /// True when requests to `endpoint` are batched.
  [[nodiscard]] bool batches(const std::string& endpoint) const {
    return config_.count(endpoint) > 0;
  }

  /// Adds request `req` (of a batched endpoint) under `ticket`.
  [[nodiscard]] BatchAdd add(uint64_t ticket, Request req);

  /// The batch of `group` when its timer fired and it is still the batch
  /// that started it (`generation`); nullopt when it was flushed meanwhile.
  [[nodiscard]] std::optional<Batch> expire(const std::string& group, uint64_t generation);

  /// Every batch still gathering (when the replica stops), in group order.
  [[nodiscard]] std::vector<Batch> drain();

  /// Requests waiting in batches.
  [[nodiscard]] size_t pending() const noexcept;

 private:
  struct Group {
    Batch batch;
    uint64_t generation = 0;  // the batch being gathered; bumped at each flush
  };
  Batch take(Group& g);

  std::map<std::string, DynamicBatching> config_;
  std::map<std::string, Group> groups_;
  uint64_t next_generation_ = 1;
};

/// The executor's documents `out` for `batch`, split back per request (in
/// ticket order, by `sizes`). Fails when the executor returned another number of
/// documents than it was given: there is then no telling whose they are.
[[nodiscard]] caf::expected<std::vector<DocumentArray>> split_batch(const Batch& batch,
                                                                    DocumentArray out);

}  // namespace caflow::detail
