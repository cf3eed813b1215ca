"""A local rehearsal of exported Kubernetes manifests.

Starts the topology that `caflow export kubernetes` wrote as processes on
this machine, the way the kubelet would start its pods, and runs the seed's
index and search through it:

- every StatefulSet pod gets a loopback address of its own (127.0.0.2, .3,
  ...; Linux routes all of 127/8 to lo), and its stable DNS names
  (POD.SERVICE.NS.svc.cluster.local and the shorter forms) are mapped to it
  in an /etc/hosts that is bind-mounted in a private mount namespace (this
  script re-runs itself under `unshare`), so the flow reaches its nodes by
  the very names the ConfigMap holds; the flow's pod is 127.0.0.1;
- each pod's volumes are directories: a ConfigMap's and a Secret's keys are
  written as files, a PersistentVolumeClaim is an empty directory per pod;
  the container's mount paths are rewritten to those directories in its
  arguments and in the files it reads (the kubelet would mount them there);
- env from the downward API (POD_NAME, POD_IP) and `$(VAR)` expansion in
  args as Kubernetes does them; `caflow` is found on PATH;
- readiness is decided by running each container's own probes (tcpSocket,
  exec `caflow ping`), liveness probes are run once at the end.

    rehearse.py --outdir DIR --bin-dir BUILD/tools --corpus FILE.jsonl --port P
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

DEADLINE_S = 120


def fail(msg):
    print("rehearse: FAIL: " + msg, flush=True)
    raise SystemExit(1)


def load_objects(outdir):
    objs = []
    for name in sorted(os.listdir(outdir)):
        if name.endswith(".yaml"):
            with open(os.path.join(outdir, name)) as f:
                objs += [o for o in yaml.safe_load_all(f) if o]
    return objs


def one(objs, kind, optional=False):
    found = [o for o in objs if o["kind"] == kind]
    if optional and not found:
        return None
    if len(found) != 1:
        fail("expected one %s, found %d" % (kind, len(found)))
    return found[0]


class Pod:
    def __init__(self, name, ip, spec, root, names=()):
        self.name, self.ip, self.spec, self.names = name, ip, spec, list(names)
        self.root = os.path.join(root, name)
        self.container = spec["containers"][0]
        self.mounts = {}  # mountPath -> local directory
        self.proc = None
        self.log = os.path.join(self.root, "log.txt")

    def env(self):
        env = dict(os.environ, HOSTNAME=self.name)
        for e in self.container.get("env", []):
            field = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            env[e["name"]] = {"metadata.name": self.name, "status.podIP": self.ip}.get(
                field, e.get("value", ""))
        return env

    def local_path(self, text):
        # Longest mount paths first: /etc/caflow-tls before /etc/caflow.
        for path in sorted(self.mounts, key=len, reverse=True):
            text = re.sub(re.escape(path) + r"(?=/|$|[\s\"',\]}])", self.mounts[path], text)
        return text

    def argv(self, words):
        env = self.env()
        out = []
        for w in words:
            w = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), w)
            out.append(self.local_path(w))
        return out

    def start(self):
        c = self.container
        argv = self.argv(c.get("command", []) + c.get("args", []))
        print("rehearse: start %s (%s): %s" % (self.name, self.ip, " ".join(argv)), flush=True)
        self.proc = subprocess.Popen(argv, cwd=self.root, env=self.env(),
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def probe(self, which):
        p = self.container.get(which)
        if p is None:
            return True
        if "tcpSocket" in p:
            port = p["tcpSocket"]["port"]
            if isinstance(port, str):
                port = {x["name"]: x["containerPort"] for x in self.container["ports"]}[port]
            try:
                with socket.create_connection((self.ip, port), timeout=2):
                    return True
            except OSError:
                return False
        if "exec" in p:
            argv = self.argv(p["exec"]["command"])
            r = subprocess.run(argv, env=self.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=p.get("timeoutSeconds", 10) + 5)
            self.last_probe = "%s -> %d: %s" % (" ".join(argv), r.returncode, r.stdout.strip())
            return r.returncode == 0
        fail("%s: %s of an unknown kind" % (self.name, which))

    def wait_ready(self):
        which = "startupProbe" if "startupProbe" in self.container else "readinessProbe"
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail("%s exited with %d:\n%s" % (self.name, self.proc.returncode, self.tail()))
            if self.probe(which) and self.probe("readinessProbe"):
                print("rehearse: %s ready" % self.name, flush=True)
                return
            time.sleep(0.2)
        fail("%s not ready after %d s:\n%s" % (self.name, DEADLINE_S, self.tail()))

    def tail(self):
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-30:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def make_volumes(pod, objs, claims):
    """Directories for the pod's volumes; ConfigMap and Secret keys as files."""
    volumes = {v["name"]: v for v in pod.spec.get("volumes", [])}
    for m in pod.container.get("volumeMounts", []):
        local = os.path.join(pod.root, "volumes", m["name"])
        os.makedirs(local, exist_ok=True)
        pod.mounts[m["mountPath"]] = local
    for m in pod.container.get("volumeMounts", []):
        local, v = pod.mounts[m["mountPath"]], volumes.get(m["name"])
        if v is None:
            if m["name"] not in claims:
                fail("%s: volume %s is neither in the pod nor a claim" % (pod.name, m["name"]))
        elif "configMap" in v:
            cm = [o for o in objs if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"] == v["configMap"]["name"]]
            if not cm:
                fail("%s: no ConfigMap %s" % (pod.name, v["configMap"]["name"]))
            for key, text in cm[0]["data"].items():
                with open(os.path.join(local, key), "w") as f:
                    f.write(pod.local_path(text))
        elif "secret" in v:
            sec = [o for o in objs if o["kind"] == "Secret"
                   and o["metadata"]["name"] == v["secret"]["secretName"]]
            if not sec:
                fail("%s: no Secret %s" % (pod.name, v["secret"]["secretName"]))
            for key, data in sec[0]["data"].items():
                with open(os.path.join(local, key), "wb") as f:
                    f.write(base64.b64decode(data))
        elif "persistentVolumeClaim" not in v:
            fail("%s: volume %s of an unknown kind" % (pod.name, m["name"]))


def post(port, endpoint, docs, parameters=None):
    body = json.dumps({"data": docs, "execEndpoint": endpoint,
                       "parameters": parameters or {}}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/post" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def rehearse(args):
    objs = load_objects(args.outdir)
    sts = one(objs, "StatefulSet")
    dep = one(objs, "Deployment")
    ns = sts["metadata"]["namespace"]
    svc = sts["spec"]["serviceName"]
    root = tempfile.mkdtemp(prefix="caflow-rehearsal-")
    pods = []
    hosts = open("/etc/hosts").read() + "\n# caflow rehearsal\n"
    for i in range(sts["spec"]["replicas"]):
        name = "%s-%d" % (sts["metadata"]["name"], i)
        ip = "127.0.0.%d" % (2 + i)
        names = ["%s.%s.%s.svc.cluster.local" % (name, svc, ns), "%s.%s.%s.svc" % (name, svc, ns),
                 "%s.%s.%s" % (name, svc, ns), "%s.%s" % (name, svc)]
        pods.append(Pod(name, ip, sts["spec"]["template"]["spec"], root, names))
        hosts += "%s %s\n" % (ip, " ".join(names))
    flow = Pod(dep["metadata"]["name"] + "-0", "127.0.0.1", dep["spec"]["template"]["spec"], root)
    with open(os.path.join(root, "hosts"), "w") as f:
        f.write(hosts)
    subprocess.run(["mount", "--bind", os.path.join(root, "hosts"), "/etc/hosts"], check=True)
    for p in pods:
        for n in p.names:
            if socket.gethostbyname(n) != p.ip:
                fail("%s does not resolve to %s" % (n, p.ip))
    claims = {c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])}
    for p in pods + [flow]:
        os.makedirs(p.root, exist_ok=True)
        make_volumes(p, objs, claims)
    os.environ["PATH"] = args.bin_dir + os.pathsep + os.environ["PATH"]
    try:
        for p in pods:
            p.start()
        for p in pods:
            p.wait_ready()
        flow.start()
        flow.wait_ready()
        # The seed's workload: index the corpus, search it.
        rc = subprocess.run(["caflow", "post", "/index", "--input", args.corpus, "--port",
                             str(args.port), "--request-size", "5"], env=flow.env(),
                            timeout=DEADLINE_S, stdout=subprocess.DEVNULL).returncode
        if rc != 0:
            fail("caflow post /index exited with %d:\n%s" % (rc, flow.tail()))
        with open(args.corpus) as f:
            docs = [json.loads(line) for line in f if line.strip()]
        count = post(args.port, "/count", [])["parameters"].get("count")
        if count != len(docs):
            fail("/count says %r, %d documents were indexed" % (count, len(docs)))
        hits = 0
        for d in docs[:5]:
            answer = post(args.port, "/search", [{"text": d["text"]}], {"top_k": 3})
            matches = answer["data"][0].get("matches") or []
            if matches and matches[0]["id"] == d["id"]:
                hits += 1
        if hits != 5:
            fail("a document's own text found it first in %d of 5 searches" % hits)
        # Each node holds a shard of the index in its own volume.
        for p in pods:
            files = sum(len(f) for _, _, f in os.walk(p.mounts["/var/lib/caflow"]))
            if files == 0:
                fail("%s's volume holds nothing: no shard was placed on it" % p.name)
        for p in pods + [flow]:
            if not p.probe("livenessProbe"):
                try:
                    dry = urllib.request.urlopen("http://127.0.0.1:%d/dry_run" % args.port).read()
                except Exception as e:  # noqa: BLE001 - for the message only
                    dry = getattr(e, "read", lambda: str(e))()
                fail("%s fails its liveness probe (%s; /dry_run: %s):\n%s"
                     % (p.name, getattr(p, "last_probe", ""), dry,
                        "\n".join(q.name + ":\n" + q.tail() for q in pods + [flow])))
        print("rehearse: OK: %d nodes, %d documents indexed, 5/5 searches found their "
              "document" % (len(pods), count), flush=True)
    finally:
        for p in [flow] + pods:
            p.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--port", type=int, required=True, help="the flow's gateway port")
    ap.add_argument("--keep", action="store_true", help="keep the pods' directories")
    ap.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.in_namespace:
        # A private mount namespace (and, without root, a user namespace in
        # which we are root) for the bind-mounted /etc/hosts.
        unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
        argv = unshare + [sys.executable, os.path.abspath(__file__), "--in-namespace"] + sys.argv[1:]
        try:
            if subprocess.run(unshare + ["true"], stderr=subprocess.DEVNULL).returncode != 0:
                print("rehearse: SKIP: cannot create a mount namespace (unshare) here")
                return 77
        except FileNotFoundError:
            print("rehearse: SKIP: unshare is not installed")
            return 77
        return subprocess.run(argv).returncode
    rehearse(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
