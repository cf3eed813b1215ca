#!/usr/bin/env bash
# Sustained load: starts the seed flow (config/seed-flow.yml's executors,
# its workspace in a temp dir) as a `caflow flow` daemon, runs client
# processes indexing and searching for a set time (tools/soak/soak.py), and
# prints per-minute figures and a summary JSON line.
#
#   tools/soak.sh [--minutes N] [--clients N] [--build DIR] [--corpus FILE]
#
# Defaults: 3 minutes, 3 clients, build/, data/spamassassin.jsonl (made by
# tools/fetch-corpus.sh; generated text when it is absent, said so).
# Exits non-zero when any request failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes=3 clients=3 build="$root/build" corpus="$root/data/spamassassin.jsonl"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --corpus) corpus="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--clients N] [--build DIR] [--corpus FILE]" >&2; exit 2 ;;
  esac
done
cli="$build/tools/caflow"
[[ -x "$cli" ]] || { echo "soak: $cli not built (ninja -C $build caflow-cli)" >&2; exit 1; }

work="$(mktemp -d)"
daemon=""
cleanup() {
  [[ -n "$daemon" ]] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -s "$corpus" ]]; then
  echo "soak: $corpus is absent; using generated text (tools/fetch-corpus.sh makes the corpus)"
  corpus="$work/generated.jsonl"
  python3 - "$corpus" <<'PY'
import json, random, sys
rng = random.Random(7)
words = [f"w{i}" for i in range(5000)]
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 300)))
        f.write(json.dumps({"id": f"gen-{i}", "text": text}) + "\n")
PY
fi

# The seed flow's executors with this run's workspace and corpus.
sed -e "s|^  workspace: .*|  workspace: $work/ws|" \
    -e "s|corpus: .*|corpus: $corpus|" \
    "$root/config/seed-flow.yml" >"$work/flow.yml"

"$cli" flow "$work/flow.yml" --port 0 >"$work/daemon.log" 2>&1 &
daemon=$!
port=""
for _ in $(seq 600); do  # fitting TF-IDF on the corpus takes a while
  port="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/daemon.log" | head -1 | sed 's/.*://')" || true
  [[ -n "$port" ]] && break
  kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.5
done
[[ -n "$port" ]] || { echo "soak: the flow did not start" >&2; cat "$work/daemon.log" >&2; exit 1; }
echo "soak: flow pid $daemon on 127.0.0.1:$port; $clients clients for $minutes min; corpus $corpus"

status=0
python3 "$root/tools/soak/soak.py" --port "$port" --pid "$daemon" --clients "$clients" \
  --minutes "$minutes" --corpus "$corpus" || status=$?
kill -TERM "$daemon"
if ! wait "$daemon"; then
  echo "soak: the flow did not stop cleanly" >&2
  tail -20 "$work/daemon.log" >&2
  status=1
fi
daemon=""
exit "$status"
