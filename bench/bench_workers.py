"""Benchmark: remote worker throughput with 1, 2 and 3 worker hosts, and what the control
node spends per operation (issue 16).

Needs root: it brings up scripts/testbed.sh (three hosts with sshd in network namespaces)
and takes it down at the end. The emulator runs as its own process (`gtcheck emulator
serve`, async mode, latency scale 0, bound to the bridge address the hosts reach), so the
control node's CPU is only the harness: generator, runner, SSH channels, the clock-mapped
merge and the history file. Each configuration drives the register workload as fast as
it goes (no rate limit) for `--seconds`, with `--threads` client threads per host.

Figures per configuration: operations completed per second; CPU per operation of the
control node (this process), of the merge within it (the clock-mapped merge and the
history file, CPU of the runner's thread inside `record`), of the workers (read from
/proc: the hosts share this machine) and of the emulator. Baseline, measured in the same run: the same runner with
the same threads in this process, clients calling the emulator directly (no hosts). The
control node is not the bottleneck when its CPU per operation is a small share of the
whole (control + workers + emulator): `control share` prints that share, and
`control ceiling` the ops/s at which the control node alone would use one full core.

Run: python bench/bench_workers.py [--seconds 8] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results.history import HistoryWriter  # noqa: E402
from suite import generator as gen  # noqa: E402
from suite import registry  # noqa: E402
from suite.config import Test  # noqa: E402
from suite.remote.fleet import Fleet, MappedHistory  # noqa: E402
from suite.remote.hosts import read_hosts  # noqa: E402
from suite.runner import Runner  # noqa: E402
from suite.targets.endpoints import EndpointsTarget  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GTCHECK = Path(sys.executable).parent / "gtcheck"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (and its reaped children), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


def testbed(action: str) -> str:
    r = subprocess.run(["bash", str(REPO / "scripts" / "testbed.sh"), action],
                       capture_output=True, text=True,
                       env={**os.environ, "GTCHECK_WORKER": str(GTCHECK)})
    if r.returncode != 0:
        sys.exit(f"bench_workers: testbed.sh {action} failed: {r.stderr.strip()}")
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def start_emulator(tmp: Path, address: str) -> tuple[subprocess.Popen, Path]:
    state = tmp / "emulator.json"
    p = subprocess.Popen([str(GTCHECK), "emulator", "serve", "--mode", "async",
                          "--latency-scale", "0", "--host", address,
                          "--state-file", str(state)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not state.exists():
        if p.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"bench_workers: the emulator did not start: {p.stderr.read()[-500:]}")
        time.sleep(0.1)
    time.sleep(0.3)  # the file is written once the servers listen; let it be complete
    return p, state


def run_once(test: Test, target, regions, threads: int, seconds: float, *, fleet=None,
             tmp: Path, emulator_pid: int) -> dict:
    workload = registry.workload_entry(test.workload).build(test, target)
    concurrency = threads * len(regions)
    writer = HistoryWriter(tmp / f"h-{len(regions)}-{fleet is not None}.jsonl")
    history = MappedHistory(writer, fleet) if fleet else writer
    merge_ns = [0]
    record = history.record

    def timed_record(op):  # CPU of the merge and the history file, in the runner's thread
        t = time.thread_time_ns()
        try:
            return record(op)
        finally:
            merge_ns[0] += time.thread_time_ns() - t
    history.record = timed_record
    runner = Runner(test, client=fleet.client() if fleet else workload.client, nemesis=None,
                    history=history, regions=regions, concurrency=concurrency,
                    op_timeout_s=5.0)
    if fleet:
        fleet.attach(runner.now)
    workers = [s.pid for s in fleet.sessions.values()] if fleet else []
    w0 = sum(cpu_s(p) for p in workers)
    e0 = cpu_s(emulator_pid)
    c0, t0 = time.process_time(), time.monotonic()
    runner.run(gen.clients(workload.generator), None, time_limit_s=seconds)
    if fleet:
        history.close()
    wall, control = time.monotonic() - t0, time.process_time() - c0
    emu = cpu_s(emulator_pid) - e0
    work = sum(cpu_s(p) for p in workers) - w0
    writer.close()
    done = sum(1 for op in writer.ops if op.type != "invoke")
    ok = sum(1 for op in writer.ops if op.type == "ok")
    return {"ops": done, "ok": ok, "ops_s": done / wall, "control_us": control / done * 1e6,
            "merge_us": merge_ns[0] / 1e3 / done,
            "worker_us": work / done * 1e6, "emulator_us": emu / done * 1e6,
            "threads": concurrency}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0,
                    help="seconds of traffic per configuration")
    ap.add_argument("--threads", type=int, default=4, help="client threads per host")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_workers: needs root (network namespaces for the test bed)")
    registry.load_plugins()
    hosts_path = Path(testbed("up"))
    tmp = Path(tempfile.mkdtemp(prefix="gtcheck-bench-workers-"))
    emu = None
    try:
        hosts = read_hosts(hosts_path)
        emu, state = start_emulator(tmp, hosts.control_address)
        test = Test(workload="register", mode="async", seed=1, rate=1e6, keys=64,
                    time_limit=args.seconds, op_timeout=5.0).stamped(argv=("bench",))
        target = EndpointsTarget.from_state_file(str(state), mode="async")
        target.setup(test)
        workload = registry.workload_entry(test.workload).build(test, target)
        target.create_table(test, workload.table)
        rows = []
        base = run_once(test, target, ("us-east-1",), args.threads, args.seconds, tmp=tmp,
                        emulator_pid=emu.pid)
        rows.append(("local (no hosts), 1 region", base))
        for n in (1, 2, 3):
            chosen = hosts.hosts[:n]
            sub = type(hosts)(hosts.path, chosen, hosts.control_address, hosts.known_hosts)
            regions = tuple(h.region for h in chosen)
            fleet = Fleet(sub, op_timeout_s=5.0)
            fleet.start(test.to_json(), target.endpoints)
            try:
                rows.append((f"{n} worker host(s)",
                             run_once(test, target, regions, args.threads, args.seconds,
                                      fleet=fleet, tmp=tmp, emulator_pid=emu.pid)))
            finally:
                fleet.close()
        print(f"register workload, async emulator in its own process, latency scale 0, "
              f"{args.threads} threads per host, {args.seconds:g} s each")
        print(f"{'configuration':28} {'threads':>7} {'ops/s':>8} {'control':>9} "
              f"{'merge':>7} {'workers':>9} {'emulator':>9} {'control':>8} {'control':>9}")
        print(f"{'':28} {'':>7} {'':>8} {'us/op':>9} {'us/op':>7} {'us/op':>9} {'us/op':>9} "
              f"{'share':>8} {'ceiling':>9}")
        for name, r in rows:
            total = r["control_us"] + r["worker_us"] + r["emulator_us"]
            print(f"{name:28} {r['threads']:7d} {r['ops_s']:8.0f} {r['control_us']:9.0f} "
                  f"{r['merge_us']:7.0f} {r['worker_us']:9.0f} {r['emulator_us']:9.0f} "
                  f"{r['control_us'] / total:8.0%} {1e6 / r['control_us']:9.0f}")
        print("ratios to the local baseline (same run):")
        for name, r in rows[1:]:
            print(f"  {name}: ops/s x{r['ops_s'] / base['ops_s']:.2f}, control CPU per op "
                  f"x{r['control_us'] / base['control_us']:.2f}")
        print(json.dumps({name: r for name, r in rows}))
    finally:
        if emu is not None:
            emu.terminate()
            emu.wait(10)
        testbed("down")


if __name__ == "__main__":
    main()
