#!/usr/bin/env python3
"""Sustained load against a running `caflow flow` (tools/soak.sh starts one).

Client processes (default 3) each loop for --minutes: half of their requests
index a batch of corpus documents under fresh ids, half search for words of
a corpus document. Every minute prints requests served, errors, p99 latency
of index and search, the daemon's VmRSS at the minute's start and end, the
documents stored (/count) and RSS per stored document. The last line is a
summary JSON object. Python 3 standard library only.
"""
import argparse
import http.client
import json
import multiprocessing as mp
import queue
import random
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_corpus(path, limit):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line).get("text", "")
            if text:
                docs.append(text[:4000])  # a mail's body, not its attachments
            if len(docs) >= limit:
                break
    return docs


def post(conn, endpoint, data, parameters=None):
    body = json.dumps({"execEndpoint": endpoint, "data": data, "parameters": parameters or {}})
    conn.request("POST", "/post", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    payload = reply.read()
    return reply.status, payload


def new_stats():
    return {"index": [], "search": [], "errors": 0, "indexed": 0}


def worker(wid, port, corpus, t0, minutes, batch, out):
    """Loops until t0 + minutes; sends one stats dict per minute to `out`."""
    rng = random.Random(wid)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    end = t0 + minutes * 60
    minute, stats, serial = 0, new_stats(), 0
    time.sleep(max(0.0, t0 - time.time()))  # minutes count from t0 for everyone
    while True:
        now = time.time()
        if now >= end:
            break
        m = int((now - t0) // 60)
        if m != minute:
            out.put((wid, minute, stats))
            minute, stats = m, new_stats()
        indexing = rng.random() < 0.5
        if indexing:
            data = []
            for _ in range(batch):
                serial += 1
                data.append({"id": f"soak-{wid}-{serial}", "text": rng.choice(corpus)})
            endpoint, params = "/index", None
        else:
            words = rng.choice(corpus).split()[:12]
            data = [{"text": " ".join(words) or "hello"}]
            endpoint, params = "/search", {"top_k": 10}
        start = time.perf_counter()
        try:
            status, _ = post(conn, endpoint, data, params)
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        elapsed = time.perf_counter() - start
        if status == 200:
            stats["index" if indexing else "search"].append(elapsed)
            if indexing:
                stats["indexed"] += len(data)
        else:
            stats["errors"] += 1
    out.put((wid, minute, stats))


def p99_ms(xs):
    if not xs:
        return None
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(0.99 * len(xs)))], 1)


def count(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, payload = post(conn, "/count", [])
        return json.loads(payload)["parameters"]["count"] if status == 200 else None
    except (OSError, http.client.HTTPException, KeyError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="the daemon, for VmRSS")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--minutes", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8, help="documents per /index request")
    args = ap.parse_args()

    corpus = load_corpus(args.corpus, 20000)
    docs_before = count(args.port) or 0
    rss_before = rss_kib(args.pid)
    out = mp.Queue()
    t0 = time.time() + 1.0  # let every client start before the first minute
    procs = [mp.Process(target=worker, args=(w, args.port, corpus, t0, args.minutes,
                                             args.batch, out))
             for w in range(args.clients)]
    for p in procs:
        p.start()
    time.sleep(max(0.0, t0 - time.time()))

    rows, totals = [], {"index": [], "search": [], "errors": 0}
    pending = {}
    for minute in range(args.minutes):
        rss_start = rss_kib(args.pid)
        time.sleep(max(0.0, t0 + 60 * (minute + 1) - time.time()))
        rss_end = rss_kib(args.pid)
        # Each client reports a minute when its first request of the next
        # one starts (or it stops); bounded by the slowest request.
        deadline = time.time() + 90
        while len(pending.get(minute, [])) < args.clients and time.time() < deadline:
            try:
                wid, m, stats = out.get(timeout=1)
                pending.setdefault(m, []).append(stats)
            except queue.Empty:
                pass
        got = pending.pop(minute, [])
        idx = [x for s in got for x in s["index"]]
        srch = [x for s in got for x in s["search"]]
        errors = sum(s["errors"] for s in got)
        stored = count(args.port)
        added = (stored - docs_before) if stored is not None else None
        row = {"minute": minute + 1, "served": len(idx) + len(srch), "index": len(idx),
               "search": len(srch), "errors": errors, "p99_index_ms": p99_ms(idx),
               "p99_search_ms": p99_ms(srch), "rss_start_kib": rss_start,
               "rss_end_kib": rss_end, "stored": stored,
               "rss_growth_per_added_doc_bytes":
                   round(1024 * (rss_end - rss_before) / added, 1) if added else None,
               "clients_reported": len(got)}
        rows.append(row)
        totals["index"] += idx
        totals["search"] += srch
        totals["errors"] += errors
        print(f"minute {row['minute']}: served {row['served']} (index {row['index']}, search "
              f"{row['search']}), errors {errors}, p99 index {row['p99_index_ms']} ms, search "
              f"{row['p99_search_ms']} ms, RSS {rss_start // 1024} -> {rss_end // 1024} MiB, "
              f"stored {stored}, RSS growth per added doc "
              f"{row['rss_growth_per_added_doc_bytes']} B", flush=True)
    for p in procs:
        p.join(timeout=90)
        if p.is_alive():
            p.terminate()
    growth = [r["rss_end_kib"] - r["rss_start_kib"] for r in rows]
    stored = rows[-1]["stored"] if rows else None
    summary = {"minutes": args.minutes, "clients": args.clients,
               "served": len(totals["index"]) + len(totals["search"]),
               "errors": totals["errors"], "p99_index_ms": p99_ms(totals["index"]),
               "p99_search_ms": p99_ms(totals["search"]), "rss_before_kib": rss_before,
               "rss_end_kib": rows[-1]["rss_end_kib"] if rows else None,
               "rss_growth_per_minute_kib": growth, "stored": stored,
               "rss_per_stored_doc_bytes": round(1024 * rows[-1]["rss_end_kib"] / stored, 1)
               if stored else None}
    print(json.dumps(summary), flush=True)
    return 1 if totals["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
