"""Benchmark of the Elle-style transactional checker (checkers/elle) on list-append.

For strictly serializable list-append histories of 10,000, 100,000 and 1,000,000
transactions (checkers.elle.simulate: 1-4 micro-ops, 10 active keys, 32 appends per key
before a fresh key, 5 processes, 2% indeterminate and 2% failed transactions; every
history is judged valid, else the run stops), prints the check time (wall and CPU), the
transactions checked per CPU second, the peak resident memory, and each size's rate and
cost per transaction as a ratio to the 10,000-transaction case measured in the same run
(the baseline): a ratio near 1.0 means the cost grows linearly. Each size runs in a fresh
child process (argument lists, JSON on stdout), so its peak RSS is its own; the checker
is single-threaded, so this is one core.

    python bench/bench_elle.py             # 10k, 100k, 1M (a few minutes)
    python bench/bench_elle.py --quick     # 10k, 100k

Then, on the 100,000-transaction graph, the cycle-finding step two ways: networkx
(building a DiGraph of the edges, then `strongly_connected_components`) against ours
(Kahn's trim, then Tarjan on what is left, on plain dict adjacency) -- why the checker
does not use networkx for its graph (checkers/elle/graph.py).

Goals checked at the end (issue 14): at least 50,000 transactions per second, and the
1,000,000-transaction history checked within 4 GB.

`--whole N` instead measures what a user waits for (issue 23): elle-cli JSON and Jepsen
EDN files (`--formats`) of N list-append and N rw-register transactions (`--models`; the
same simulator, the same transactions in both formats) are written once, then
`gtcheck check --model M --format F FILE` runs as a fresh process for the code in
each `--code` directory (default: this checkout; a baseline checkout prints beside it:
`git worktree add /work/w23-base c730d8b`), printing its wall seconds, CPU seconds and
peak resident memory (the child's own, from GNU time) and what the child waited for
(preemptions, major page faults, blocks read: from wait4). Goal: 1,000,000 list-append
transactions within 30 s and 2 GB, whole process. `--dir D` keeps the files in D and
reuses them (writing them costs more than checking them).

    python bench/bench_elle.py --whole 1000000 --code /work/w23-base,. [--dir /tmp/elle-files]

Measured (issue 23, `--whole 1000000 --code /work/main,/work/s23b`, once) on this
2-core machine shared with seven other sessions (load average 24-35), 1,000,000
list-append transactions, whole process: before (3c5cbe0: every op map held, then
checked, then paired; the collector running) 75.4 CPU s, 942 s wall, 3,219 MB peak;
after (one streamed pass, the collector paused while loading and checking) 34.0 CPU s,
461 s wall, 1,611 MB peak. The wall was preemption (34,280 and 15,859 involuntary
context switches; 0 and 1 major faults, no swap on the machine, 34 and 50 voluntary
waits): the machine was shared. Of the check's own CPU, the collector was most of the
excess (reading alone: 32.5 CPU s with it, 10.7 s without, same load). 1,000,000
rw-register transactions in the same run: before 81.6 CPU s, 901 s wall, 3,017 MB;
after 44.0 CPU s, 266 s wall, 2,087 MB (load average 9-12 by then).

Measured again (issue 23 item 2, branch telle, `--whole 1000000 --dir D --code
BASE,AFTER`, BASE = 5d74d26, AFTER = this branch's final code; one run each) on the same
machine at load average 11-47 (wall is preemption there: compare CPU and peak). elle-json
list-append: before 32.7 CPU s, 215 s wall, 1,612 MB (load 18); after 27.8 CPU s,
548 s wall, 1,612 MB (load 40). EDN list-append (`check --format edn`): before (every
form held, then paired) 94.0 CPU s, 1,303 s wall, 3,042 MB (load 34); after (streamed,
block by block) 43.3 CPU s, 880 s wall, 1,616 MB (load 40). elle-json rw-register:
before 28.6 CPU s, 490 s wall, 2,087 MB (load 49); after (reads and writes per
transaction not kept, no cycle search in a version graph that cannot have one) 21.2 CPU
s, 292 s wall, 1,329 MB (load 44). EDN rw-register after: 34.8 CPU s, 272 s wall,
1,330 MB (load 34); EDN rw-register before: 65.2 CPU s, 193 s wall, 2,557 MB (load 11-20).
Every verdict valid, as the simulator's histories are. Then, the machine quiet (load
average 2.3-3.3), the same files once more: elle-json list-append after 27.2 s wall,
22.8 CPU s, 1,613 MB (goal met: <= 30 s, <= 2 GB), before 37.7 s wall, 25.4 CPU s,
1,612 MB; elle-json rw-register after 25.9 s wall, 19.1 CPU s, 1,330 MB, before 24.4 s
wall, 24.2 CPU s, 2,087 MB; EDN after: list-append 37.6 s wall, 36.9 CPU s, 1,617 MB;
rw-register 48.4 s wall, 32.4 CPU s, 1,330 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GOAL_TPS = 50_000
GOAL_RSS_MB = 4096


def one(n: int, seed: int) -> dict:
    from checkers.elle import check, simulate
    txns = simulate.serializable(random.Random(seed), n, keys=10, info_rate=0.02,
                                 fail_rate=0.02)
    rss_history = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w0, c0 = time.perf_counter(), time.process_time()
    res = check.check(txns, "list-append")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"n": n, "valid": res["valid"], "edges": res["edges"], "wall_s": wall,
            "cpu_s": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_history_mb": rss_history}


def networkx_vs_ours(n: int, seed: int) -> dict:
    import networkx as nx
    from checkers.elle import graph, list_append, simulate
    txns = simulate.serializable(random.Random(seed), n, keys=10)
    g = list_append.Analysis(txns).graph(len(txns))
    graph.add_realtime(g, txns)
    c0 = time.process_time()
    rest = graph.cyclic_part(g.out)
    ours = graph.sccs(g.out, vertices=rest) if rest else []
    ours_s = time.process_time() - c0
    c0 = time.process_time()
    d = nx.DiGraph()
    d.add_edges_from((a, b) for a, row in enumerate(g.out) if row for b in row)
    build_s = time.process_time() - c0
    c0 = time.process_time()
    theirs = [c for c in nx.strongly_connected_components(d) if len(c) > 1]
    scc_s = time.process_time() - c0
    return {"edges": g.edge_count(), "ours_s": ours_s, "nx_build_s": build_s,
            "nx_scc_s": scc_s, "agree": len(ours) == len(theirs)}


def history_ops(txns: list) -> list[dict]:
    """Transactions as op maps in time order, an invoke and a completion per txn (reads'
    values empty in the invocation, as Jepsen records them)."""
    events = []
    for t in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in t.mops]
        done = [[f, k, list(v) if isinstance(v, tuple) else v] for f, k, v in t.mops]
        events.append((t.invoke_time, 0, {"type": "invoke", "f": "txn", "value": inv,
                                          "process": t.process}))
        end = t.complete_time if t.complete_time is not None else 10 ** 15
        events.append((end, 1, {"type": t.type, "f": "txn", "value": done,
                                "process": t.process}))
    events.sort(key=lambda e: (e[0], e[1]))
    return [{**op, "index": i, "time": t if t < 10 ** 15 else -1}
            for i, (t, _, op) in enumerate(events)]


def write_elle_json(path: Path, txns: list) -> None:
    """Transactions as elle-cli's JSON: one array of op maps."""
    with open(path, "w") as f:
        f.write("[\n")
        for i, op in enumerate(history_ops(txns)):
            f.write(("," if i else "") + json.dumps(op, separators=(",", ":")) + "\n")
        f.write("]\n")


def _edn(v: object) -> str:
    if isinstance(v, list):
        return "[" + " ".join(_edn(x) for x in v) + "]"
    return "nil" if v is None else str(v)


def write_edn(path: Path, txns: list) -> None:
    """Transactions as Jepsen's history.edn: one op map a line, keywords for type, f and
    micro-op names (`{:type :ok, :f :txn, :value [[:append 6 2] [:r 1 [1 2]]], ...}`)."""
    with open(path, "w") as f:
        for op in history_ops(txns):
            value = " ".join(f"[:{m} {_edn(k)} {_edn(v)}]" for m, k, v in op["value"])
            f.write(f"{{:type :{op['type']}, :f :txn, :value [{value}], "
                    f":process {op['process']}, :index {op['index']}, :time {op['time']}}}\n")


WHOLE_GOAL_WALL_S, WHOLE_GOAL_RSS_MB = 30, 2048  # 1M list-append, whole process


def whole(n: int, seed: int, codes: list[Path], keep: Path | None = None,
          formats: tuple[str, ...] = ("elle-json", "edn"),
          workloads: tuple[str, ...] = ("list-append", "rw-register")) -> int:
    """Whole-process figures per checkout; files are written once (kept in `keep`
    and reused when given). Beside wall and CPU seconds and the child's peak, what the
    child waited for (from wait4): involuntary context switches (preempted: another
    process had the core), major page faults (memory read back from disk: swapping),
    file-system blocks read (I/O); wall well over CPU with many of the first and none
    of the others is a shared machine, not the check."""
    import os
    import tempfile
    from checkers.elle import simulate
    print(f"whole process: gtcheck check --format {' / '.join(formats)}, {n:,} transactions; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="gtcheck-bench-elle-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for model, fmt in [(m, f) for m in workloads for f in formats]:
            path = folder / f"{model}-{n}-seed{seed}.{'json' if fmt == 'elle-json' else fmt}"
            if not path.exists():
                txns = simulate.serializable(random.Random(seed), n, workload=model,
                                             keys=10, info_rate=0.02, fail_rate=0.02)
                (write_elle_json if fmt == "elle-json" else write_edn)(path, txns)
                del txns
            print(f"  {model}, {fmt}: {path.stat().st_size / 1e6:.0f} MB file", flush=True)
            for code in codes:
                env = {**os.environ, "PYTHONPATH": str(code)}
                w0 = time.perf_counter()
                # GNU time starts the child: its peak is the child's own, not this
                # process's (a forked copy of this one counts toward the child's maxrss)
                proc = subprocess.Popen(
                    ["/usr/bin/time", "-f", "peak-kb %M",
                     sys.executable, "-c", "import sys; sys.argv[0] = 'gtcheck'; "
                     "from suite.cli import main; main()", "check", "--model", model,
                     "--format", fmt, str(path)], env=env, cwd=code,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - w0
                cpu = usage.ru_utime + usage.ru_stime
                out = proc.stdout.read().strip()
                err = proc.stderr.read().strip()
                peak_kb = [int(line.split()[1]) for line in err.splitlines()
                           if line.startswith("peak-kb ")]
                err = "\n".join(line for line in err.splitlines()
                                if not line.startswith("peak-kb "))
                peak_mb = (peak_kb[-1] if peak_kb else -1024) / 1024
                goal = ""
                if model == "list-append" and n == 1_000_000 and fmt == "elle-json":
                    goal = (f"  goal <= {WHOLE_GOAL_WALL_S} s, <= {WHOLE_GOAL_RSS_MB} MB: "
                            f"CPU {'met' if cpu <= WHOLE_GOAL_WALL_S else 'NOT met'}, "
                            f"wall {'met' if wall <= WHOLE_GOAL_WALL_S else 'NOT met'}, "
                            f"peak {'met' if peak_mb <= WHOLE_GOAL_RSS_MB else 'NOT met'}")
                print(f"    {code.name:>12}: wall {wall:6.1f} s  cpu {cpu:6.1f} s  peak "
                      f"{peak_mb:6.0f} MB  exit {os.waitstatus_to_exitcode(status)}  "
                      f"{(out or err).splitlines()[-1][:80] if (out or err) else ''}\n"
                      f"{'':>18}waited: {usage.ru_nivcsw:,} preemptions, "
                      f"{usage.ru_majflt:,} major faults, {usage.ru_inblock:,} blocks read, "
                      f"{usage.ru_nvcsw:,} voluntary waits; load average "
                      f"{os.getloadavg()[0]:.2f}{goal}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--whole", type=int, default=0,
                    help="instead: whole-process gtcheck check of N-transaction files")
    ap.add_argument("--code", default=str(REPO),
                    help="with --whole: comma-separated checkouts to run")
    ap.add_argument("--dir", default=None,
                    help="with --whole: keep the generated files here and reuse them")
    ap.add_argument("--formats", default="elle-json,edn",
                    help="with --whole: comma-separated history formats (elle-json, edn)")
    ap.add_argument("--models", default="list-append,rw-register",
                    help="with --whole: comma-separated models (list-append, rw-register)")
    ap.add_argument("--quick", action="store_true", help="only 10,000 and 100,000")
    ap.add_argument("--seed", type=int, default=1, help="simulator seed")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.seed)))
        return 0
    if args.whole:
        return whole(args.whole, args.seed, [Path(c).resolve() for c in args.code.split(",")],
                     Path(args.dir) if args.dir else None,
                     tuple(args.formats.split(",")), tuple(args.models.split(",")))
    sizes = [10_000, 100_000] + ([] if args.quick else [1_000_000])
    rows = []
    print(f"{'txns':>10} {'valid':>6} {'edges':>10} {'wall s':>8} {'cpu s':>8} "
          f"{'txn/cpu-s':>10} {'rate/10k':>9} {'us/txn/10k':>11} {'peak MB':>8}")
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n),
                              "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        if r["valid"] is not True:
            print(f"a serializable history was judged {r['valid']}: stop")
            return 1
        r["tps"] = n / r["cpu_s"]
        rows.append(r)
        base = rows[0]
        print(f"{n:>10,} {str(r['valid']):>6} {r['edges']:>10,} {r['wall_s']:>8.2f} "
              f"{r['cpu_s']:>8.2f} {r['tps']:>10,.0f} {r['tps'] / base['tps']:>9.2f} "
              f"{(r['cpu_s'] / n) / (base['cpu_s'] / base['n']):>11.2f} "
              f"{r['rss_mb']:>8.0f}")
    best = min(r["tps"] for r in rows)
    print(f"slowest rate {best:,.0f} txn/s (goal >= {GOAL_TPS:,}): "
          f"{'met' if best >= GOAL_TPS else 'NOT met'}")
    r = networkx_vs_ours(100_000, args.seed)
    nx_total = r["nx_build_s"] + r["nx_scc_s"]
    print(f"cycle step on the 100,000-transaction graph ({r['edges']:,} edges), CPU s: "
          f"ours {r['ours_s']:.2f}; networkx {nx_total:.2f} (DiGraph {r['nx_build_s']:.2f} "
          f"+ SCC {r['nx_scc_s']:.2f}) = {nx_total / max(r['ours_s'], 1e-9):.1f}x ours; "
          f"same components: {r['agree']}")
    big = rows[-1]
    print(f"{big['n']:,} transactions: peak {big['rss_mb']:.0f} MB "
          f"(of which {big['rss_history_mb']:.0f} MB the history itself; goal <= "
          f"{GOAL_RSS_MB} MB): {'met' if big['rss_mb'] <= GOAL_RSS_MB else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
