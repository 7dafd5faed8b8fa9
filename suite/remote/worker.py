"""`gtcheck worker`: the process the control node starts on each host, over SSH.

It speaks JSON lines on stdin/stdout (never pickle: nothing from the network is
executed) and does one thing: perform the operations the control node sends with the
workload's own client (`workloads.client.RegionClient`, the same boto3 code a local run
uses), each timed with this host's clock, and answer each one as soon as it completes.
The control node keeps everything else: generators, process ids, the nemesis, the
history. Messages (`t` is the kind):

    control -> worker                      worker -> control
    (first)                                hello {versions, pid, ppid, host}
    setup {test, endpoints, region}        ready {} | error {error}
    clock {n}                              clock {n, w: this host's clock, ns}
    bound {ns}                             (the clock error bound; spaces operations)
    delay {ms}                             (the proxy's added latency; see below)
    op {c: client id, n, op}               done {n, op: fields that changed, s, e}
    bye {}                                 (exits)

`s` and `e` are the clock readings just before the request and just after its answer.
A client's next operation starts at least 2 bounds + 1 ns after its previous one ended
(`bound`), so once both are widened by the bound on the control node's clock they still
do not overlap and each process stays sequential in the merged history. Stdout carries
only protocol lines; anything else goes to stderr, which the control node logs. The worker
ends at once when stdin closes (the control node is gone) or on `bye`.

With `setup {proxy: true}` (a run with the `host-latency` nemesis) the worker's requests
go through `DelayProxy`, a TCP proxy in this process on the host's 127.0.0.1, so latency
can be added on hosts whose kernel has no sch_netem for `tc netem`.
"""

from __future__ import annotations

import collections
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

import click

PROTOCOL = 1
MAX_THREADS = 256


def worker_versions() -> dict:
    """What must match between the control node and a worker."""
    from suite.config import versions
    v = versions()
    return {"gtcheck": v.get("gtcheck"), "python": v.get("python"),
            "boto3": v.get("boto3"), "protocol": PROTOCOL}


def _encode(msg: dict) -> str:
    return json.dumps(msg, separators=(",", ":"), default=str) + "\n"


class DelayProxy:
    """A TCP proxy on 127.0.0.1 to one upstream address that holds each chunk of the
    client's bytes `delay_ns` before forwarding it (the answers flow back at once), so
    every request's round trip grows by the delay, as netem on the host's egress would.
    Chunks keep their order and are timed from their arrival, so pipelined bytes are not
    delayed twice."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.delay_ns = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="gtcheck-proxy").start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=5)
                up.settimeout(None)
            except OSError as e:
                print(f"gtcheck worker: proxy cannot reach {self.upstream}: {e}",
                      file=sys.stderr)
                down.close()
                continue
            for src, dst, delayed in ((down, up, True), (up, down, False)):
                threading.Thread(target=self._pump, args=(src, dst, delayed),
                                 daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, delayed: bool) -> None:
        queue: collections.deque = collections.deque()
        ready = threading.Condition()
        done = []

        def sender() -> None:
            while True:
                with ready:
                    while not queue and not done:
                        ready.wait()
                    if not queue:
                        break
                    due, chunk = queue.popleft()
                wait_ns = due - time.monotonic_ns()
                if wait_ns > 0:
                    time.sleep(wait_ns / 1e9)
                try:
                    dst.sendall(chunk)
                except OSError:
                    break
            for sock in (dst, src):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the other side: nothing left to shut

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            with ready:
                if not chunk:
                    done.append(True)
                    ready.notify()
                    break
                queue.append((time.monotonic_ns() + (self.delay_ns if delayed else 0),
                              chunk))
                ready.notify()

    def close(self) -> None:
        self.sock.close()


class Worker:
    """One host's operations: a thread per operation in flight, one output lock."""

    def __init__(self, out: IO[str], *, host: str, clock_offset_ns: int = 0):
        self.out = out
        self.host = host
        self.clock_offset_ns = clock_offset_ns
        self._out_lock = threading.Lock()
        self._ends: dict[Any, int] = {}
        self._ends_lock = threading.Lock()
        self.gap_ns = 0
        self.test: Any = None
        self.client: Any = None
        self.proxy: DelayProxy | None = None
        self.pool = ThreadPoolExecutor(max_workers=MAX_THREADS,
                                       thread_name_prefix="gtcheck-remote-op")

    def clock(self) -> int:
        return time.monotonic_ns() + self.clock_offset_ns

    def send(self, msg: dict) -> None:
        line = _encode(msg)
        with self._out_lock:
            self.out.write(line)
            self.out.flush()

    def setup(self, msg: dict) -> None:
        from suite import registry
        from suite.config import Test
        from suite.targets.endpoints import EndpointsTarget
        try:
            test = Test.from_json(msg["test"])
            endpoints = dict(msg["endpoints"])
            if msg.get("proxy"):
                url = urllib.parse.urlsplit(endpoints[msg["region"]])
                self.proxy = DelayProxy((url.hostname, url.port or 80))
                endpoints[msg["region"]] = f"http://127.0.0.1:{self.proxy.port}"
            target = EndpointsTarget(endpoints, mode=test.mode, regions=test.regions,
                                     witness=test.witness)
            registry.load_plugins()
            workload = registry.workload_entry(test.workload).build(test, target)
            self.test = test
            self.client = workload.client.open(test, msg["region"])
        except Exception as e:  # noqa: BLE001 -- reported to the control node, which stops
            self.send({"t": "error", "error": f"{type(e).__name__}: {e}"[:500]})
            return
        self.send({"t": "ready"})

    def perform(self, msg: dict) -> None:
        cid, op = msg["c"], msg["op"]
        with self._ends_lock:
            last = self._ends.get(cid)
        if last is not None:
            wait_ns = last + self.gap_ns - self.clock()
            if wait_ns > 0:
                time.sleep(wait_ns / 1e9)
        s = self.clock()
        try:
            done = self.client.invoke(self.test, dict(op))
        except Exception as e:  # noqa: BLE001 -- unclassified: the outcome is unknown
            done = {"type": "info", "error": f"{type(e).__name__}: {e}"[:300]}
        e = self.clock()
        with self._ends_lock:
            self._ends[cid] = e
        changed = {k: v for k, v in done.items() if k not in op or op[k] != v}
        self.send({"t": "done", "n": msg["n"], "op": changed, "s": s, "e": e})

    def handle(self, msg: dict) -> bool:
        """One control message; False when the worker should end."""
        t = msg.get("t")
        if t == "op":
            self.pool.submit(self.perform, msg)
        elif t == "clock":
            self.send({"t": "clock", "n": msg.get("n"), "w": self.clock()})
        elif t == "bound":
            self.gap_ns = 2 * int(msg["ns"]) + 1
        elif t == "delay":
            if self.proxy is not None:
                self.proxy.delay_ns = int(float(msg["ms"]) * 1e6)
            else:
                print("gtcheck worker: delay asked for, but no proxy was set up",
                      file=sys.stderr)
        elif t == "setup":
            self.setup(msg)
        elif t == "bye":
            return False
        else:
            print(f"gtcheck worker: unknown message {t!r}", file=sys.stderr)
        return True

    def serve(self, inp: IO[str]) -> None:
        self.send({"t": "hello", "versions": worker_versions(), "pid": os.getpid(),
                   "ppid": os.getppid(), "host": self.host})
        for line in inp:
            if not line.strip():
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                print(f"gtcheck worker: not a JSON line: {line[:200]!r}", file=sys.stderr)
                continue
            if not self.handle(msg):
                break


FAKETIME_OFFSET = re.compile(r"[+-][0-9]{1,9}(\.[0-9]{1,6})?s")
_FAKETIME_ACTIVE = "GTCHECK_WORKER_FAKETIME"
_LAUNCH_CLOCKS = "GTCHECK_WORKER_LAUNCH_CLOCKS"  # "wall_ns monotonic_ns", read before exec
LAUNCH_MONOTONIC_MAX_S = 120.0  # an exec of faketime and Python takes far less than this


def run_under_faketime(offset: str, argv: list[str]) -> None:
    """Replace this process by the same worker under `faketime -f OFFSET` (the clock fault
    `skew-host-clock`). The worker starts faketime itself, as its own user: the hosts'
    sudo rules then never need to let anyone run faketime (which runs any command) as
    root, only this exact worker command (scripts/testbed.sh). `offset` is checked
    strictly; `argv` is the worker's own command line without `--faketime`.

    libfaketime moves CLOCK_REALTIME by a relative offset ("+2.000s": README 4d), but by
    default it fakes CLOCK_MONOTONIC too, as the faked wall time (its "start at" mode:
    the faked start plus elapsed monotonic time), so a worker timing on the monotonic
    clock read about 56 years off (1970 to now), not 2 s. So the monotonic clock is left
    alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`; libfaketime before 0.9.8 reads
    `DONT_FAKE_MONOTONIC`), as a host's wall-clock error leaves it alone, and the
    worker's clock carries the wall clock's error instead (`faketime_skew_ns`), measured
    against both clocks as read here, just before the exec."""
    if not FAKETIME_OFFSET.fullmatch(offset):
        raise click.BadParameter(f"not a clock offset like +0.500s: {offset!r}",
                                 param_hint="--faketime")
    env = {**os.environ, _FAKETIME_ACTIVE: offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
           "DONT_FAKE_MONOTONIC": "1",
           _LAUNCH_CLOCKS: f"{time.time_ns()} {time.monotonic_ns()}"}
    try:
        os.execvpe("faketime", ["faketime", "-f", offset, *argv], env)
    except OSError as e:
        raise click.ClickException(f"cannot run faketime: {e.strerror}") from None


def faketime_skew_ns(launch: str, wall_ns: int, monotonic_ns: int) -> int:
    """How far faketime moved this process's wall clock: its wall clock now against the
    launcher's (`launch`: "wall_ns monotonic_ns", read just before the exec), carried
    forward by the monotonic clock both share. Raises ClickException (the worker ends
    before its hello, and the fault is not in force) when the launcher's readings are
    missing or the monotonic clock is not the launcher's (libfaketime faked it anyway:
    then nothing here measures a skew)."""
    try:
        launch_wall, launch_mono = (int(x) for x in launch.split())
    except ValueError:
        raise click.ClickException(f"no launch clock readings in {_LAUNCH_CLOCKS} "
                                   f"({launch[:60]!r}): cannot measure the skew") from None
    since_ns = monotonic_ns - launch_mono
    if not 0 <= since_ns <= LAUNCH_MONOTONIC_MAX_S * 1e9:
        raise click.ClickException(
            f"CLOCK_MONOTONIC moved {since_ns / 1e9:+.3f} s across the exec of faketime: "
            "libfaketime faked it despite FAKETIME_DONT_FAKE_MONOTONIC=1, so the skew "
            "cannot be measured")
    return wall_ns - (launch_wall + since_ns)


@click.command(name="worker")
@click.option("--host", "host_name", default="worker", show_default=True,
              help="This host's name in the hosts file (recorded with its operations).")
@click.option("--clock-offset-ms", type=float, default=0.0, show_default=True,
              help="Plant a clock error: add MS to every reading of this worker's clock "
                   "(for testing the clock error bounds).")
@click.option("--faketime", "faketime_offset", default=None, metavar="OFFSET",
              help="Run under faketime with the clock moved by OFFSET (e.g. +0.500s): the "
                   "clock fault, started by the worker itself.")
def worker_command(host_name, clock_offset_ms, faketime_offset):
    """Run one host's client operations for a remote run (started by the control node).

    Not for use by hand: `gtcheck run --hosts FILE` starts it on every host over SSH. It
    reads JSON-line requests on stdin and answers on stdout until stdin closes.
    """
    if faketime_offset is not None and os.environ.get(_FAKETIME_ACTIVE) != faketime_offset:
        argv = [sys.argv[0], "worker", "--host", host_name]
        if clock_offset_ms:
            argv += ["--clock-offset-ms", repr(clock_offset_ms)]
        run_under_faketime(faketime_offset, argv)
    skew_ns = 0
    if os.environ.get(_FAKETIME_ACTIVE):  # this is the worker re-executed under faketime
        skew_ns = faketime_skew_ns(os.environ.get(_LAUNCH_CLOCKS, ""),
                                   time.time_ns(), time.monotonic_ns())
    w = Worker(sys.stdout, host=host_name,
               clock_offset_ns=int(clock_offset_ms * 1e6) + skew_ns)
    w.serve(sys.stdin)
    # Nothing the control node waits for is left: end now, whatever threads remain (an
    # abandoned request, a proxy connection, waits under a clock faked by faketime).
    sys.stdout.flush()
    os._exit(0)
