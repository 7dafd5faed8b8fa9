"""No client can deny service to others (emulator/server.py): 600 idle connections do not
stop a new boto3 client, a body shorter than its Content-Length or a request sent a byte at
a time frees its thread at the read deadline, an idle keep-alive connection is closed, and new
clients are served while old ones hang -- yet a request being handled is never cut off.

Times are generous (the machine may be loaded): a test waits up to many times a timeout for
the server to act, and only asserts that it did."""

import socket
import threading
import time

import pytest

from emulator import Deployment
from emulator.server import HttpServer
from emulator.testing import client

WAIT_S = 20.0  # how long a test waits for the server to act (timeouts here are <= 1 s)


def _ok_handler(method, path, headers, body):
    return 200, ["Content-Type: text/plain"], b"ok:" + body


def _request(body: bytes = b"hi", *, length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(n).encode() + b"\r\n\r\n" + body


def _closed_by_server(s: socket.socket, within_s: float = WAIT_S) -> bool:
    """True when the server closes `s` (end of stream or reset) within `within_s`."""
    s.settimeout(within_s)
    try:
        while s.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def _answer(port: int, body: bytes = b"hi") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as s:
        s.sendall(_request(body))
        out = b""
        while not out.endswith(b"ok:" + body):
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


@pytest.fixture
def server():
    made = []

    def make(handler=_ok_handler, **kw):
        srv = HttpServer("127.0.0.1", 0, handler, name="t", **kw)
        srv.start()
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def test_600_idle_connections_do_not_stop_a_new_client():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=11) as d:
        c = client(d.endpoints["us-east-1"], "us-east-1")
        c.create_table(TableName="dos", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        port = int(d.endpoints["us-east-1"].rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
                for _ in range(600)]
        try:
            time.sleep(0.5)  # let the server accept them all
            fresh = client(d.endpoints["us-east-1"], "us-east-1")  # a new connection
            fresh.put_item(TableName="dos", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
            got = fresh.get_item(TableName="dos", Key={"pk": {"S": "k"}}, ConsistentRead=True)
            assert got["Item"]["v"] == {"N": "1"}
            # the room was made by closing the longest-idle connections, not by refusing
            closed = sum(_closed_by_server(s, 0.05) for s in idle[:200])
            assert closed >= 600 - 512
        finally:
            for s in idle:
                s.close()


def test_body_shorter_than_content_length_frees_its_thread(server):
    srv = server(read_timeout_s=0.5)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        s.sendall(_request(b"0123456789", length=100))  # 90 bytes never come
        assert _closed_by_server(s), "the connection still holds a thread"
    deadline = time.monotonic() + WAIT_S
    while srv._conns and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not srv._conns


def test_a_request_sent_a_byte_at_a_time_is_cut_at_the_read_deadline(server):
    srv = server(read_timeout_s=1.0)
    data = _request(b"x" * 200)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        started = time.monotonic()
        cut = False
        for i in range(len(data)):  # 0.1 s a byte: ~25 s for the whole request
            try:
                s.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            time.sleep(0.1)
            if time.monotonic() - started > WAIT_S:
                break
        assert cut or _closed_by_server(s, 0.5)
        assert time.monotonic() - started < WAIT_S


def test_an_idle_keep_alive_connection_is_closed(server):
    srv = server(idle_timeout_s=0.5)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        s.sendall(_request(b"one"))
        assert s.recv(65536).endswith(b"ok:one")
        assert _closed_by_server(s)


def test_new_clients_are_served_while_old_ones_hang(server):
    srv = server(connections_max=20)  # default timeouts: the hanging ones never time out here
    hanging = []
    try:
        for i in range(40):  # twice the cap, each with a request that never completes
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S)
            s.sendall(_request(b"", length=10) if i % 2 else b"POST / HT")
            hanging.append(s)
        time.sleep(0.3)
        for n in range(5):
            assert _answer(srv.port, b"new%d" % n).endswith(b"ok:new%d" % n)
        assert len(srv._conns) <= 20
    finally:
        for s in hanging:
            s.close()


def test_requests_being_handled_are_never_evicted(server):
    release = threading.Event()

    def slow(method, path, headers, body):
        release.wait(WAIT_S)
        return _ok_handler(method, path, headers, body)

    srv = server(slow, connections_max=4)
    busy = []
    for i in range(4):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S)
        s.sendall(_request(b"b%d" % i))
        busy.append(s)
    deadline = time.monotonic() + WAIT_S
    # all four accepted (a loaded machine may accept late) and inside the handler
    while (len(srv._conns) < 4 or srv._waiting) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(srv._conns) == 4 and not srv._waiting
    extra = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S)
    assert _closed_by_server(extra), "a fifth connection was kept beyond the cap"
    extra.close()
    release.set()
    for i, s in enumerate(busy):
        out = b""
        while not out.endswith(b"ok:b%d" % i):
            chunk = s.recv(65536)
            assert chunk, "a request being handled lost its answer"
            out += chunk
        s.close()
