#include "executors/tfidf/model_cache.hpp"

namespace caflow::tfidf {

void ModelSlot::init(const std::function<ModelPtr()>& make) {
  // Holding the mutex while fitting is the point: replicas that start at the
  // same time wait for the first one's model instead of fitting it again.
  std::lock_guard<std::mutex> guard{mutex_};
  if (initialised_)
    return;
  auto model = make();
  initialised_ = true;
  if (model) {
    model_ = std::move(model);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ModelSlot::publish(ModelPtr model) {
  std::lock_guard<std::mutex> guard{mutex_};
  initialised_ = true;
  model_ = std::move(model);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::pair<ModelPtr, uint64_t> ModelSlot::current() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return {model_, generation_.load(std::memory_order_acquire)};
}

ModelCache& ModelCache::instance() {
  static ModelCache cache;
  return cache;
}

std::shared_ptr<ModelSlot> ModelCache::slot(const std::string& key) {
  // Making a slot cannot fail; the registry drops it with its last holder.
  return *slots_.get(
    key, [] { return caf::expected<std::unique_ptr<ModelSlot>>{std::make_unique<ModelSlot>()}; });
}

}  // namespace caflow::tfidf
