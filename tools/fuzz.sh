#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, CAFLOW_FUZZ=ON) and
# runs each for a time budget on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/). Exits non-zero when any target crashes,
# printing the reproducer; keep it under tests/fuzz/regressions/<target>/,
# where tests/unit/fuzz_regressions_test.cpp replays it in the normal build.
#
#   tools/fuzz.sh            # 60 s per target
#   tools/fuzz.sh 600        # 10 minutes per target
#   build-fuzz/tests/fuzz/fuzz_documents CRASH_FILE      # replay one input
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CAFLOW_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
seconds="${1:-60}"
targets=(documents http_request flow_yaml)

# clang and its libFuzzer/sanitizer runtimes, installed as tools/setup.sh does.
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

generator=()
[[ -f "$build/CMakeCache.txt" ]] || generator=(-G Ninja)
CC=clang CXX=clang++ cmake -S "$repo" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAFLOW_FUZZ=ON
cmake --build "$build" -j"${CAFLOW_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$repo/tools/sanitizers/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$repo/tools/sanitizers/lsan.supp"

out="$build/fuzz-runs"
failed=0
for t in "${targets[@]}"; do
  corpus="$out/$t/corpus"
  artifacts="$out/$t/artifacts/"
  rm -rf "$out/$t"
  mkdir -p "$corpus" "$artifacts"
  cp "$repo/tests/fuzz/corpus/$t/"* "$corpus/"
  echo "fuzz: $t for $seconds s"
  status=0
  "$build/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" \
    >"$out/$t/log" 2>&1 || status=$?
  grep -E '^#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$out/$t/log" || true
  if ((status != 0)); then
    failed=1
    tail -n 60 "$out/$t/log"
    for f in "$artifacts"*; do
      [[ -e $f ]] && echo "fuzz: $t CRASHED; reproducer: $f (keep it in tests/fuzz/regressions/$t/)"
    done
  fi
done
exit $failed
