"""A small, fast HTTP/1.1 server and the DynamoDB JSON protocol on top of it.

Why not http.server: boto3 sits behind every data-plane call, and the suite wants at least
1,000 ops/s from one client thread (issue 3). That needs a server that (1) turns Nagle's
algorithm off (TCP_NODELAY) and writes each response, headers and body, in one `sendall`
(otherwise the client's delayed ACK stalls every answer ~40 ms), (2) keeps connections alive
(HTTP/1.1), and (3) parses requests cheaply: read to the blank line, split headers, read
Content-Length bytes. One thread per connection; a region's endpoint can be stopped (the
listening socket and every open connection closed, so clients get connection refused) and
started again on the same port (a region outage, fault `stop`/`start`).

No client can deny service to others: a keep-alive connection idle for `idle_timeout_s` is
closed; a request must arrive whole (head and Content-Length bytes of body) within
`read_timeout_s` of its first byte, so a body shorter than its Content-Length, or one sent a
byte at a time, frees its thread; and when `connections_max` connections are open, a new
one is not refused: the connection that has waited longest for request bytes (idle, or
dribbling a request) is closed to make room. Only connections whose request is being
handled are never closed (their answer is due); if every one is, the new connection is
closed.

`dynamodb_handler` speaks DynamoDB 2012-08-10 JSON: the `X-Amz-Target` header picks the
operation (`DynamoDB_20120810.<Op>` or `DynamoDBStreams_20120810.<Op>`), errors are
`{"__type": "com.amazonaws.dynamodb.v20120810#<Name>", "message": ...}` with the service's
status, every answer carries `x-amzn-RequestId` and a correct `x-amz-crc32`. An unexpected
exception answers 500 InternalServerError and is logged; the server never dies of a request.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import sys
import threading
import time
import traceback
import zlib
from typing import Callable

from emulator.errors import PREFIX, DynamoError
from emulator.request_body import decode as decode_body

log = logging.getLogger("gtcheck.emulator")

HEADER_BYTES_MAX = 64 * 1024
BODY_BYTES_MAX = 16 * 1024 * 1024
CONNECTIONS_MAX = 512  # per endpoint
IDLE_TIMEOUT_S = 60.0  # a keep-alive connection with no request for this long is closed
READ_TIMEOUT_S = 10.0  # a request's head and body, from its first byte
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}

# handler(method, path, headers (lower-case names), body) -> (status, extra header lines, body)
Handler = Callable[[str, str, dict, bytes], tuple[int, list[str], bytes]]
# A handler may answer this instead: close the connection without a response (a stopped
# region behind the single all-regions endpoint, emulator/front.py).
DROP_CONNECTION = (0, [], b"")


class HttpServer:
    """HTTP/1.1 keep-alive server on (host, port); `stop()`/`start()` may repeat."""

    def __init__(self, host: str, port: int, handler: Handler, *, name: str = "http",
                 idle_timeout_s: float = IDLE_TIMEOUT_S, read_timeout_s: float = READ_TIMEOUT_S,
                 connections_max: int = CONNECTIONS_MAX) -> None:
        self.host = host
        self.port = port
        self.handler = handler
        self.name = name
        self.idle_timeout_s = idle_timeout_s
        self.read_timeout_s = read_timeout_s
        self.connections_max = connections_max
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        # connection -> monotonic time it began waiting for request bytes; absent while
        # its request is being handled (never evicted then)
        self._waiting: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._running = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, self.port))
            s.listen(128)
            self.port = s.getsockname()[1]
            self._listener = s
            self._running = True
        threading.Thread(target=self._accept, args=(s,), name=f"{self.name}-accept",
                         daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            s, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
            self._waiting = {}
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected: nothing to shut down; close() below is what matters
            s.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the peer may have gone already
            c.close()

    @property
    def running(self) -> bool:
        return self._running

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return  # listener closed by stop()
            with self._lock:
                victim = None
                if self._running and len(self._conns) >= self.connections_max and self._waiting:
                    victim = min(self._waiting, key=self._waiting.__getitem__)
                    del self._waiting[victim]
                    self._conns.discard(victim)
                if not self._running or len(self._conns) >= self.connections_max:
                    conn.close()
                    continue
                self._conns.add(conn)
                self._waiting[conn] = time.monotonic()
            if victim is not None:
                _shut(victim)  # its thread sees the end of its stream and closes it
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), name=f"{self.name}-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._loop(conn)
        except OSError:
            pass  # connection reset or closed by stop(): nothing to answer
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._waiting.pop(conn, None)
            conn.close()

    def _set_waiting(self, conn: socket.socket, waiting: bool) -> bool:
        """Mark `conn` as waiting for request bytes (evictable) or busy; False when it was
        evicted or the server stopped meanwhile (the caller ends the connection)."""
        with self._lock:
            if conn not in self._conns:
                return False
            if waiting:
                self._waiting[conn] = time.monotonic()
            else:
                self._waiting.pop(conn, None)
            return True

    def _loop(self, conn: socket.socket) -> None:
        buf = b""
        first = True
        while True:
            if not first and not self._set_waiting(conn, True):
                return
            first = False
            # Idle until the next request's first byte; from then on the whole request
            # must arrive by `deadline`.
            conn.settimeout(self.idle_timeout_s)
            if not buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf = data
            deadline = time.monotonic() + self.read_timeout_s

            def recv(n: int) -> bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("request not received in time")
                conn.settimeout(left)
                return conn.recv(n)

            end = buf.find(b"\r\n\r\n")
            while end < 0 and len(buf) <= HEADER_BYTES_MAX:
                data = recv(65536)
                if not data:
                    return
                buf += data
                end = buf.find(b"\r\n\r\n")
            if end < 0 or end > HEADER_BYTES_MAX:
                conn.sendall(_plain(431, b"request header too large", close=True))
                return
            head = buf[:end].decode("latin-1")
            buf = buf[end + 4:]
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                conn.sendall(_plain(400, b"bad request line", close=True))
                return
            method, path, version = parts
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    conn.sendall(_plain(400, b"bad header line", close=True))
                    return
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                conn.sendall(_plain(411, b"chunked bodies are not supported", close=True))
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                length = -1
            if length < 0 or length > BODY_BYTES_MAX:
                conn.sendall(_plain(413, b"bad or too large content-length", close=True))
                return
            if headers.get("expect", "").lower() == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            while len(buf) < length:
                data = recv(max(65536, length - len(buf)))
                if not data:
                    return
                buf += data
            body, buf = buf[:length], buf[length:]
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            if not self._set_waiting(conn, False):
                return  # evicted while its last bytes arrived: nothing was handled
            try:
                status, extra, payload = self.handler(method, path, headers, body)
            except Exception:  # the handler must answer; this is the last line of defence
                log.error("handler failed:\n%s", traceback.format_exc())
                status, extra, payload = 500, [], b'{"message":"internal error"}'
            if status == 0:
                return
            conn.settimeout(self.read_timeout_s)  # a client that never reads its answer
            out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
            out.extend(extra)
            out.append(f"Content-Length: {len(payload)}")
            if close:
                out.append("Connection: close")
            conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
            if close:
                return


def _shut(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone: the peer closed it first


def _plain(status: int, body: bytes, *, close: bool = False) -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode("latin-1") + body


_request_ids = itertools.count(1)
_DDB = "DynamoDB_20120810."
_STREAMS = "DynamoDBStreams_20120810."


def dynamodb_handler(region: str, service, streams) -> Handler:
    """The DynamoDB JSON protocol over `service.handle(op, req)` / `streams.handle(...)`."""
    rid_prefix = f"GTCHECK{zlib.crc32(region.encode()) % 10_000:04d}"
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def handle(method: str, path: str, headers: dict, body: bytes) -> tuple[int, list[str], bytes]:
        rid = f"{rid_prefix}{next(_request_ids):020d}"
        try:
            if method != "POST":
                if method == "GET" and path in ("/", "/health"):
                    return 200, [f"x-amzn-RequestId: {rid}"], b"healthy: dynamodb." + region.encode()
                raise DynamoError("UnknownOperationException", f"Method {method} not supported")
            target = headers.get("x-amz-target", "")
            if target.startswith(_DDB):
                svc, op = service, target[len(_DDB):]
            elif target.startswith(_STREAMS):
                svc, op = streams, target[len(_STREAMS):]
            else:
                raise DynamoError("UnknownOperationException",
                                  f"Unknown operation target: {target or '(missing)'}")
            req = decode_body(body)
            result = svc.handle(op, req)
            status = 200
            payload = dumps(result).encode("utf-8")
        except DynamoError as e:
            status = e.status
            payload = dumps(e.body()).encode("utf-8")
        except RecursionError:
            status = 400
            payload = dumps({"__type": PREFIX + "ValidationException",
                             "message": "Nesting Levels have exceeded supported limits"}).encode()
        except Exception as e:  # a bug of ours: answer 500 (indefinite for the client), log it
            log.error("request failed in %s:\n%s", region, traceback.format_exc())
            print(f"gtcheck emulator: internal error in {region}: {type(e).__name__}: {e!r}",
                  file=sys.stderr)
            status = 500
            payload = json.dumps({"__type": PREFIX + "InternalServerError",
                                  "message": f"{type(e).__name__}: {e!r}"}).encode()
        return status, [f"x-amzn-RequestId: {rid}",
                        f"x-amz-crc32: {zlib.crc32(payload)}",
                        "Content-Type: application/x-amz-json-1.0"], payload

    return handle
