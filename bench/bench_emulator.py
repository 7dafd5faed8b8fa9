"""Throughput of the emulator through boto3, against moto and a do-nothing server, same run.

Why: the suite drives every operation through boto3, so the emulator must not be the
bottleneck (issue 3: >= 1,000 ops/s from one client thread at latency scale 0, async mode).
Absolute figures depend on the machine, so this script measures three servers in one run,
each in its own process, with the same boto3 client code:

- `emulator`: `python -m emulator serve --latency-scale 0 --regions us-east-1`;
- `moto`: `python -m moto.server` (moto[server]);
- `null`: a do-nothing HTTP/1.1 server answering `{}`, Nagle off, one write per answer: the
  ceiling for any Python server behind boto3 on this machine.

For each server: PutItem and GetItem (ConsistentRead) for `--seconds` each, from 1 client
thread and from 8 (one boto3 client per thread, retries off), after a warm-up, in several
rounds that interleave the servers. It prints ops/s per (server, operation, threads), best
run and median, the ratios emulator/null and emulator/moto, and the CPU time per operation of
the client and of the server process, which barely depends on other load on a shared machine
(with one client thread, 1e6 / (client us + server us) estimates ops/s on an idle machine).

    python bench/bench_emulator.py [--seconds 2] [--rounds 3] [--threads 1,8]
                                   [--targets emulator,moto,null]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench"
REGION = "us-east-1"


# ---- the do-nothing server ------------------------------------------------------------
class _Null(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                         b"Content-Length: 2\r\n\r\n{}")

    def log_message(self, *args) -> None:  # quiet: the bench prints its own figures
        return


def serve_null(port: int) -> None:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Null)
    srv.daemon_threads = True
    print(json.dumps({"url": f"http://127.0.0.1:{srv.server_address[1]}"}), flush=True)
    srv.serve_forever()


# ---- starting the servers -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not come up in {timeout_s:g} s")


def start(target: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if target == "emulator":
        state = tmp / "emulator.json"
        proc = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--latency-scale", "0",
                                 "--regions", REGION, "--state-file", str(state)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        return proc, json.loads(line)["regions"][REGION]
    if target == "moto":
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(port)
        return proc, f"http://127.0.0.1:{port}"
    if target == "null":
        proc = subprocess.Popen([sys.executable, __file__, "--null-server", "0"],
                                env=env, stdout=subprocess.PIPE, text=True)
        return proc, json.loads(proc.stdout.readline())["url"]
    raise SystemExit(f"unknown target {target}")


def client(url: str):
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION,
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"total_max_attempts": 1},
                                      max_pool_connections=16))


def create_table(url: str) -> None:
    c = client(url)
    c.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


# ---- measuring ------------------------------------------------------------------------
def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, op: str, threads: int, seconds: float, pid: int) -> tuple[float, float, float]:
    """(ops/s, client CPU us/op, server CPU us/op) of one measurement."""
    clients = [client(url) for _ in range(threads)]
    for i, c in enumerate(clients):  # warm-up: connections, botocore's caches
        for j in range(50):
            c.put_item(TableName=TABLE, Item={"pk": {"S": f"k{i}-{j}"}, "v": {"N": str(j)}})
    counts = [0] * threads
    stop = threading.Event()
    start_line = threading.Barrier(threads + 1)

    def worker(i: int) -> None:
        c = clients[i]
        n = 0
        start_line.wait()
        while not stop.is_set():
            key = f"k{i}-{n % 50}"
            if op == "PutItem":
                c.put_item(TableName=TABLE, Item={"pk": {"S": key}, "v": {"N": str(n)}})
            else:
                c.get_item(TableName=TABLE, Key={"pk": {"S": key}}, ConsistentRead=True)
            n += 1
        counts[i] = n

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    start_line.wait()
    t0 = time.perf_counter()
    c0, s0 = time.process_time(), server_cpu_s(pid)
    time.sleep(seconds)
    stop.set()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    n = max(1, sum(counts))
    return (n / elapsed, (time.process_time() - c0) / n * 1e6, (server_cpu_s(pid) - s0) / n * 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measurements interleaved across servers; the median is reported")
    ap.add_argument("--threads", default="1,8",
                    help="comma-separated client thread counts (one boto3 client per thread)")
    ap.add_argument("--targets", default="emulator,moto,null",
                    help="servers to measure, each in its own process: emulator, moto, null")
    ap.add_argument("--null-server", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.null_server is not None:
        serve_null(a.null_server)
        return
    threads = [int(x) for x in a.threads.split(",")]
    targets = a.targets.split(",")
    samples: dict[tuple[str, str, int], list[float]] = {}
    cpu: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    procs = []
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{a.rounds} rounds x {a.seconds:g} s per figure, median reported", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            urls, pids = {}, {}
            for target in targets:
                proc, url = start(target, Path(tmp))
                procs.append(proc)
                urls[target], pids[target] = url, proc.pid
                create_table(url)
            # Interleave servers inside each round so a burst of load elsewhere on the
            # machine hits all of them alike.
            for _ in range(a.rounds):
                for op in ("PutItem", "GetItem"):
                    for n in threads:
                        for target in targets:
                            r, ccpu, scpu = run(urls[target], op, n, a.seconds, pids[target])
                            samples.setdefault((target, op, n), []).append(r)
                            cpu.setdefault((target, op, n), []).append((ccpu, scpu))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    best = {k: max(v) for k, v in samples.items()}
    for (target, op, n), r in sorted(medians.items()):
        runs = ", ".join(f"{x:.0f}" for x in samples[(target, op, n)])
        print(f"{target:9s} {op:8s} threads={n}: median {r:6.0f} ops/s, best {best[(target, op, n)]:6.0f}"
              f"   (runs: {runs})")
    # CPU per operation hardly depends on other load: with one client thread the client
    # waits for the server, so on an otherwise idle machine ops/s ~ 1e6 / (client + server).
    print()
    print("CPU per operation (median of rounds; client = this process, server = its process):")
    for (target, op, n), xs in sorted(cpu.items()):
        cc = statistics.median(x[0] for x in xs)
        sc = statistics.median(x[1] for x in xs)
        est = f", idle-machine estimate {1e6 / (cc + sc):5.0f} ops/s" if n == 1 else ""
        print(f"  {target:9s} {op:8s} threads={n}: client {cc:6.0f} us, server {sc:6.0f} us{est}")
    # On a shared machine other load only ever slows a run down, so the best run of each
    # figure is the least disturbed estimate; the medians are printed too.
    for label, results in (("best runs", best), ("medians", medians)):
        print()
        print(f"ratios (same run, {label}):")
        for op in ("PutItem", "GetItem"):
            for n in threads:
                emu = results.get(("emulator", op, n))
                if emu is None:
                    continue
                parts = [f"{op:8s} threads={n}: emulator {emu:.0f}/s"]
                for base in ("null", "moto"):
                    b = results.get((base, op, n))
                    if b:
                        parts.append(f"emulator/{base} = {emu / b:.2f}")
                print("  " + ", ".join(parts))
    if 1 in threads:
        print()
        print(bars(best, medians, cpu))


def bars(best: dict, medians: dict, cpu: dict) -> str:
    """Issue 3's bars for one client thread, judged on the best run and on the median.

    The absolute bar (>= 1,000 ops/s) was set on a machine where the do-nothing server gave
    about 1,250/s; the client's own CPU per call (boto3) bounds any server from above, so the
    lines also print that bound, 1e6 / the lowest client CPU per call measured.
    """
    out = ["issue 3 bars, one client thread (best run / median):"]
    for op in ("PutItem", "GetItem"):
        key = ("emulator", op, 1)
        if key not in best:
            continue
        b, m = best[key], medians[key]
        out.append(f"  {op}: >= 1,000 ops/s: {'met' if b >= 1000 else 'NOT met'} / "
                   f"{'met' if m >= 1000 else 'NOT met'}  ({b:.0f} / {m:.0f})")
        for base, ratio in (("null", 0.8), ("moto", 3.0)):
            bb, bm = best.get((base, op, 1)), medians.get((base, op, 1))
            if bb and bm:
                out.append(f"  {op}: >= {ratio:g} x {base}: {'met' if b / bb >= ratio else 'NOT met'}"
                           f" / {'met' if m / bm >= ratio else 'NOT met'}"
                           f"  ({b / bb:.2f} / {m / bm:.2f})")
        # The least disturbed measurement of the client's own cost: the lowest client CPU
        # per call of any one-thread round against the emulator or the do-nothing server.
        client_us = [x[0] for t in ("emulator", "null") for x in cpu.get((t, op, 1), [])]
        if client_us:
            out.append(f"  {op}: boto3 alone bounds one thread at {1e6 / min(client_us):.0f} "
                       f"ops/s on this machine (client CPU {min(client_us):.0f} us/call at best)")
    return "\n".join(out)


if __name__ == "__main__":
    main()
