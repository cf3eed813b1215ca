#!/bin/sh
# Makes Debian's scikit-learn importable without installing it: PyPI is not
# reachable here and apt cannot install python3-sklearn beside libboost1.81-dev,
# so the .debs are downloaded and unpacked into a cache folder instead.
#
#   tools/sklearn-env.sh [CACHE_DIR]      # default: build/sklearn-env
#   env $(tools/sklearn-env.sh) /usr/bin/python3 tools/bench/sklearn_tfidf.py ...
#
# Prints two lines, PYTHONPATH=... and LD_LIBRARY_PATH=..., for Debian's own
# interpreter /usr/bin/python3 (the .debs are built for it, not for pyenv's).
# Idempotent: a complete cache is reused. Exits non-zero with a message when
# it cannot provide a working scikit-learn.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$here/build/sklearn-env}
root=$cache/root
pythonpath=$root/usr/lib/python3/dist-packages
libdir=$root/usr/lib/x86_64-linux-gnu
python=/usr/bin/python3

# scikit-learn and what it and scipy import at load time. liblbfgsb0 is a
# native library of scipy.optimize that Debian does not install by default.
packages="python3-sklearn python3-sklearn-lib python3-scipy python3-numpy
python3-joblib python3-threadpoolctl liblbfgsb0"

fail() { echo "sklearn-env.sh: $*" >&2; exit 1; }

[ -x "$python" ] || fail "$python not found (Debian's python3 package is needed)"

check() {
  PYTHONPATH=$pythonpath LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$python" -c 'import sklearn.feature_extraction.text' >/dev/null 2>&1
}

if [ ! -f "$cache/.complete" ] || ! check; then
  command -v apt-get >/dev/null || fail "apt-get not found"
  command -v dpkg-deb >/dev/null || fail "dpkg-deb not found"
  mkdir -p "$cache/debs" "$root" 2>/dev/null || fail "cannot create the cache folder $cache"
  for p in $packages; do
    if ! ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1; then
      (cd "$cache/debs" && apt-get download "$p" >&2) \
        || fail "apt-get download $p failed (try: apt-get update)"
    fi
  done
  for deb in "$cache"/debs/*.deb; do
    dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb failed"
  done
  if ! check; then
    err=$(PYTHONPATH=$pythonpath LD_LIBRARY_PATH=$libdir \
      "$python" -c 'import sklearn.feature_extraction.text' 2>&1 | tail -n 1)
    fail "scikit-learn does not import from $pythonpath: $err"
  fi
  touch "$cache/.complete"
fi

echo "PYTHONPATH=$pythonpath"
echo "LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
