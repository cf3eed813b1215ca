#!/usr/bin/env bash
# Sets up caflow on a Debian 12 machine: installs whichever of the needed
# Debian packages are missing (as root, non-interactively), configures into
# build/ and builds everything with both cores. Idempotent: when everything is
# in place it only runs the (incremental) build.
#
#   tools/setup.sh            # install + configure + build
#   CAFLOW_BUILD_TYPE=Debug tools/setup.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CAFLOW_BUILD_DIR:-$repo/build}"
jobs="${CAFLOW_JOBS:-$(nproc)}"

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev libssl-dev
  libboost1.81-all-dev libboost-json1.81-dev
  libeigen3-dev librocksdb-dev libhnswlib-dev libyaml-cpp-dev libicu-dev doctest-dev
  zlib1g-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  python3-grpcio python3-protobuf python3-websocket
  python3 curl procps clang-format
  python3-yaml python3-kubernetes openssl util-linux iproute2
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

generator=()
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=(-G Ninja)
fi
cmake -S "$repo" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE="${CAFLOW_BUILD_TYPE:-RelWithDebInfo}" \
  ${CAFLOW_CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs"
