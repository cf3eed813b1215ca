#!/usr/bin/env bash
# The cluster walk-through on one machine: two node daemons host the
# indexer's shards, the flow indexes the corpus and searches it, a third node
# joins and the vectorizer is scaled onto it. Run from anywhere after
# tools/setup.sh and tools/fetch-corpus.sh; logs go to workspace/cluster/*.log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
caflow=build/tools/caflow
ws=workspace/cluster
mkdir -p "$ws"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_for() {  # FILE TEXT: wait up to 60 s for TEXT to appear in FILE
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

echo "== two nodes"
$caflow node --port 4242 --workspace "$ws/node-a" >"$ws/node-a.log" 2>&1 & pids+=($!)
$caflow node --port 4243 --workspace "$ws/node-b" >"$ws/node-b.log" 2>&1 & pids+=($!)
wait_for "$ws/node-a.log" "node ready"
wait_for "$ws/node-b.log" "node ready"

echo "== the flow (indexer shards on the nodes)"
$caflow flow config/cluster-flow.yml >"$ws/flow.log" 2>&1 & pids+=($!)
wait_for "$ws/flow.log" "executor  indexer"
cat "$ws/flow.log"

echo "== index the corpus"
$caflow post /index --port 8081 --input "${CORPUS:-data/spamassassin.jsonl}" >/dev/null
curl -s localhost:8081/post -H 'Content-Type: application/json' \
     -d '{"execEndpoint": "/count", "data": []}' \
  | python3 -c 'import json,sys; print("indexed:", json.load(sys.stdin)["parameters"]["count"], "documents")'
grep -h "hosting" "$ws/node-a.log" "$ws/node-b.log"

echo "== search"
$caflow post /search --port 8081 --text "cheap vacation prize, click here" --top-k 3 \
  | python3 -c 'import json,sys
for line in sys.stdin:
    q = json.loads(line)
    for m in q.get("matches", []):
        print("  %-22s %-5s %.4f" % (m["id"], m.get("tags", {}).get("group", ""), m["scores"]["cosine"]["value"]))'

echo "== a third node joins; the vectorizer scales to 2 replicas"
$caflow node --port 4244 --workspace "$ws/node-c" --join 127.0.0.1:4300 >"$ws/node-c.log" 2>&1 & pids+=($!)
wait_for "$ws/node-c.log" "joined the flow"
$caflow scale 127.0.0.1:4300 vectorizer --replicas 2
wait_for "$ws/node-c.log" "hosting vectorizer"
grep -h "hosting" "$ws/node-c.log"
$caflow post /search --port 8081 --text "linux kernel driver" --top-k 1 >/dev/null && echo "search after scaling: ok"
