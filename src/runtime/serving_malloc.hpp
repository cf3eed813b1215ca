// glibc's malloc tuned for a process that serves requests (the HTTP and
// gRPC gateways call it when they start).
//
// Why: each request allocates and frees some tens of kilobytes (its body,
// ~100 Documents, the answer) on the I/O thread's and the workers' arenas.
// glibc hands the free top of an arena back to the kernel once it exceeds
// M_TRIM_THRESHOLD (128 KiB until a large mmap'd block is freed, which
// never happens here), so the next request finds the pages gone and the
// kernel zeroes fresh ones: ~2 page faults and a madvise per request, about
// a fifth of the gateway's CPU per request in `perf`. Keeping up to
// 32 MiB free per arena (and serving blocks below 1 MiB from the heap, not
// mmap) ends that. malloc_trim(0) still returns everything.
#pragma once

namespace caflow::detail {

/// Sets M_TRIM_THRESHOLD to 32 MiB and M_MMAP_THRESHOLD to 1 MiB, once per
/// process (later calls do nothing). Not when CAFLOW_MALLOC=default is set
/// (glibc's own behaviour, e.g. to compare), nor with another malloc.
/// Thread-safe.
void tune_malloc_for_serving();

}  // namespace caflow::detail
