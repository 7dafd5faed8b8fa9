"""One region per process: `gtcheck emulator serve --region R --peer REGION=HOST:PORT ...`.

So that host-level faults hit real sockets, each region of an emulated deployment can run
in its own process (on its own host), with asynchronous replication between regions over
real TCP. This is added around the emulator, not inside it: every process runs the whole
deployment model (`Deployment`: all regions' tables, the WAN model, the replication
engine) but serves only its own region's endpoint, and a `PeerLink` carries what crosses
regions to the process that owns the other region:

- Replication: in process R the async engine replicates R's writes to its local model of
  every other region X as usual -- through the WAN model, so latency, jitter, cut links,
  isolated or stopped regions and paused replication all apply. Each record of R's own
  stream that the R -> X replicator delivers is forwarded to X's process at that moment
  (the engine's `deliver_hook` setting), whatever R's model of X makes of it: that model
  holds only R's writes, so a delete of an item it lacks changes nothing there, yet it
  must still reach X's real replica, which may hold the item. X's process applies it
  with the engine's own last-writer-wins rule (`apply_replicated`, A06). Records wait in
  a per-peer queue until the peer acknowledges them and are sent again after a broken
  connection, in order (A04); applying one twice changes nothing (LWW).
- Control plane: CreateTable / UpdateTable / DeleteTable answered in R are repeated in
  every peer (as if made in R), so every process models the same tables.
- Faults (admin API) apply in every process; item versions are gathered from each
  region's own process.

Peers speak JSON lines (never pickle). What remains: MRSC (the journal is not carried
across processes; `--region` accepts async mode only), and a peer that misses a
control-plane call while unreachable does not catch up on it.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
import time
from collections import deque
from typing import Any, Mapping

from emulator.dataplane import RegionService
from emulator.deployment import Deployment
from emulator.server import HttpServer, dynamodb_handler
from emulator.store import StreamRecord
from emulator.streams import StreamsService
from gtcheck.errors import BadInput, SetupError

log = logging.getLogger("gtcheck.emulator.peers")
CONTROL_OPS = ("CreateTable", "UpdateTable", "DeleteTable")
_DDB = "DynamoDB_20120810."
RETRY_S = 0.2


def parse_peer(text: str) -> tuple[str, tuple[str, int]]:
    """`us-east-2=10.0.0.2:7002` -> ("us-east-2", ("10.0.0.2", 7002))."""
    try:
        region, addr = text.split("=", 1)
        host, port = addr.rsplit(":", 1)
        return region.strip(), (host.strip(), int(port))
    except ValueError:
        raise BadInput(f"--peer expects REGION=HOST:PORT, got {text!r}") from None


def _record_json(table: str, rec: StreamRecord) -> dict:
    # The canonical key (Decimals, bytes) is rebuilt from `keys` by the receiver.
    return {"t": "rec", "table": table, "rec": {
        "sequence": rec.sequence, "event": rec.event, "keys": rec.keys, "old": rec.old, "new": rec.new, "timestamp_us": rec.timestamp_us,
        "origin": rec.origin, "applied_wall_s": rec.applied_wall_s}}


def _request(addr: tuple[str, int], msg: dict, timeout_s: float = 10.0) -> dict:
    """One request on a fresh connection to a peer; its one-line answer."""
    with socket.create_connection(addr, timeout=timeout_s) as s:
        s.sendall((json.dumps(msg) + "\n").encode())
        f = s.makefile("rb")
        line = f.readline()
    if not line:
        raise SetupError(f"peer {addr[0]}:{addr[1]} closed without answering")
    return json.loads(line)


class PeerLink:
    """Records for one peer region, in order, each sent until acknowledged."""

    def __init__(self, region: str, addr: tuple[str, int]):
        self.region = region
        self.addr = addr
        self._queue: deque[tuple[int, bytes]] = deque()  # (number, line), unacknowledged
        self._n = 0
        self._cond = threading.Condition()
        self._closed = False
        self.sent = self.acked = self.reconnects = 0
        threading.Thread(target=self._run, daemon=True, name=f"peer-{region}").start()

    def send(self, msg: dict) -> None:
        with self._cond:
            self._n += 1
            msg = {**msg, "n": self._n}
            self._queue.append((self._n, (json.dumps(msg, separators=(",", ":")) + "\n").encode()))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _run(self) -> None:
        while not self._closed:
            try:
                with socket.create_connection(self.addr, timeout=2.0) as s:
                    s.settimeout(None)
                    self._pump(s)
            except OSError:
                pass  # unreachable (partitioned, not up yet): everything waits, then resends
            self.reconnects += 1
            time.sleep(RETRY_S)

    def _pump(self, s: socket.socket) -> None:
        """Send everything queued (again, after a reconnect), then new records as they
        come; acknowledgements drop records from the queue."""
        done = threading.Event()

        def read_acks() -> None:
            try:
                for line in s.makefile("rb"):
                    n = json.loads(line).get("ack")
                    if n is None:  # refused (say the table is not there yet): resend later
                        log.warning("peer %s refused a record: %s", self.region, line[:200])
                        break
                    with self._cond:
                        while self._queue and self._queue[0][0] <= n:
                            self._queue.popleft()
                            self.acked += 1
            except (OSError, ValueError):
                pass
            finally:
                done.set()
                with self._cond:
                    self._cond.notify_all()
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

        threading.Thread(target=read_acks, daemon=True).start()
        next_n = 0
        while not done.is_set() and not self._closed:
            with self._cond:
                batch = [(n, b) for n, b in self._queue if n > next_n]
                if not batch:
                    self._cond.wait(0.5)
                    continue
            for n, b in batch:
                s.sendall(b)
                self.sent += 1
                next_n = n


class _PeerServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RegionDeployment(Deployment):
    """A `Deployment` serving one region, its peers the other regions' processes."""

    def __init__(self, region: str, peers: Mapping[str, tuple[str, int]], *,
                 peer_port: int, regions: list[str], mode: str = "async", **kw: Any):
        if mode != "async":
            raise BadInput("--region runs async mode only: the MRSC journal is not carried "
                           "between processes yet")
        # The all-regions endpoint takes a free port: the fixed ones are this region's own
        # (port), its admin API (port + 1 by the caller's choice) and its peers' (peer_port).
        kw.setdefault("endpoint_port", 0)
        super().__init__(regions, mode=mode, **kw)
        # Set before any table exists: each table's engine copies the cluster's settings.
        self.cluster.engine_settings["deliver_hook"] = self._forward
        if region not in self.regions:
            raise BadInput(f"--region {region} is not one of --regions {','.join(self.regions)}")
        missing = [r for r in self.regions if r != region and r not in peers]
        if missing:
            raise BadInput(f"no --peer for region(s) {', '.join(missing)}")
        self.region = region
        self.peer_addrs = {r: a for r, a in peers.items() if r != region}
        self.links = {r: PeerLink(r, a) for r, a in self.peer_addrs.items()}
        # Requests for any region, answered in process (the peers' control-plane calls).
        self._handlers = {r: dynamodb_handler(r, RegionService(self.cluster, r),
                                              StreamsService(self.cluster, r))
                          for r in self.regions}
        # `port` is this region's own (a whole deployment would give each region port + i).
        self._servers = {region: HttpServer(self.host, int(kw.get("port") or 0), self._serve,
                                            name=f"ddb-{region}")}
        this = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    answer = this._peer_message(json.loads(line))
                    self.wfile.write((json.dumps(answer) + "\n").encode())
                    self.wfile.flush()

        self._peer_server = _PeerServer((self.host, peer_port), Handler, bind_and_activate=False)

    # ---- life cycle ----------------------------------------------------------------
    def start(self) -> "RegionDeployment":
        try:
            self._peer_server.server_bind()
            self._peer_server.server_activate()
        except OSError as e:
            raise SetupError(f"cannot listen for peers on {self.host}: {e}") from e
        threading.Thread(target=self._peer_server.serve_forever, daemon=True,
                         name="peer-server").start()
        super().start()
        return self

    def stop(self) -> None:
        for link in self.links.values():
            link.close()
        self._peer_server.shutdown()
        self._peer_server.server_close()
        super().stop()

    @property
    def peer_port(self) -> int:
        return self._peer_server.server_address[1]

    def state(self) -> dict:
        return {**super().state(), "region": self.region, "peer_port": self.peer_port,
                "peers": {r: f"{h}:{p}" for r, (h, p) in self.peer_addrs.items()}}

    # ---- this region's endpoint ----------------------------------------------------
    def _serve(self, method: str, path: str, headers: dict, body: bytes):
        status, hdrs, out = self._handlers[self.region](method, path, headers, body)
        target = headers.get("x-amz-target", "")
        if status == 200 and target.startswith(_DDB) and target[len(_DDB):] in CONTROL_OPS:
            for r, addr in self.peer_addrs.items():
                try:
                    _request(addr, {"t": "control", "region": self.region, "target": target,
                                    "body": body.decode()})
                except (OSError, ValueError, SetupError) as e:
                    log.error("control-plane call %s not repeated in %s: %s", target, r, e)
        return status, hdrs, out

    def _forward(self, table: str, src: str, dst: str, rec: StreamRecord) -> None:
        """The engine's `deliver_hook`: a record of this region's own writes has crossed
        the WAN model to dst (on the scheduler thread, in arrival order): send it to dst's
        process. Records of other pairs stay in this process's model."""
        if src == self.region and dst in self.links:
            self.links[dst].send(_record_json(table, rec))

    # ---- what peers send -----------------------------------------------------------
    def _peer_message(self, msg: dict) -> dict:
        t = msg.get("t")
        try:
            if t == "rec":
                rec = msg["rec"]
                table = self.cluster.table(self.region, msg["table"])
                record = StreamRecord(**{**rec, "key": table.schema.key_of_item(rec["keys"])})
                table.engine.apply_replicated(self.region, record)
                return {"ack": msg["n"]}
            if t == "control":
                status, _, out = self._handlers[msg["region"]](
                    "POST", "/", {"x-amz-target": msg["target"]}, msg["body"].encode())
                return {"ok": status == 200, "status": status}
            if t == "fault":
                return {"ok": True, "status": Deployment.fault(self, msg["action"], *msg["args"])}
            if t == "versions":
                got = Deployment.versions(self, msg["table"], msg["key"])
                return {"ok": True, "versions": {self.region: got.get(self.region)}}
        except Exception as e:  # noqa: BLE001 -- answered to the peer (a record: no ack, so
            log.error("peer message %s failed: %s", t, e)  # it is sent again later)
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        return {"ok": False, "error": f"unknown message {t!r}"}

    # ---- the admin API: every process ----------------------------------------------
    def fault(self, action: str, *args: Any) -> dict:
        status = super().fault(action, *args)
        if action != "status":
            for r, addr in self.peer_addrs.items():
                answer = _request(addr, {"t": "fault", "action": action, "args": list(args)})
                if not answer.get("ok"):
                    raise SetupError(f"fault {action} in {r}'s process: {answer.get('error')}")
        return status

    def versions(self, table: str, key: dict) -> dict:
        out = {self.region: super().versions(table, key).get(self.region)}
        for r, addr in self.peer_addrs.items():
            answer = _request(addr, {"t": "versions", "table": table, "key": key})
            if not answer.get("ok"):
                raise SetupError(f"versions from {r}'s process: {answer.get('error')}")
            out.update(answer["versions"])
        return out

    def status(self) -> dict:
        return {**super().status(), "region": self.region,
                "peers": {r: {"pending": link.pending(), "sent": link.sent,
                              "acked": link.acked, "reconnects": link.reconnects}
                          for r, link in self.links.items()}}
