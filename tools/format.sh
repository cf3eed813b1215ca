#!/usr/bin/env bash
# Formats every C++ file of the repo with its .clang-format (Debian's
# clang-format), or with --check lists the files that are not formatted and
# fails. .ci/run runs the check.
#
#   tools/format.sh            # rewrite files in place
#   tools/format.sh --check    # exit 1 and name each unformatted file
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if ! command -v clang-format >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends clang-format
fi
# Tracked files and new ones not yet added (but not ignored ones such as build/).
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.cc')
if [[ "${1:-}" == "--check" ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
      echo "not formatted: $f (run tools/format.sh)"
      bad=1
    fi
  done
  exit $bad
fi
clang-format --style=file -i "${files[@]}"
