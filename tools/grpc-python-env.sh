#!/bin/sh
# Makes Python clients of caflow's gateways importable: Debian's grpcio,
# protobuf and websocket-client (python3-websocket) for /usr/bin/python3, and
# Python code generated (protoc with
# grpc_python_plugin, from protobuf-compiler-grpc) from the same .proto files
# the gateway is built from (src/grpc/proto, health included), plus the
# test-only reflection messages (tests/grpc/proto).
#
#   tools/grpc-python-env.sh [CACHE_DIR]      # default: build/grpc-python
#   env $(tools/grpc-python-env.sh) /usr/bin/python3 tests/grpc/jina_client.py ...
#
# Prints PYTHONPATH=... and LD_LIBRARY_PATH=... . tools/setup.sh installs
# python3-grpcio and python3-websocket; where apt cannot install them (not root, or a conflict with
# other packages), its .debs are downloaded and unpacked into the cache, as
# tools/sklearn-env.sh does. Exits non-zero with a message when it cannot
# provide a working client.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$here/build/grpc-python}
root=$cache/root
gen=$cache/gen
python=/usr/bin/python3
pythonpath=$gen
libdir=""

fail() { echo "grpc-python-env.sh: $*" >&2; exit 1; }

[ -x "$python" ] || fail "$python not found (Debian's python3 package is needed)"
command -v protoc >/dev/null || fail "protoc not found (protobuf-compiler; run tools/setup.sh)"
plugin=$(command -v grpc_python_plugin || true)
[ -n "$plugin" ] || fail "grpc_python_plugin not found (protobuf-compiler-grpc; run tools/setup.sh)"

check() {
  PYTHONPATH=$1 LD_LIBRARY_PATH=$2 "$python" -c 'import grpc, google.protobuf, websocket' >/dev/null 2>&1
}

if ! check "" ""; then
  pythonpath=$gen:$root/usr/lib/python3/dist-packages
  libdir=$root/usr/lib/x86_64-linux-gnu
  if [ ! -f "$cache/.debs-complete" ] || ! check "$pythonpath" "$libdir"; then
    command -v apt-get >/dev/null || fail "apt-get not found"
    mkdir -p "$cache/debs" "$root" || fail "cannot create $cache"
    for p in python3-grpcio python3-protobuf python3-websocket libprotobuf32 libabsl20220623 libre2-9 libc-ares2; do
      if ! ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1; then
        (cd "$cache/debs" && apt-get download "$p" >&2) || fail "apt-get download $p failed (try: apt-get update)"
      fi
    done
    for deb in "$cache"/debs/*.deb; do
      dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb failed"
    done
    check "$pythonpath" "$libdir" || fail "grpc or websocket does not import from $root"
    touch "$cache/.debs-complete"
  fi
fi

protos="$here/src/grpc/proto/jina.proto $here/src/grpc/proto/docarray.proto \
$here/src/grpc/proto/health.proto $here/tests/grpc/proto/reflection.proto"
stamp=$gen/.stamp
stale=0
[ -f "$stamp" ] || stale=1
for p in $protos; do
  [ "$stale" -eq 1 ] || [ "$p" -nt "$stamp" ] && stale=1
done
if [ "$stale" -eq 1 ]; then
  mkdir -p "$gen" || fail "cannot create $gen"
  protoc -I "$here/src/grpc/proto" -I "$here/tests/grpc/proto" \
    --python_out="$gen" --grpc_python_out="$gen" \
    --plugin=protoc-gen-grpc_python="$plugin" $protos >&2 || fail "protoc failed"
  touch "$stamp"
fi

echo "PYTHONPATH=$pythonpath"
echo "LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
