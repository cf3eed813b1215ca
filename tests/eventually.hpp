// Waiting for a condition without a timing threshold: poll it until it
// holds, within a bound that only keeps a broken test from hanging.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace caflow::testing {

/// Polls `pred` every 10 ms until it holds or `limit` passes; returns
/// whether it held.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace caflow::testing
