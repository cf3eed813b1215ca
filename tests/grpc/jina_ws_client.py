#!/usr/bin/env python3
"""Jina 3.0-style clients of caflow's WebSocket and HTTP gateways, for the
gateway tests: the gRPC test's scenarios (tests/grpc/jina_client.py) over
the other two protocols.

WebSocket as Jina 3.0's WebsocketClientlet speaks it (Debian's
python3-websocket instead of aiohttp): ws://HOST:PORT/, each request a
binary frame holding a serialized jina.DataRequestProto, at most `prefetch`
unanswered, answers matched by header.request_id, then one frame holding
bytes(True) (b'\\x00') to end the stream; the gateway closes with 1000 once
everything is answered. HTTP as Jina's HTTPClientlet: POST /post with
request.to_dict() plus exec_endpoint, `prefetch` requests at a time.

    jina_ws_client.py PORT ws|http SCENARIO...

Prints "PASS <scenario>" for each scenario that holds and exits 0; on the
first failure prints "FAIL <scenario>: why" and exits 1. Every socket has
a timeout, so a gateway that stops answering fails the test.
"""
import http.client
import json
import socket
import struct
import sys
import threading

import websocket
from google.protobuf import json_format

import jina_pb2
from jina_common import (DEADLINE, ERROR, SPARSE_ROW, Failure, Window, check, check_in_band_error,
                         check_ranked, check_sparse_answer, check_stream_answers, complex_dtype_doc,
                         doc, request, run, search_request, sparse_request, stream_requests)

END_OF_STREAM = bytes(True)  # what Jina's client sends last: b'\x00'


# ---- WebSocket ------------------------------------------------------------------


def ws_connect(port, path='/'):
    return websocket.create_connection('ws://127.0.0.1:%d%s' % (port, path), timeout=DEADLINE)


def ws_close_frame(ws):
    """Reads until the server's close frame; returns (code, reason)."""
    for _ in range(10000):
        opcode, data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None
            return code, data[2:].decode('utf-8', 'replace')
    raise Failure('no close frame')


def ws_stream(port, requests, prefetch):
    """Jina's WebSocket client loop. Returns (responses by request_id, the
    most unanswered at once, responses seen before the last request was
    sent, the server's close code)."""
    ws = ws_connect(port)
    window = Window(prefetch, len(requests))
    sender_error = []

    def feed():
        try:
            for r in requests:
                window.before_send()
                ws.send_binary(r.SerializeToString())
            ws.send_binary(END_OF_STREAM)
        except Exception as e:  # reported by the reader
            sender_error.append(e)

    sender = threading.Thread(target=feed, daemon=True)
    sender.start()
    out = {}
    code = None
    while True:
        opcode, data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None
            check(code == 1000, 'close code %s: %r' % (code, data[2:]))
            break
        check(opcode == websocket.ABNF.OPCODE_BINARY, 'answer in a frame of opcode %d' % opcode)
        resp = jina_pb2.DataRequestProto()
        resp.ParseFromString(data)
        window.answered(out, resp)
    sender.join(DEADLINE)
    ws.close()
    if sender_error:
        raise sender_error[0]
    return out, window.most, window.early, code


def ws_search(port, req):
    out, _, _, code = ws_stream(port, [req], 1)
    check(code == 1000, 'close code %s' % code)
    return out[req.header.request_id]


def ws_expect_close(port, payload, opcode, want_code, what):
    ws = ws_connect(port)
    ws.send(payload, opcode=opcode)
    code, reason = ws_close_frame(ws)
    ws.close()
    check(code == want_code, '%s: close code %s (%r), expected %d' % (what, code, reason, want_code))
    check(reason, '%s: close without a reason' % what)
    return reason


# ---- HTTP -------------------------------------------------------------------------


def to_json_request(req):
    """request.to_dict() as Jina's HTTPClientlet sends it, docs as docarray
    0.6's to_dict (embedding a plain list)."""
    d = json_format.MessageToDict(req, preserving_proto_field_name=True)
    body = {'header': d['header'], 'parameters': d.get('parameters', {}),
            'exec_endpoint': req.header.exec_endpoint}
    docs = []
    for pb in req.data.docs.docs:
        x = {'id': pb.id, 'text': pb.text, 'tags': json_format.MessageToDict(pb.tags) if pb.tags else None,
             'embedding': None, 'parent_id': None, 'granularity': None, 'adjacency': None,
             'blob': None, 'tensor': None, 'mime_type': 'text/plain', 'weight': None,
             'uri': None, 'offset': None, 'location': None, 'modality': None,
             'evaluations': None, 'scores': None, 'chunks': None, 'matches': None}
        if pb.HasField('embedding'):
            buf = pb.embedding.dense.buffer
            x['embedding'] = list(struct.unpack('<%df' % (len(buf) // 4), buf))
        docs.append(x)
    body['data'] = docs
    return body


def http_post(conn, body):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request('POST', '/post', payload, {'Content-Type': 'application/json'})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b'null')


def http_stream(port, requests, prefetch):
    """`prefetch` connections posting the requests, answers by request_id."""
    out = {}
    lock = threading.Lock()
    todo = list(requests)
    errors = []

    def work():
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    r = todo.pop(0)
                status, resp = http_post(conn, to_json_request(r))
                check(status == 200, 'HTTP %d: %s' % (status, resp))
                with lock:
                    rid = resp['header']['request_id']
                    check(rid not in out, 'duplicate response %s' % rid)
                    out[rid] = resp
        except Exception as e:
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=work) for _ in range(prefetch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * DEADLINE)
    if errors:
        raise errors[0]
    return out


# ---- the scenarios, per protocol ------------------------------------------------------


def ws_scenario_stream(port):
    reqs = stream_requests()
    out, most, early, code = ws_stream(port, reqs, prefetch=10)
    check(most <= 10, '%d unanswered at once with prefetch 10' % most)
    check(early > 0, 'no response arrived before the last request was sent')
    check(code == 1000, 'close code %s after the end of the stream' % code)
    check_stream_answers(reqs, out)


def ws_scenario_search(port):
    resp = ws_search(port, search_request())
    check(resp.header.status.code == 0, 'status %s' % resp.header.status)
    (d,) = resp.data.docs.docs
    check_ranked([m.id for m in d.matches], [m.scores['cosine'].value for m in d.matches])
    check(resp.parameters['top_k'] == 4, 'parameters not echoed')


def ws_scenario_sparse(port):
    check_sparse_answer(ws_search(port, sparse_request()))


def ws_scenario_error(port):
    reqs = [request('/fail', [doc('x')]), request('/index', [doc('y')], target='upper')]
    out, _, _, code = ws_stream(port, reqs, 2)
    check(len(out) == 2 and code == 1000, 'responses %d, close %s' % (len(out), code))
    check_in_band_error(out[reqs[0].header.request_id].header.status)
    check(out[reqs[1].header.request_id].header.status.code == 0, 'the other request failed too')


def ws_scenario_bad(port):
    text = websocket.ABNF.OPCODE_TEXT
    binary = websocket.ABNF.OPCODE_BINARY
    why = ws_expect_close(port, json.dumps({'data': [{'text': 'x'}]}), text, 1003, 'text frame')
    check('binary' in why, 'reason %r' % why)
    ws_expect_close(port, b'\xff\xff\xff\xff\x0f', binary, 1007, 'malformed proto')
    big = request('/index', [doc('x' * (2 << 20))]).SerializeToString()
    why = ws_expect_close(port, big, binary, 1009, 'oversize message')
    check('limit' in why, 'reason %r' % why)
    # A field caflow refuses is answered in-band, naming the field.
    resp = ws_search(port, request('/index', [complex_dtype_doc()]))
    check(resp.header.status.code == ERROR, 'bad dtype: status %s' % resp.header.status)
    check('data.docs[0].embedding' in resp.header.status.description, 'description %r'
          % resp.header.status.description)
    # An upgrade elsewhere than Jina's route is refused with a status.
    try:
        ws_connect(port, '/nope')
        raise Failure('upgrade on /nope accepted')
    except websocket.WebSocketBadStatusException as e:
        check(e.status_code == 404, 'upgrade on /nope: %s' % e)
    # A client that leaves mid-stream costs nothing but its own answers.
    ws = ws_connect(port)
    ws.send_binary(request('/noop', [doc('gone')], target='upper').SerializeToString())
    ws.sock.shutdown(socket.SHUT_RDWR)
    ws.sock.close()
    # The flow still serves.
    resp = ws_search(port, request('/noop', [doc('still')], target='upper'))
    check(resp.data.docs.docs[0].text == 'STILL', 'after bad input: %s' % resp)


def http_scenario_stream(port):
    reqs = stream_requests()
    out = http_stream(port, reqs, prefetch=10)
    check(len(out) == 100, '%d responses for 100 requests' % len(out))
    for r in reqs:
        resp = out.get(r.header.request_id)
        check(resp is not None, 'no response for %s' % r.header.request_id)
        check(resp['header']['status'] is None, 'status %s' % resp['header']['status'])
        got = [d['id'] for d in resp['data']]
        check(got == [d.id for d in r.data.docs.docs], 'docs %s' % got)
        check(all(d['text'] == d['text'].upper() for d in resp['data']), 'texts not upper-cased')
        check(resp['parameters']['batch'] == r.parameters['batch'], 'parameters not echoed')


def http_scenario_search(port):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
    status, resp = http_post(conn, to_json_request(search_request()))
    check(status == 200, 'HTTP %d: %s' % (status, resp))
    (d,) = resp['data']
    check_ranked([m['id'] for m in d['matches']], [m['scores']['cosine']['value'] for m in d['matches']])
    check(resp['parameters']['top_k'] == 4, 'parameters not echoed')


def http_scenario_sparse(port):
    """docarray 0.6's to_dict writes a scipy sparse row as a dense 1 x dim
    list: read back as that sparse vector, written as caflow's sparse form."""
    dim, values = SPARSE_ROW
    body = to_json_request(sparse_request())
    body['data'][0]['embedding'] = [[values.get(i, 0.0) for i in range(dim)]]
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
    status, resp = http_post(conn, body)
    check(status == 200, 'HTTP %d: %s' % (status, resp))
    e = resp['data'][0]['embedding']
    got = (e['dim'], dict(zip(e['indices'], e['values'])))
    check(got == SPARSE_ROW, 'sparse came back as %s' % (e,))


def http_scenario_info(port):
    """Jina's GET /status and /dry_run (the HTTP side of info and health)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
    for path in ('/status', '/dry_run'):
        conn.request('GET', path)
        r = conn.getresponse()
        body = json.loads(r.read() or b'null')
        check(r.status == 200, '%s: HTTP %d %s' % (path, r.status, body))
    conn.request('GET', '/status')
    r = conn.getresponse()
    body = json.loads(r.read())
    check(body.get('ready') is True, '/status: %s' % body)


def http_scenario_error(port):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
    status, resp = http_post(conn, to_json_request(request('/fail', [doc('x')])))
    check(status == 200, 'an executor failure answered HTTP %d, Jina answers 200' % status)
    st = resp['header']['status']
    check(st['code'] == ERROR, 'status %s' % st)
    check(st['exception']['name'] == 'executor_failed', 'exception %s' % st)
    check(st['exception']['executor'] == 'upper', 'executor %s' % st)
    check('refuses on purpose' in st['description'], 'description %s' % st)


def http_scenario_bad(port):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
    status, resp = http_post(conn, b'{"data": [')
    check(status == 400 and resp['header']['status']['description'], 'malformed: %d %s' % (status, resp))
    body = to_json_request(request('/index', [doc('x')]))
    body['data'][0]['embedding'] = 'not a vector'
    status, resp = http_post(conn, body)
    check(status == 400 and 'data[0].embedding' in resp['header']['status']['description'],
          'bad embedding: %d %s' % (status, resp))
    body = to_json_request(request('/index', [doc('x')], target='nobody'))
    status, resp = http_post(conn, body)
    check(status == 404, 'unknown target: %d %s' % (status, resp))
    status, resp = http_post(conn, to_json_request(request('/noop', [doc('still')], target='upper')))
    check(status == 200 and resp['data'][0]['text'] == 'STILL', 'after bad input: %s' % resp)


SCENARIOS = {
    'ws': {'stream': ws_scenario_stream, 'search': ws_scenario_search,
           'sparse': ws_scenario_sparse, 'error': ws_scenario_error, 'bad': ws_scenario_bad},
    'http': {'stream': http_scenario_stream, 'search': http_scenario_search,
             'sparse': http_scenario_sparse, 'info': http_scenario_info,
             'error': http_scenario_error, 'bad': http_scenario_bad},
}


def main():
    return run(SCENARIOS[sys.argv[2]], sys.argv[3:], int(sys.argv[1]),
               errors=(OSError, websocket.WebSocketException))


if __name__ == '__main__':
    sys.exit(main())
