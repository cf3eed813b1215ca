#include "runtime/serving_malloc.hpp"

#include <cstdlib>
#include <mutex>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace caflow::detail {

void tune_malloc_for_serving() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* mode = std::getenv("CAFLOW_MALLOC");
    if (mode != nullptr && std::string_view{mode} == "default")
      return;
#if defined(__GLIBC__)
    // Setting either turns off glibc's dynamic thresholds: both are set.
    // mallopt returns 0 on failure; glibc's defaults then stay, which is
    // only slower, so it is deliberately not reported.
    (void)::mallopt(M_MMAP_THRESHOLD, 1 << 20);
    (void)::mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
  });
}

}  // namespace caflow::detail
