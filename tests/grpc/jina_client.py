#!/usr/bin/env python3
"""A Jina 3.0-style client of caflow's gRPC gateway, generated from the same
.proto files (tools/grpc-python-env.sh), for the gateway tests.

It does what Jina's Client does over gRPC: DataRequestProto messages with a
uuid hex request_id, streamed through jina.JinaRPC/Call while at most
`prefetch` are unanswered, responses matched by header.request_id; plus the
unary call, endpoint discovery, info, health, reflection, and bad input.
The messages, the scenarios' checks and the prefetch window are
jina_common.py's, shared with the WebSocket and HTTP clients.

    jina_client.py PORT SCENARIO...

Prints "PASS <scenario>" for each scenario that holds and exits 0; on the
first failure prints "FAIL <scenario>: why" and exits 1. Every call has a
deadline, so a gateway that stops answering fails the test instead of
hanging it.
"""
import sys

import grpc
from google.protobuf import empty_pb2

import docarray_pb2
import health_pb2
import health_pb2_grpc
import jina_pb2_grpc
import reflection_pb2
import reflection_pb2_grpc
from jina_common import (DEADLINE, ERROR, Failure, Window, check, check_in_band_error, check_ranked,
                         check_sparse_answer, check_stream_answers, complex_dtype_doc, dense, doc,
                         read_embedding, request, run, search_request, sparse_request,
                         stream_requests)


def stream(channel, requests, prefetch):
    """Jina's client loop: Call() with a request iterator that waits while
    `prefetch` requests are unanswered. Returns (responses by request_id,
    the most unanswered at once, responses seen before the last request
    was sent)."""
    stub = jina_pb2_grpc.JinaRPCStub(channel)
    window = Window(prefetch, len(requests))

    def feed():
        for r in requests:
            window.before_send()
            yield r

    out = {}
    for resp in stub.Call(feed(), timeout=DEADLINE):
        window.answered(out, resp)
    return out, window.most, window.early


def scenario_stream(channel):
    reqs = stream_requests()
    out, most, early = stream(channel, reqs, prefetch=10)
    check(most <= 10, '%d requests unanswered at once with prefetch 10' % most)
    check(early > 0, 'no response arrived before the last request was sent')
    check_stream_answers(reqs, out)


def scenario_search(channel):
    """Unary /search on the 2-shard indexer: matches of both shards merged
    by score, best first, cut to top_k."""
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    resp = stub.process_single_data(search_request(), timeout=DEADLINE)
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    (d,) = resp.data.docs.docs
    check_ranked([m.id for m in d.matches], [m.scores['cosine'].value for m in d.matches])
    check(all(m.adjacency == 1 for m in d.matches), 'match adjacency not 1')
    check(resp.parameters['top_k'] == 4, 'parameters not echoed')


def scenario_sparse(channel):
    """A scipy sparse row in, the same row back (through one executor)."""
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    resp = stub.process_single_data(sparse_request(), timeout=DEADLINE)
    check_sparse_answer(resp)


def scenario_tensor(channel):
    """docarray's `tensor` (a vector that is not an embedding: an image's
    pixels, say) comes back as the embedding, as over HTTP; a document with
    both is refused, naming the tensor."""
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    pixels = [0.25, 0.5, 0.75, 1.0]
    d = docarray_pb2.DocumentProto(id='image')
    d.tensor.CopyFrom(dense(pixels))
    resp = stub.process_single_data(request('/noop', [d], target='upper'), timeout=DEADLINE)
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    (out,) = resp.data.docs.docs
    got = read_embedding(out.embedding)
    check(got == (4, dict(enumerate(pixels))), 'tensor came back as %s %s' % got)
    d.embedding.CopyFrom(dense([1.0]))
    why = expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                        lambda: stub.process_single_data(request('/noop', [d], target='upper'),
                                                         timeout=DEADLINE), 'tensor and embedding')
    check('data.docs[0].tensor' in why, 'message does not name the tensor: %s' % why)


def scenario_error(channel):
    """An executor's exception comes back in-band, on the stream and unary."""
    out, _, _ = stream(channel, [request('/fail', [doc('x')]), request('/index', [doc('y')], target='upper')], 2)
    check(len(out) == 2, 'responses %d' % len(out))
    bad = [r for r in out.values() if r.header.status.code == ERROR]
    check(len(bad) == 1, 'in-band errors: %d' % len(bad))
    check_in_band_error(bad[0].header.status)
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    resp = stub.process_single_data(request('/fail', [doc('x')]), timeout=DEADLINE)
    check_in_band_error(resp.header.status)


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
    # Damaged requests (the gateway's own reader gives up on them, the
    # generated classes refuse them): a status each, never a crash.
    good = request('/index', [doc('zz')]).SerializeToString()
    damaged = [('truncated', good[:-3]),
               ('bad UTF-8', good.replace(b'zz', b'\xc0\xaf')),
               ('overlong varint', b'\x0a' + b'\x80' * 10 + b'\x00')]
    for what, bad in damaged:
        expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                      lambda bad=bad: unary(bad, timeout=DEADLINE), what + ' unary')
        expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                      lambda bad=bad: list(call(iter([bad]), timeout=DEADLINE)), what + ' stream')
    nope = channel.unary_unary('/jina.JinaRPC/Nope', request_serializer=raw, response_deserializer=raw)
    why = expect_status(grpc.StatusCode.UNIMPLEMENTED, lambda: nope(b'', timeout=DEADLINE), 'unknown method')
    check('/jina.JinaRPC/Nope' in why and 'jina.JinaRPC/Call' in why,
          'the refusal does not name the method and what is served: %s' % why)
    big = request('/index', [doc('x' * (2 << 20))])
    stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
    expect_status(grpc.StatusCode.RESOURCE_EXHAUSTED,
                  lambda: stub.process_single_data(big, timeout=DEADLINE), 'oversize message')
    why = expect_status(grpc.StatusCode.INVALID_ARGUMENT,
                        lambda: stub.process_single_data(request('/index', [complex_dtype_doc()]),
                                                         timeout=DEADLINE),
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
    # A malformed request to a typed method (gRPC parses it) gets a status,
    # and the method keeps serving on the server's queue.
    for method in ('/grpc.health.v1.Health/Check', '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery'):
        broken = channel.unary_unary(method, request_serializer=raw, response_deserializer=raw)
        for _ in range(3):
            expect_status(grpc.StatusCode.INTERNAL, lambda: broken(b'\xff', timeout=DEADLINE),
                          'malformed ' + method)
    r = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE)
    check(r.status == health_pb2.HealthCheckResponse.SERVING, 'health after bad input: %s' % r)
    found = jina_pb2_grpc.JinaDiscoverEndpointsRPCStub(channel).endpoint_discovery(empty_pb2.Empty(),
                                                                                   timeout=DEADLINE)
    check(len(found.endpoints) > 0, 'discovery after bad input: %s' % found)


SCENARIOS = {
    'stream': scenario_stream,
    'search': scenario_search,
    'sparse': scenario_sparse,
    'tensor': scenario_tensor,
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
        return run(SCENARIOS, sys.argv[2:], channel, errors=(grpc.RpcError,))


if __name__ == '__main__':
    sys.exit(main())
