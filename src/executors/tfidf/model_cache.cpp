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
  std::lock_guard<std::mutex> guard{mutex_};
  // Drop entries whose replicas are all gone, so the map does not grow with
  // every deployment a long-lived process has ever run.
  for (auto i = slots_.begin(); i != slots_.end();)
    i = i->second.expired() ? slots_.erase(i) : std::next(i);
  auto& entry = slots_[key];
  auto slot = entry.lock();
  if (!slot) {
    slot = std::make_shared<ModelSlot>();
    entry = slot;
  }
  return slot;
}

}  // namespace caflow::tfidf
