#!/usr/bin/env python3
"""A Jina 3.0-style client of caflow's gRPC gateway, generated from the same
.proto files (tools/grpc-python-env.sh), for the gateway tests.

It does what Jina's Client does over gRPC: DataRequestProto messages with a
uuid hex request_id, streamed through jina.JinaRPC/Call while at most
`prefetch` are unanswered, responses matched by header.request_id; plus the
unary call, endpoint discovery, info, health, reflection, and bad input.

    jina_client.py PORT SCENARIO...

Prints "PASS <scenario>" for each scenario that holds and exits 0; on the
first failure prints "FAIL <scenario>: why" and exits 1. Every call has a
deadline, so a gateway that stops answering fails the test instead of
hanging it.
"""
import struct
import sys
import threading
import uuid

import grpc
from google.protobuf import empty_pb2

import docarray_pb2
import health_pb2
import health_pb2_grpc
import jina_pb2
import jina_pb2_grpc
import reflection_pb2
import reflection_pb2_grpc

DEADLINE = 60
ERROR = 3  # jina.StatusProto.ERROR in Jina 3.0


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


def dense(values, dtype='<f4'):
    fmt = {'<f4': 'f', '<f8': 'd'}[dtype]
    arr = docarray_pb2.NdArrayProto()
    arr.cls_name = 'numpy'
    arr.dense.buffer = struct.pack('<%d%s' % (len(values), fmt), *values)
    arr.dense.shape.extend([len(values)])
    arr.dense.dtype = dtype
    return arr


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


def stream(channel, requests, prefetch):
    """Jina's client loop: Call() with a request iterator that waits while
    `prefetch` requests are unanswered. Returns (responses by request_id,
    the most unanswered at once, responses seen before the last request
    was sent)."""
    stub = jina_pb2_grpc.JinaRPCStub(channel)
    window = threading.Semaphore(prefetch)
    lock = threading.Lock()
    state = {'unanswered': 0, 'max': 0, 'sent': 0, 'early': 0}

    def feed():
        for r in requests:
            if not window.acquire(timeout=DEADLINE):
                raise Failure('no answer within %d s with %d requests unanswered'
                              % (DEADLINE, state['unanswered']))
            with lock:
                state['unanswered'] += 1
                state['max'] = max(state['max'], state['unanswered'])
                state['sent'] += 1
            yield r

    out = {}
    for resp in stub.Call(feed(), timeout=DEADLINE):
        with lock:
            state['unanswered'] -= 1
            if state['sent'] < len(requests):
                state['early'] += 1
        check(resp.header.request_id not in out, 'duplicate response %s' % resp.header.request_id)
        out[resp.header.request_id] = resp
        window.release()
    return out, state['max'], state['early']


def scenario_stream(channel):
    reqs = []
    for i in range(100):
        docs = [doc('doc %d-%d' % (i, k), dense([float(i), float(k), 1.0]),
                    {'i': i, 'k': k}, doc_id='s%03d-%d' % (i, k)) for k in range(2)]
        reqs.append(request('/index', docs, {'batch': i}))
    out, most, early = stream(channel, reqs, prefetch=10)
    check(len(out) == 100, '%d responses for 100 requests' % len(out))
    check(most <= 10, '%d requests unanswered at once with prefetch 10' % most)
    check(early > 0, 'no response arrived before the last request was sent')
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


def scenario_search(channel):
    """Unary /search on the 2-shard indexer: matches of both shards merged
    by score, best first, cut to top_k."""
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    q = doc('query', dense([50.0, 1.0, 1.0]))
    resp = stub.process_single_data(request('/search', [q], {'top_k': 4}), timeout=DEADLINE)
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    (d,) = resp.data.docs.docs
    ids = [m.id for m in d.matches]
    scores = [m.scores['cosine'].value for m in d.matches]
    check(len(ids) == 4, 'matches %s' % ids)
    check(ids[0] == 's050-1', 'best match %s, expected s050-1' % ids[0])
    check(scores == sorted(scores, reverse=True), 'not ordered by score: %s' % scores)
    check(all(m.adjacency == 1 for m in d.matches), 'match adjacency not 1')
    check(resp.parameters['top_k'] == 4, 'parameters not echoed')


def scenario_sparse(channel):
    """A scipy sparse row in, the same row back (through one executor)."""
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    e = scipy_sparse(1000, [(3, 0.5), (997, 0.25)])
    resp = stub.process_single_data(request('/noop', [doc('sparse', e)], target='upper'),
                                    timeout=DEADLINE)
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    dim, values = read_embedding(resp.data.docs.docs[0].embedding)
    check(dim == 1000 and values == {3: 0.5, 997: 0.25}, 'sparse came back as %s %s' % (dim, values))
    check(resp.data.docs.docs[0].embedding.cls_name == 'scipy', 'cls_name')


def scenario_error(channel):
    """An executor's exception comes back in-band, on the stream and unary."""
    out, _, _ = stream(channel, [request('/fail', [doc('x')]), request('/index', [doc('y')], target='upper')], 2)
    check(len(out) == 2, 'responses %d' % len(out))
    bad = [r for r in out.values() if r.header.status.code == ERROR]
    check(len(bad) == 1, 'in-band errors: %d' % len(bad))
    ex = bad[0].header.status.exception
    check(ex.name == 'executor_failed', 'exception.name %r' % ex.name)
    check(ex.executor == 'upper', 'exception.executor %r' % ex.executor)
    check('refuses on purpose' in bad[0].header.status.description, 'description %r' % bad[0].header.status.description)
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    resp = stub.process_single_data(request('/fail', [doc('x')]), timeout=DEADLINE)
    check(resp.header.status.code == ERROR, 'unary status %s' % resp.header.status)


def scenario_discovery(channel):
    stub = jina_pb2_grpc.JinaDiscoverEndpointsRPCStub(channel)
    got = set(stub.endpoint_discovery(empty_pb2.Empty(), timeout=DEADLINE).endpoints)
    for e in ('/index', '/search', '/fail', '/default'):
        check(e in got, '%s not among %s' % (e, sorted(got)))


def scenario_info(channel):
    stub = jina_pb2_grpc.JinaInfoRPCStub(channel)
    info = stub._status(empty_pb2.Empty(), timeout=DEADLINE)
    check('caflow' in info.jina and info.jina['jina-proto'] == '3.0.0', 'info %s' % info)
    status = jina_pb2_grpc.JinaGatewayDryRunRPCStub(channel).dry_run(empty_pb2.Empty(), timeout=DEADLINE)
    check(status.code == 0, 'dry_run %s' % status)


def scenario_health(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ('', 'jina.JinaRPC'):
        r = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE)
        check(r.status == health_pb2.HealthCheckResponse.SERVING, '%r: %s' % (service, r))
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (r,) = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services='')]),
                                          timeout=DEADLINE))
    names = {s.name for s in r.list_services_response.service}
    for n in ('jina.JinaRPC', 'jina.JinaSingleDataRequestRPC', 'grpc.health.v1.Health'):
        check(n in names, '%s not in reflection %s' % (n, sorted(names)))


def expect_status(code, call, what):
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, '%s: %s %s, expected %s' % (what, e.code(), e.details(), code))
        check(e.details(), '%s: no message' % what)
        return e.details()
    raise Failure('%s: no error' % what)


def scenario_bad(channel):
    raw = lambda x: x
    garbage = b'\xff\xff\xff\xff\x0f'
    unary = channel.unary_unary('/jina.JinaSingleDataRequestRPC/process_single_data',
                                request_serializer=raw, response_deserializer=raw)
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: unary(garbage, timeout=DEADLINE),
                  'malformed unary')
    call = channel.stream_stream('/jina.JinaRPC/Call', request_serializer=raw, response_deserializer=raw)
    expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                  lambda: list(call(iter([garbage]), timeout=DEADLINE)), 'malformed stream')
    nope = channel.unary_unary('/jina.JinaRPC/Nope', request_serializer=raw, response_deserializer=raw)
    expect_status(grpc.StatusCode.UNIMPLEMENTED, lambda: nope(b'', timeout=DEADLINE), 'unknown method')
    big = request('/index', [doc('x' * (2 << 20))])
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    expect_status(grpc.StatusCode.RESOURCE_EXHAUSTED,
                  lambda: stub.process_single_data(big, timeout=DEADLINE), 'oversize message')
    bad_dtype = doc('x')
    bad_dtype.embedding.dense.buffer = b'\x00' * 8
    bad_dtype.embedding.dense.shape.extend([1])
    bad_dtype.embedding.dense.dtype = '<c8'
    why = expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                        lambda: stub.process_single_data(request('/index', [bad_dtype]), timeout=DEADLINE),
                        'bad dtype')
    check('data.docs[0].embedding' in why, 'message does not name the field: %s' % why)
    expect_status(grpc.StatusCode.NOT_FOUND,
                  lambda: stub.process_single_data(request('/index', [doc('x')], target='nobody'),
                                                   timeout=DEADLINE), 'unknown target')
    # The flow still serves, on the same channel and on the stream.
    resp = stub.process_single_data(request('/noop', [doc('still')], target='upper'), timeout=DEADLINE)
    check(resp.data.docs.docs[0].text == 'STILL', 'after bad input: %s' % resp)
    out, _, _ = stream(channel, [request('/noop', [doc('a')], target='upper')], 1)
    check(len(out) == 1, 'stream after bad input')


SCENARIOS = {
    'stream': scenario_stream,
    'search': scenario_search,
    'sparse': scenario_sparse,
    'error': scenario_error,
    'discovery': scenario_discovery,
    'info': scenario_info,
    'health': scenario_health,
    'bad': scenario_bad,
}


def main():
    port = int(sys.argv[1])
    with grpc.insecure_channel('127.0.0.1:%d' % port) as channel:
        grpc.channel_ready_future(channel).result(timeout=DEADLINE)
        for name in sys.argv[2:]:
            try:
                SCENARIOS[name](channel)
            except (Failure, grpc.RpcError, AssertionError, KeyError, ValueError) as e:
                print('FAIL %s: %r' % (name, e), flush=True)
                return 1
            print('PASS %s' % name, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
