"""ctest `export`: `caflow export kubernetes|compose` end to end.

1. golden files: the flows in flows/ exported into a temporary directory
   equal golden/<case>/ file for file (CAFLOW_UPDATE_GOLDEN=1 rewrites them);
2. every Kubernetes manifest, golden and rehearsed, deserialises into the
   Kubernetes API types without loss (validate_k8s.py);
3. bad input: an unknown target, a malformed flow (file:line: key), a name
   without a letter, unreadable TLS files;
4. the rehearsal (rehearse.py): a seed flow with its indexer's two shards on
   two nodes, with TLS, exported and started from its manifests.

    /usr/bin/python3 tests/export/export_test.py --caflow build/tools/caflow
"""
import argparse
import filecmp
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import validate_k8s

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
CASES = [  # (golden directory, target, flow, extra options)
    ("kubernetes-cluster", "kubernetes", "cluster.yml", ["--namespace", "search", "--image",
                                                         "registry.example/caflow:0.1"]),
    ("kubernetes-local", "kubernetes", "local.yml", []),
    ("compose-cluster", "compose", "cluster.yml", ["--image", "registry.example/caflow:0.1"]),
]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(caflow, *args):
    return subprocess.run([caflow, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def listing(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)


def golden(caflow, tmp):
    update = os.environ.get("CAFLOW_UPDATE_GOLDEN") == "1"
    for case, target, flow, extra in CASES:
        out = os.path.join(tmp, case)
        r = run(caflow, "export", target, os.path.join(HERE, "flows", flow), out, *extra)
        check(r.returncode == 0, "%s: caflow export exits 0 (%s)" % (case, r.stderr.strip()))
        want = os.path.join(HERE, "golden", case)
        if update:
            shutil.rmtree(want, ignore_errors=True)
            shutil.copytree(out, want)
        files = listing(out)
        check(files == listing(want), "%s: the files are %s" % (case, listing(want)))
        _, mismatch, errors = filecmp.cmpfiles(want, out, files, shallow=False)
        check(not mismatch and not errors, "%s: equal to the golden files %s" % (case, mismatch))
        if target == "kubernetes":
            problems, count = validate_k8s.check_dir(out)
            check(count > 0 and not problems,
                  "%s: %d objects are valid Kubernetes API objects %s" % (case, count, problems))


def bad_input(caflow, tmp):
    flows = os.path.join(HERE, "flows")
    r = run(caflow, "export", "helm", os.path.join(flows, "local.yml"), tmp)
    check(r.returncode == 2 and "unknown target 'helm'" in r.stderr, "unknown target: exit 2")
    bad = os.path.join(tmp, "bad.yml")
    with open(bad, "w") as f:
        f.write("executors:\n  - name: a\n    uses: NoOp\n    replicas: -1\n")
    r = run(caflow, "export", "kubernetes", bad, os.path.join(tmp, "bad-out"))
    check(r.returncode == 1 and "bad.yml:4: executors[0].replicas" in r.stderr
          and not os.path.exists(os.path.join(tmp, "bad-out")),
          "malformed flow: exit 1, FILE:LINE: KEY, nothing written (%s)" % r.stderr.strip())
    with open(bad, "w") as f:
        f.write("with: {name: '42'}\nexecutors:\n  - {name: a, uses: NoOp}\n")
    r = run(caflow, "export", "compose", bad, os.path.join(tmp, "bad-out"))
    check(r.returncode == 1 and "with.name: '42'" in r.stderr, "name without a letter: exit 1")
    with open(bad, "w") as f:
        f.write("with: {tls: {cert: no.pem, key: no.key, ca: no-ca.pem}}\n"
                "executors:\n  - {name: a, uses: NoOp, hosts: [h:1]}\n")
    r = run(caflow, "export", "kubernetes", bad, os.path.join(tmp, "bad-out"))
    check(r.returncode == 1 and "with.tls.cert: cannot read" in r.stderr
          and not os.path.exists(os.path.join(tmp, "bad-out")), "missing TLS file: exit 1")
    r = run(caflow, "export", "compose", os.path.join(flows, "local.yml"), tmp, "--namespace", "x")
    check(r.returncode == 2, "compose refuses --namespace")


def free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def make_pki(d):
    os.makedirs(d)
    script = (
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=ca"
        " && openssl req -newkey rsa:2048 -nodes -keyout flow.key -out flow.csr -subj /CN=flow"
        " && openssl x509 -req -in flow.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -out flow.pem -days 1")
    subprocess.run(["sh", "-c", script], cwd=d, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def rehearsal(caflow, tmp):
    port, cluster, node = free_port(), free_port(), free_port()
    corpus = os.path.join(SOURCE, "tests", "data", "tfidf", "corpus.jsonl")
    make_pki(os.path.join(tmp, "pki"))
    flow = os.path.join(tmp, "rehearsal.yml")
    with open(flow, "w") as f:
        f.write("""jtype: Flow
with:
  name: rehearsal
  port: %d
  cluster_port: %d
  workspace: ./workspace
  tls: {cert: pki/flow.pem, key: pki/flow.key, ca: pki/ca.pem}
executors:
  - name: vectorizer
    uses: TfidfVectorizer
    replicas: 2
    uses_with: {corpus: %s}
  - name: indexer
    uses: Indexer
    shards: 2
    hosts: [127.0.0.1:%d, 127.0.0.1:%d]
    polling: {/index: PARTITION, /search: ALL, '*': ALL}
    uses_with: {metric: cosine}
""" % (port, cluster, corpus, node, node + 1))
    out = os.path.join(tmp, "rehearsal-k8s")
    r = run(caflow, "export", "kubernetes", flow, out, "--namespace", "rehearsal")
    check(r.returncode == 0, "rehearsal: export (%s)" % r.stderr.strip())
    problems, count = validate_k8s.check_dir(out)
    check(not problems, "rehearsal: %d objects valid %s" % (count, problems))
    rc = subprocess.run([sys.executable, os.path.join(HERE, "rehearse.py"), "--outdir", out,
                         "--bin-dir", os.path.dirname(os.path.abspath(caflow)), "--corpus",
                         corpus, "--port", str(port)], timeout=400).returncode
    if rc == 77:
        return 77
    check(rc == 0, "rehearsal: the exported topology indexes and searches the seed's corpus")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--caflow", required=True)
    ap.add_argument("--no-rehearsal", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="caflow-export-test-")
    try:
        golden(args.caflow, tmp)
        bad_input(args.caflow, tmp)
        skipped = 0 if args.no_rehearsal else rehearsal(args.caflow, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    return 77 if skipped == 77 else 0


if __name__ == "__main__":
    sys.exit(main())
