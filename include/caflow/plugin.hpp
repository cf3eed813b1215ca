/// Plugins: user executors compiled as shared libraries.
///
/// A plugin is a shared library whose executors register themselves with
/// CAFLOW_REGISTER_EXECUTOR when it is loaded; after `load_plugin` they are
/// usable by name in flows. Flows load the plugins named in their config
/// (`with: {plugins: [path/libmine.so]}`) when they start.
///
///   if (auto err = caflow::load_plugin("build/libmine.so"))
///     std::cerr << caflow::describe(err) << '\n';
#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

namespace caflow {

/// Loads the shared library at `path` (a bare file name is searched like
/// dlopen does). Loading the same path twice is a no-op. Fails with
/// errc::plugin_error naming the file and why (dlerror), or when the library
/// registered no executor. Thread-safe.
caf::error load_plugin(const std::string& path);

/// Loads each plugin in order; stops at the first failure.
caf::error load_plugins(const std::vector<std::string>& paths);

}  // namespace caflow
