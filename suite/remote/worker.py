"""`gtcheck worker`: the process the control node starts on each host, over SSH.

It speaks JSON lines on stdin/stdout (never pickle: nothing from the network is
executed) and does one thing: perform the operations the control node sends with the
workload's own client (`workloads.client.RegionClient`, the same boto3 code a local run
uses), each timed with this host's clock, and answer each one as soon as it completes.
The control node keeps everything else: generators, process ids, the nemesis, the
history. Messages (`t` is the kind):

    control -> worker                      worker -> control
    (first)                                hello {versions, protocol, pid, host}
    setup {test, endpoints, region}        ready {} | error {error}
    clock {n}                              clock {n, w: this host's clock, ns}
    bound {ns}                             (the clock error bound; spaces operations)
    op {c: client id, n, op}               done {n, op: fields that changed, s, e}
    bye {}                                 (exits)

`s` and `e` are the clock readings just before the request and just after its answer.
A client's next operation starts at least 2 bounds + 1 ns after its previous one ended
(`bound`), so once both are widened by the bound on the control node's clock they still
do not overlap and each process stays sequential in the merged history. Stdout carries
only protocol lines; anything else goes to stderr, which the control node logs. The worker
ends when stdin closes (the control node is gone) or on `bye`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
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
            target = EndpointsTarget(msg["endpoints"], mode=test.mode, regions=test.regions,
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
        elif t == "setup":
            self.setup(msg)
        elif t == "bye":
            return False
        else:
            print(f"gtcheck worker: unknown message {t!r}", file=sys.stderr)
        return True

    def serve(self, inp: IO[str]) -> None:
        self.send({"t": "hello", "versions": worker_versions(), "pid": os.getpid(),
                   "host": self.host})
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
        self.pool.shutdown(wait=False, cancel_futures=True)


@click.command(name="worker")
@click.option("--host", "host_name", default="worker", show_default=True,
              help="This host's name in the hosts file (recorded with its operations).")
@click.option("--clock-offset-ms", type=float, default=0.0, show_default=True,
              help="Plant a clock error: add MS to every reading of this worker's clock "
                   "(for testing the clock error bounds).")
def worker_command(host_name, clock_offset_ms):
    """Run one host's client operations for a remote run (started by the control node).

    Not for use by hand: `gtcheck run --hosts FILE` starts it on every host over SSH. It
    reads JSON-line requests on stdin and answers on stdout until stdin closes.
    """
    w = Worker(sys.stdout, host=host_name, clock_offset_ns=int(clock_offset_ms * 1e6))
    w.serve(sys.stdin)
    return 0
