// Loading executor plugins with dlopen. The library is never unloaded: the
// executors it registered (and any actor still running them) point into it.
#include "caflow/plugin.hpp"

#include <dlfcn.h>

#include <mutex>
#include <set>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"

namespace caflow {

namespace {

std::mutex loaded_mutex;
std::set<std::string> loaded;  // paths already loaded by this process

}  // namespace

caf::error load_plugin(const std::string& path) {
  std::lock_guard<std::mutex> guard{loaded_mutex};
  if (loaded.count(path) > 0)
    return {};
  auto& registry = ExecutorRegistry::instance();
  auto before = registry.names();
  // Already mapped (e.g. linked in, or loaded under another name): its
  // executors registered then, so expect none now.
  void* mapped = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (mapped != nullptr)
    dlclose(mapped);  // drops the reference RTLD_NOLOAD took
  // RTLD_NOW: unresolved symbols fail here, naming the symbol, not at the
  // first request. RTLD_GLOBAL: a plugin may use another plugin's symbols.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error(errc::plugin_error,
                      "plugin " + path + ": " + (why != nullptr ? why : "dlopen failed"));
  }
  if (mapped == nullptr && registry.names() == before)
    return make_error(
      errc::plugin_error,
      "plugin " + path + ": registered no executor (is CAFLOW_REGISTER_EXECUTOR in it?)");
  loaded.insert(path);
  return {};
}

caf::error load_plugins(const std::vector<std::string>& paths) {
  for (const auto& path : paths)
    if (auto err = load_plugin(path))
      return err;
  return {};
}

}  // namespace caflow
