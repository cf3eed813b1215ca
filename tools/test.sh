#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest). This is the
# README's test command and what CI runs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CAFLOW_BUILD_DIR:-$repo/build}"
"$repo/tools/setup.sh"
"$repo/tools/format.sh" --check
(cd "$build" && ctest --output-on-failure --timeout 900 -j"${CAFLOW_TEST_JOBS:-1}" "$@")
# Then the unit and runtime tests under AddressSanitizer + UBSan, in their
# own build (build-asan-ci/; about 10 minutes cold on 2 cores, see
# docs/sanitizers.md). CAFLOW_SANITIZE_CI=0 skips it.
if [[ "${CAFLOW_SANITIZE_CI:-1}" != 0 ]]; then
  env -u CAFLOW_BUILD_DIR "$repo/tools/sanitize.sh" --ci
fi
