// A fresh workspace directory for one test, shared by the unit and runtime
// suites (each used to carry its own copy of this struct).
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace caflow::test {

/// An empty directory under the system's temp dir, unique per process and
/// per instance (`caflow-test-<pid>-<n>`), removed with its contents when the
/// test ends, so that no run sees another's RocksDB files.
struct TempWorkspace {
  std::filesystem::path path;

  TempWorkspace() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path()
           / ("caflow-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempWorkspace(const TempWorkspace&) = delete;
  TempWorkspace& operator=(const TempWorkspace&) = delete;
  ~TempWorkspace() {
    std::error_code ec;  // best effort: a leftover directory must not fail the test
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace caflow::test
