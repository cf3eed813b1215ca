/// One shared object per key per process.
///
/// The first `get` of a key makes the object, later ones share it, and it is
/// destroyed when the last holder lets go. A `get` that arrives while the
/// previous object of its key is still being destroyed waits for that to
/// finish, so a reopen never races a close (a RocksDB directory can be open
/// only once; a model file is saved by its last holder).
///
///   static SharedRegistry<ShardDb> dbs;
///   auto db = dbs.get(path, [&] { return open_db(path); });  // caf::expected
///
/// Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

namespace caflow {

/// A process-wide table of shared objects by key (see the file comment).
template <class T>
class SharedRegistry {
 public:
  /// The live object under `key`, else `make()`'s (a
  /// caf::expected<std::unique_ptr<T>>), which runs under the registry's lock.
  template <class Make>
  caf::expected<std::shared_ptr<T>> get(const std::string& key, Make make) {
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      auto i = open_.find(key);
      if (i == open_.end())
        break;
      if (auto existing = i->second.lock())
        return existing;
      cv_.wait(lock);  // its destructor is running; it erases the entry
    }
    caf::expected<std::unique_ptr<T>> made = make();
    if (!made)
      return std::move(made.error());
    std::shared_ptr<T> out{made->release(), [this, key](T* p) {
                             delete p;  // outside the lock: closing may take time
                             std::lock_guard<std::mutex> guard{mtx_};
                             open_.erase(key);
                             cv_.notify_all();
                           }};
    open_[key] = out;
    return out;
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::weak_ptr<T>> open_;
};

}  // namespace caflow
