#!/usr/bin/env bash
# The seed demo in one command: installs what is missing, builds, fetches the
# SpamAssassin corpus, starts the seed's flow (config/seed-flow.yml: TF-IDF
# vectorizer x2 replicas -> indexer x2 shards on RocksDB), indexes the corpus
# with a progress bar and runs a few searches. A second run reuses the fitted
# model and the persisted index (workspace/seed).
#
#   tools/demo.sh [--query "TEXT"]...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools/setup.sh
tools/fetch-corpus.sh
exec build/examples/tutorial/caflow-tutorial --config config/seed-flow.yml \
  --corpus data/spamassassin.jsonl "$@"
