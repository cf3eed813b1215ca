"""Checks Kubernetes manifests against the Kubernetes API types.

Every object in every *.yaml file of a directory is deserialised into its
typed model of Debian's python3-kubernetes (V1StatefulSet, V1Service, ...),
with client-side validation on, so a missing required field or a value of
the wrong type fails. The deserialiser ignores keys it does not know, so the
model is serialised back and compared with the manifest: a misspelt or
misplaced key (one the API types do not have) shows up as a difference.

    /usr/bin/python3 tests/export/validate_k8s.py OUTDIR
"""
import glob
import os
import sys

import yaml

try:
    from kubernetes import client
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit("validate_k8s.py: python3-kubernetes is missing (tools/setup.sh installs it): %s" % e)

MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Service"): "V1Service",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("apps/v1", "Deployment"): "V1Deployment",
}


def differences(original, round_trip, path=""):
    """Where `round_trip` (the model serialised back) lost or changed a value."""
    out = []
    if isinstance(original, dict):
        if not isinstance(round_trip, dict):
            return ["%s: became %r" % (path or "/", round_trip)]
        for key, value in original.items():
            where = "%s.%s" % (path, key) if path else key
            if key not in round_trip:
                out.append("%s: not a field of the API type" % where)
            else:
                out += differences(value, round_trip[key], where)
    elif isinstance(original, list):
        if not isinstance(round_trip, list) or len(round_trip) != len(original):
            return ["%s: list changed" % path]
        for i, (a, b) in enumerate(zip(original, round_trip)):
            out += differences(a, b, "%s[%d]" % (path, i))
    elif original != round_trip:
        out.append("%s: %r became %r" % (path, original, round_trip))
    return out


def check_object(obj, where):
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key not in MODELS:
        return ["%s: no API type known for %s/%s" % (where, key[0], key[1])]
    api = client.ApiClient()
    try:
        # The private deserialiser is what ApiClient.deserialize calls after
        # reading a response body; it takes plain data.
        model = api._ApiClient__deserialize(obj, MODELS[key])
    except (ValueError, TypeError) as e:
        return ["%s: %s" % (where, e)]
    back = api.sanitize_for_serialization(model)
    return ["%s: %s" % (where, d) for d in differences(obj, back)]


def check_dir(outdir):
    """The problems found in outdir's manifests, and how many objects there were."""
    problems, count = [], 0
    files = sorted(glob.glob(os.path.join(outdir, "*.yaml")))
    if not files:
        return ["%s: no manifests" % outdir], 0
    for path in files:
        with open(path) as f:
            for i, obj in enumerate(yaml.safe_load_all(f)):
                if obj is None:
                    continue
                count += 1
                problems += check_object(obj, "%s[%d]" % (os.path.basename(path), i))
    return problems, count


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: validate_k8s.py OUTDIR")
    problems, count = check_dir(sys.argv[1])
    for p in problems:
        print(p)
    print("%d objects, %d problems" % (count, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
