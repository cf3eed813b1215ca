#!/usr/bin/env bash
# Builds caflow with sanitizers and runs the whole CTest suite under them,
# child processes included (the daemon and cluster tests spawn the sanitized
# `caflow`; the options below travel in the environment).
#
#   tools/sanitize.sh                 # ASan + UBSan (+ LSan) in build-asan/
#   tools/sanitize.sh --thread        # TSan in build-tsan/, unit + runtime tests
#   tools/sanitize.sh -R unit         # extra arguments go to ctest
#
# UB is fatal (-fno-sanitize-recover=undefined), so any report fails its test.
# Suppressions for third-party code (CAF, RocksDB; never caflow's own) are in
# tools/sanitizers/*.supp, each entry with why.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
supp="$repo/tools/sanitizers"
jobs="${CAFLOW_JOBS:-2}"

mode=address
if [[ "${1:-}" == "--thread" ]]; then
  mode=thread
  shift
fi

if [[ $mode == address ]]; then
  build="${CAFLOW_BUILD_DIR:-$repo/build-asan}"
  sanitize=ON
else
  build="${CAFLOW_BUILD_DIR:-$repo/build-tsan}"
  sanitize=thread
fi

start=$(date +%s)
generator=()
[[ -f "$build/CMakeCache.txt" ]] || generator=(-G Ninja)
cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAFLOW_SANITIZE=$sanitize
cmake --build "$build" -j"$jobs"
built=$(date +%s)

# abort_on_error: a report ends the process with SIGABRT, so a child daemon's
# report is seen by the test that waits for it. detect_leaks: LSan at exit.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:suppressions=$supp/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=0:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

cd "$build"
ctest_args=(--output-on-failure --timeout 1800)
if [[ $mode == thread ]]; then
  # CAF 0.17 is not instrumented: TSan reports from the multi-process tests
  # are mostly about CAF's internals; the unit and runtime tests are the
  # meaningful part (see tools/sanitizers/tsan.supp).
  ctest_args+=(-R '^(unit|runtime)$')
fi
status=0
ctest "${ctest_args[@]}" "$@" || status=$?
end=$(date +%s)
echo "sanitize ($mode): build $((built - start)) s, tests $((end - built)) s"
exit $status
