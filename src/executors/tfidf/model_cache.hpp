/// Process-wide sharing of one fitted TF-IDF model among replicas.
///
/// Replicas of a deployment run in one process as separate actors, each with
/// its own executor instance; they must all vectorise with the same model.
/// `ModelCache::instance().slot(key)` hands every replica the same
/// `ModelSlot` (key: the model file's path, or the deployment's name when
/// there is no workspace). The first replica fits or loads the model inside
/// `init`, under the slot's mutex, while the others wait and then reuse it.
/// A `/fit` on any replica `publish`es a new model; the others notice the
/// bumped generation (one atomic load per request) and pick it up.
///
///   auto slot = ModelCache::instance().slot("/ws/vectorizer/tfidf.model");
///   slot->init([&] { return load_or_fit(); });   // runs once per slot
///   auto [model, generation] = slot->current();
///
/// Thread-safe. A slot lives while some replica holds it: when the last one
/// goes, the next start loads the model again from its file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/shared_registry.hpp"
#include "executors/tfidf/tfidf_model.hpp"

namespace caflow::tfidf {

/// An immutable model shared by replicas.
using ModelPtr = std::shared_ptr<const TfidfModel>;

/// The shared state of one deployment's model. Thread-safe.
class ModelSlot {
 public:
  /// Runs `make` unless an earlier `init` succeeded, all under the slot's
  /// mutex, and publishes its model when it returns one (nullptr: nothing to
  /// publish yet, e.g. no corpus configured). A `make` that throws leaves the
  /// slot uninitialised, so the next replica tries again.
  void init(const std::function<ModelPtr()>& make);

  /// Publishes `model` as the current one and bumps the generation.
  void publish(ModelPtr model);

  /// The current model (nullptr before the first fit) and its generation.
  [[nodiscard]] std::pair<ModelPtr, uint64_t> current() const;

  /// The generation: increases with every publish. A cheap check.
  [[nodiscard]] uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

 private:
  mutable std::mutex mutex_;
  bool initialised_ = false;
  ModelPtr model_;
  std::atomic<uint64_t> generation_{0};
};

/// The process-wide table of slots by key: a SharedRegistry of slots.
/// Thread-safe.
class ModelCache {
 public:
  /// The process-wide cache.
  static ModelCache& instance();

  /// The slot for `key`, created when no live slot has that key.
  [[nodiscard]] std::shared_ptr<ModelSlot> slot(const std::string& key);

 private:
  ModelCache() = default;
  SharedRegistry<ModelSlot> slots_;
};

}  // namespace caflow::tfidf
