"""What the Jina-style test clients share (jina_client.py over gRPC,
jina_ws_client.py over WebSocket and HTTP): Jina 3.0's messages built as its
Client builds them, the scenarios' requests and the checks of their answers,
the client's prefetch window, and the runner that prints PASS/FAIL lines.

One copy, so that the three protocols are held to the same scenario: a
check added here applies to every gateway that answers in protobuf.
"""
import struct
import threading
import uuid

import docarray_pb2
import jina_pb2

DEADLINE = 60
ERROR = 3  # jina.StatusProto.ERROR in Jina 3.0


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


# ---- Jina's messages ------------------------------------------------------------


def dense(values, dtype='<f4'):
    fmt = {'<f4': 'f', '<f8': 'd'}[dtype]
    arr = docarray_pb2.NdArrayProto()
    arr.cls_name = 'numpy'
    arr.dense.buffer = struct.pack('<%d%s' % (len(values), fmt), *values)
    arr.dense.shape.extend([len(values)])
    arr.dense.dtype = dtype
    return arr


def request(endpoint, docs, parameters=None, target=None):
    req = jina_pb2.DataRequestProto()
    req.header.request_id = uuid.uuid1().hex
    req.header.exec_endpoint = endpoint
    if target:
        req.header.target_executor = target
    if parameters:
        req.parameters.update(parameters)
    for d in docs:
        req.data.docs.docs.append(d)
    return req


def doc(text, embedding=None, tags=None, doc_id=None):
    d = docarray_pb2.DocumentProto()
    d.id = doc_id or uuid.uuid1().hex
    d.text = text
    if embedding is not None:
        d.embedding.CopyFrom(embedding)
    if tags:
        d.tags.update(tags)
    return d


def complex_dtype_doc():
    """A document whose embedding is numpy complex64: a field caflow refuses,
    naming it (data.docs[0].embedding)."""
    d = doc('x')
    d.embedding.dense.buffer = b'\x00' * 8
    d.embedding.dense.shape.extend([1])
    d.embedding.dense.dtype = '<c8'
    return d


def scipy_sparse(dim, pairs):
    """A 1 x dim scipy COO row as docarray 0.6 writes it."""
    arr = docarray_pb2.NdArrayProto()
    arr.cls_name = 'scipy'
    arr.parameters['sparse_format'] = 'csr'
    idx = []
    for col, _ in pairs:
        idx += [0, col]
    arr.sparse.indices.buffer = struct.pack('<%di' % len(idx), *idx)
    arr.sparse.indices.shape.extend([len(pairs), 2])
    arr.sparse.indices.dtype = '<i4'
    arr.sparse.values.buffer = struct.pack('<%df' % len(pairs), *[v for _, v in pairs])
    arr.sparse.values.shape.extend([len(pairs)])
    arr.sparse.values.dtype = '<f4'
    arr.sparse.shape.extend([1, dim])
    return arr


def read_embedding(arr):
    """(dim, {index: value}) of an NdArrayProto."""
    if arr.HasField('sparse'):
        sp = arr.sparse
        check(sp.indices.dtype in ('<i4', '<i8'), 'indices dtype %s' % sp.indices.dtype)
        n = len(sp.values.buffer) // 4
        fmt = 'i' if sp.indices.dtype == '<i4' else 'q'
        idx = struct.unpack('<%d%s' % (2 * n, fmt), sp.indices.buffer)
        vals = struct.unpack('<%df' % n, sp.values.buffer)
        check(list(sp.shape)[0] == 1, 'sparse shape %s' % list(sp.shape))
        return sp.shape[1], {idx[2 * k + 1]: vals[k] for k in range(n)}
    d = arr.dense
    check(d.dtype == '<f4', 'dense dtype %s' % d.dtype)
    vals = struct.unpack('<%df' % (len(d.buffer) // 4), d.buffer)
    return len(vals), {i: v for i, v in enumerate(vals)}


# ---- the scenarios' requests and checks ------------------------------------------


def stream_requests():
    """The stream scenario: 100 /index requests of 2 documents (ids sNNN-K,
    3-d vectors [i, k, 1], tags), parameters {'batch': i}."""
    reqs = []
    for i in range(100):
        docs = [doc('doc %d-%d' % (i, k), dense([float(i), float(k), 1.0]),
                    {'i': i, 'k': k}, doc_id='s%03d-%d' % (i, k)) for k in range(2)]
        reqs.append(request('/index', docs, {'batch': i}))
    return reqs


def search_request():
    """The search scenario's query: nearest (cosine) to s050-1 of the stream."""
    return request('/search', [doc('query', dense([50.0, 1.0, 1.0]))], {'top_k': 4})


def check_stream_answers(reqs, out):
    """Every request of stream_requests() answered once, in protobuf: OK,
    its documents in order, upper-cased, tags kept, parameters echoed, the
    gateway first in routes."""
    check(len(out) == len(reqs), '%d responses for %d requests' % (len(out), len(reqs)))
    for r in reqs:
        resp = out.get(r.header.request_id)
        check(resp is not None, 'no response for %s' % r.header.request_id)
        check(resp.header.status.code == 0, 'status %s' % resp.header.status)
        check(resp.header.exec_endpoint == '/index', 'exec_endpoint %r' % resp.header.exec_endpoint)
        got = [d.id for d in resp.data.docs.docs]
        want = [d.id for d in r.data.docs.docs]
        check(got == want, 'docs %s for %s' % (got, want))
        check(all(d.text == d.text.upper() for d in resp.data.docs.docs), 'texts not upper-cased')
        check(resp.parameters['batch'] == r.parameters['batch'], 'parameters not echoed')
        check(resp.data.docs.docs[0].tags['i'] == r.parameters['batch'], 'tags lost')
        check([x.executor for x in resp.routes][:1] == ['gateway'], 'routes %s' % resp.routes)


def check_ranked(ids, scores):
    """The search scenario's matches: both shards' merged by score, best
    first, cut to top_k 4, s050-1 (the query's own direction) first."""
    check(len(ids) == 4, 'matches %s' % ids)
    check(ids[0] == 's050-1', 'best match %s, expected s050-1' % ids[0])
    check(scores == sorted(scores, reverse=True), 'not ordered by score: %s' % scores)


SPARSE_ROW = (1000, {3: 0.5, 997: 0.25})  # the sparse scenario's row: dim, non-zeros


def sparse_request():
    """The sparse scenario: one document with SPARSE_ROW as a scipy row,
    through `upper` alone."""
    dim, values = SPARSE_ROW
    return request('/noop', [doc('sparse', scipy_sparse(dim, sorted(values.items())))],
                   target='upper')


def check_sparse_answer(resp):
    """The sparse scenario's answer in protobuf: the same row, as scipy."""
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    dim, values = read_embedding(resp.data.docs.docs[0].embedding)
    check((dim, values) == SPARSE_ROW, 'sparse came back as %s %s' % (dim, values))
    check(resp.data.docs.docs[0].embedding.cls_name == 'scipy', 'cls_name')


def check_in_band_error(status):
    """A StatusProto for the `upper` executor's failure on /fail, as Jina
    sends it: ERROR with the exception's name, executor and message."""
    check(status.code == ERROR, 'status %s' % status)
    check(status.exception.name == 'executor_failed', 'exception.name %r' % status.exception.name)
    check(status.exception.executor == 'upper', 'exception.executor %r' % status.exception.executor)
    check('refuses on purpose' in status.description, 'description %r' % status.description)


# ---- Jina's client loop -----------------------------------------------------------


class Window:
    """Jina's client's flow control: a request goes out only while fewer
    than `prefetch` are unanswered. Counts the most unanswered at once
    (`most`) and the answers that came before the last request was sent
    (`early`: the stream really overlapped)."""

    def __init__(self, prefetch, total):
        self._free = threading.Semaphore(prefetch)
        self._lock = threading.Lock()
        self._total = total
        self.unanswered = self.most = self.sent = self.early = 0

    def before_send(self):
        if not self._free.acquire(timeout=DEADLINE):
            raise Failure('no answer within %d s with %d requests unanswered'
                          % (DEADLINE, self.unanswered))
        with self._lock:
            self.unanswered += 1
            self.most = max(self.most, self.unanswered)
            self.sent += 1

    def answered(self, out, resp):
        """Records `resp` (a DataRequestProto) in `out` by request id."""
        with self._lock:
            self.unanswered -= 1
            if self.sent < self._total:
                self.early += 1
        check(resp.header.request_id not in out, 'duplicate response %s' % resp.header.request_id)
        out[resp.header.request_id] = resp
        self._free.release()


# ---- the runner -------------------------------------------------------------------


def run(scenarios, names, target, errors=()):
    """Runs scenarios[name](target) for each name: prints "PASS name", or
    "FAIL name: why" and stops at the first failure (`errors`: the
    protocol's own exceptions, counted as failures). Returns the exit code."""
    failures = (Failure, AssertionError, KeyError, ValueError, TypeError) + tuple(errors)
    for name in names:
        try:
            scenarios[name](target)
        except failures as e:
            print('FAIL %s: %r' % (name, e), flush=True)
            return 1
        print('PASS %s' % name, flush=True)
    return 0

