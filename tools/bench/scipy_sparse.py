"""The baseline of `caflow-bench sparse`: scipy's X @ q.T, one query at a
time, then the top k by argpartition, over the first n rows of a CSR matrix.

    env $(tools/sklearn-env.sh) /usr/bin/python3 tools/bench/scipy_sparse.py DIR K N1 [N2 ...]

DIR holds x_indptr.i64, x_indices.i32, x_data.f32 (the documents),
q_indptr.i64, q_indices.i32, q_data.f32 (the queries) and dim.txt. Prints
one JSON line per N: {"n", "scipy_qps", "scipy_cpu_qps", "kth"} (kth: each query's k-th best
score, for the benchmark's agreement check).
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp


def load(d, prefix, dim):
    indptr = np.fromfile(f"{d}/{prefix}_indptr.i64", dtype=np.int64)
    indices = np.fromfile(f"{d}/{prefix}_indices.i32", dtype=np.int32)
    data = np.fromfile(f"{d}/{prefix}_data.f32", dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, dim))


def main():
    d, k = sys.argv[1], int(sys.argv[2])
    with open(f"{d}/dim.txt") as f:
        dim = int(f.read())
    x_all = load(d, "x", dim)
    q = load(d, "q", dim)
    queries = [q[i].T.tocsc() for i in range(q.shape[0])]
    for n in (int(a) for a in sys.argv[3:]):
        x = x_all[:n]
        for qt in queries[:10]:  # warm up
            (x @ qt).toarray()
        kth = []
        start = time.perf_counter()
        cpu0 = time.process_time()
        for qt in queries:
            s = (x @ qt).toarray().ravel()
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top], kind="stable")]
            kth.append(s[top[-1]])
        secs = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        kth = [float(v) for v in kth]
        print(json.dumps({"n": n, "scipy_qps": len(queries) / secs,
                          "scipy_cpu_qps": len(queries) / cpu, "kth": kth}), flush=True)


if __name__ == "__main__":
    main()
