#!/usr/bin/env bash
# Builds caflow with sanitizers and runs the whole CTest suite under them,
# child processes included (the daemon and cluster tests spawn the sanitized
# `caflow`; the options below travel in the environment).
#
#   tools/sanitize.sh                 # ASan + UBSan (+ LSan) in build-asan/
#   tools/sanitize.sh --ci            # the same for the unit and runtime tests
#                                     # only, built at -O1 -g1 (what CI runs)
#   tools/sanitize.sh --thread        # TSan in build-tsan/, unit + runtime tests
#   tools/sanitize.sh -R unit         # extra arguments go to ctest
#
# --ci costs about twice the normal build of the library and those two test
# programs (-O2 -g with ASan+UBSan costs 3 to 4 times; measured per file:
# docs/sanitizers.md), so that CI stays well inside its 90 minutes.
#
# UB is fatal (-fno-sanitize-recover=undefined), so any report fails its test.
# Suppressions for third-party code (CAF, RocksDB; never caflow's own) are in
# tools/sanitizers/*.supp, each entry with why.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
supp="$repo/tools/sanitizers"
jobs="${CAFLOW_JOBS:-2}"

mode=address
ci=0
if [[ "${1:-}" == "--thread" ]]; then
  mode=thread
  shift
elif [[ "${1:-}" == "--ci" ]]; then
  ci=1
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
targets=()
opt=()
if [[ $mode == thread || $ci == 1 ]]; then
  # Only what the unit and runtime tests need.
  targets=(--target caflow-unit-tests caflow-runtime-tests)
  opt=(-DCAFLOW_BUILD_TOOLS=OFF)
fi
if [[ $ci == 1 ]]; then
  build="${CAFLOW_BUILD_DIR:-$repo/build-asan-ci}"
  [[ -f "$build/CMakeCache.txt" ]] || generator=(-G Ninja)
  # -O1 and line tables: half the compile time of -O2 -g under ASan, with
  # file:line in every report.
  opt+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
fi
cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAFLOW_SANITIZE=$sanitize "${opt[@]}"
cmake --build "$build" -j"$jobs" "${targets[@]}"
built=$(date +%s)

# abort_on_error: a report ends the process with SIGABRT, so a child daemon's
# report is seen by the test that waits for it. detect_leaks: LSan at exit.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:suppressions=$supp/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=0:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

cd "$build"
ctest_args=(--output-on-failure --timeout 1800)
if [[ $mode == thread || $ci == 1 ]]; then
  # TSan: CAF 0.17 is not instrumented, so reports from the multi-process
  # tests are mostly about CAF's internals; the unit and runtime tests are
  # the meaningful part (docs/sanitizers.md).
  ctest_args+=(-R '^(unit|runtime)$')
fi
status=0
ctest "${ctest_args[@]}" "$@" || status=$?
end=$(date +%s)
echo "sanitize ($mode): build $((built - start)) s, tests $((end - built)) s"
exit $status
