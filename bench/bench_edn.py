"""Benchmark of reading Jepsen's EDN histories (issue 23, item 1).

Jepsen writes `history.edn` one operation map a line. The old reader parsed the whole
file with the `edn_format` library, whose right-recursive grammar copies the growing
list at every element (quadratic); results/edn.py reads each Jepsen op line's fields by
one regular expression per key order and the values by C-level passes into JSON (the
shape path), with the Jepsen-line path, a regex-to-JSON block path and an iterative
parser of its own for everything else; results.formats builds the shape path's
operations a column at a time.

For Jepsen list-append histories (1-4 micro-ops per transaction over 10 active keys, a
fresh key after 32 appends, as Jepsen's list-append workload) and register histories
(read / write / cas on 1,000 keys, 1% crashed, simulated linearizable;
checked as cas-register), of 100,000 and
1,000,000 operations (and 5,000 / 10,000 for the old reader), it prints operations per
CPU second of:
- the reader alone: `results.edn.iter_blocks` over the file's text (EDN to values);
- the load: `results.formats.load(path, "edn")` (reading the file, parsing, building and
  validating every operation);
- the whole process: `gtcheck check --format edn --model list-append|cas-register FILE`
  (start-up, reading, checking, the verdict), as a user runs it.
Each measurement runs in a fresh child process (argument lists, JSON on stdout; the
whole process's CPU is the child's user + system time), so its peak RSS is its own. Wall
time is shown too, but on a shared machine it measures the other processes as much as
this one. The old reader (edn_format) runs only at 5,000 and 10,000 operations (it
takes minutes at 100,000).

    python bench/bench_edn.py            # 100k and 1M, both histories
    python bench/bench_edn.py --quick    # 100k only

Goal (issue 23): at least 200,000 operations per second, linear (the rate at 1M within
a factor 1.5 of the rate at 100k). Beside each figure: the same measurement before the
shape path (`BEFORE`, commit 5d74d26, this script, this 2-core machine shared with
other sessions: load average 3.4 at the start, 12.9 at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GOAL_OPS_PER_S = 200_000
# ops per CPU second before the shape path (see the module paragraph): (history,
# measure, operations) -> rate
BEFORE = {
    ("list-append", "old", 5_000): 3563, ("list-append", "reader", 5_000): 62355,
    ("list-append", "load", 5_000): 50039, ("list-append", "old", 10_000): 3571,
    ("list-append", "reader", 10_000): 81233, ("list-append", "load", 10_000): 64436,
    ("list-append", "reader", 100_000): 111041, ("list-append", "load", 100_000): 60854,
    ("list-append", "whole process", 100_000): 27807,
    ("list-append", "reader", 1_000_000): 109062,
    ("list-append", "load", 1_000_000): 54428,
    ("list-append", "whole process", 1_000_000): 22822,
    ("register", "old", 5_000): 6511, ("register", "reader", 5_000): 93714,
    ("register", "load", 5_000): 71936, ("register", "old", 10_000): 6692,
    ("register", "reader", 10_000): 124200, ("register", "load", 10_000): 107157,
    ("register", "reader", 100_000): 167109, ("register", "load", 100_000): 103846,
    ("register", "whole process", 100_000): 76562,
    ("register", "reader", 1_000_000): 155095, ("register", "load", 1_000_000): 84393,
    ("register", "whole process", 1_000_000): 44717,
}


def list_append_history(n_ops: int, seed: int = 1) -> str:
    """A list-append history in Jepsen's EDN, one op map a line."""
    rng = random.Random(seed)
    slots = list(range(10))  # the 10 active keys
    count: dict[int, int] = {}
    fresh = 10
    lines = []
    t = 0
    for i in range(n_ops // 2):
        inv, done = [], []
        for _ in range(rng.randint(1, 4)):
            s = rng.randrange(10)
            if count.get(slots[s], 0) >= 32:
                slots[s], fresh = fresh, fresh + 1
            k = slots[s]
            if rng.random() < 0.5:
                count[k] = count.get(k, 0) + 1
                inv.append(f"[:append {k} {count[k]}]")
                done.append(inv[-1])
            else:
                inv.append(f"[:r {k} nil]")
                done.append(f"[:r {k} [{' '.join(map(str, range(1, count.get(k, 0) + 1)))}]]")
        p = i % 5
        lines.append(f"{{:index {2 * i}, :time {t}, :type :invoke, :process {p}, "
                     f":f :txn, :value [{' '.join(inv)}]}}")
        lines.append(f"{{:index {2 * i + 1}, :time {t + 500}, :type :ok, :process {p}, "
                     f":f :txn, :value [{' '.join(done)}]}}")
        t += 1000
    return "\n".join(lines) + "\n"


def register_history(n_ops: int, seed: int = 2) -> str:
    """A register history in Jepsen's EDN (read / write / cas on 1,000 integer keys, 1%
    crashed), one op map a line, as Jepsen prints its Op records."""
    from checkers.linearizability.simulate import simulate
    ops = simulate("cas-register", n_ops // 2, random.Random(seed), concurrency=10,
                   keys=1_000, crash_rate=0.01, values=5)  # about n_ops lines

    def edn(v):
        if v is None:
            return "nil"
        if isinstance(v, list):
            return "[" + " ".join(map(edn, v)) + "]"
        return str(v)
    return "".join(f"{{:index {op.index}, :time {op.time}, :type :{op.type}, :process "
                   f"{op.process}, :f :{op.f}, :key {op.key[1:]}, :value {edn(op.value)}}}\n"
                   for op in ops)


def old_reader(path: str) -> int:
    """The reader before issue 23: edn_format over the whole text, then plain values
    and Ops (results.formats' field rules)."""
    import edn_format
    from results import formats
    text = Path(path).read_text()
    ops = []
    for form in edn_format.loads_all(text):
        ops.append(formats._edn_op(formats._plain(form), ops[-1] if ops else None, path))
    return len(ops)


def reader_alone(path: str) -> int:
    from results import edn, formats
    text = formats.read_text(path)
    return sum(len(block) for block in edn.iter_blocks(text, path))


def load(path: str) -> int:
    from results import formats
    return len(formats.load(path, "edn"))


MEASURES = {"old": old_reader, "reader": reader_alone, "load": load}


def one(measure: str, path: str) -> dict:
    # the modules a measure uses are imported before the clock starts: their import
    # (about 20 ms, dataclasses and all) is start-up, which the whole process measures,
    # not reading; counted, it took a tenth off the rate at 100,000 operations
    import edn_format  # noqa: F401
    from results import edn, formats  # noqa: F401
    w0, c0 = time.perf_counter(), time.process_time()
    n = MEASURES[measure](path)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"ops": n, "wall_s": wall, "cpu_s": cpu,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(measure: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", measure, path],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def whole_process(path: str, model: str, n_ops: int) -> dict:
    """`gtcheck check --format edn --model MODEL FILE`, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    w0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "suite.cli", "check", "--format", "edn",
                             "--model", model, path], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - w0
    status = proc.returncode
    if status not in (0, 1, 2):
        raise RuntimeError(f"gtcheck check failed ({status}): {err[-1000:]}")
    verdict = {0: "valid", 1: "invalid", 2: "unknown"}[status]
    return {"ops": n_ops, "wall_s": wall, "verdict": verdict}


def whole_child(path: str, model: str, n_ops: int) -> dict:
    """whole_process in a child of its own, so RUSAGE_CHILDREN is that process alone."""
    code = ("import json, resource, sys; sys.path.insert(0, sys.argv[1]); "
            "import bench_edn as b; r = b.whole_process(sys.argv[2], sys.argv[3], "
            "int(sys.argv[4])); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "r['cpu_s'] = u.ru_utime + u.ru_stime; r['rss_mb'] = u.ru_maxrss / 1024; "
            "print(json.dumps(r))")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), path,
                          model, str(n_ops)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100,000 operations only")
    ap.add_argument("--child", nargs=2, metavar=("MEASURE", "PATH"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--write", nargs=3, metavar=("KIND", "OPS", "PATH"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write:
        kind, n, path = args.write
        make = list_append_history if kind == "list-append" else register_history
        Path(path).write_text(make(int(n)))
        return 0
    if args.child:
        print(json.dumps(one(*args.child)))
        return 0
    sizes = [100_000] + ([] if args.quick else [1_000_000])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'history':>12} {'ops':>9} {'measure':>14} {'wall s':>8} {'CPU s':>8} "
          f"{'ops/CPU s':>10} {'before':>8} {'RSS MB':>7}  verdict")
    rates: dict[tuple[str, str], dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, model in (("list-append", "list-append"), ("register", "cas-register")):
            for n in [5_000, 10_000] + sizes:
                path = str(Path(tmp) / f"{kind}-{n}.edn")
                # written by a child: a child's peak RSS starts at its parent's size
                # (Linux keeps the high-water mark across fork and exec), so this
                # process never holds a million-line history
                subprocess.run([sys.executable, __file__, "--write", kind, str(n), path],
                               check=True)
                lines = len(Path(path).read_text().splitlines())  # operations
                runs = [("old", child("old", path))] if n <= 10_000 else []
                runs += [("reader", child("reader", path)), ("load", child("load", path))]
                if n >= 100_000:
                    runs.append(("whole process", whole_child(path, model, lines)))
                for name, r in runs:
                    rate = r["ops"] / r["cpu_s"]
                    rates.setdefault((kind, name), {})[n] = rate
                    before = BEFORE.get((kind, name, n))
                    print(f"{kind:>12} {r['ops']:>9} {name:>14} {r['wall_s']:>8.3f} "
                          f"{r['cpu_s']:>8.3f} {rate:>10.0f} "
                          f"{before if before is not None else '':>8} {r['rss_mb']:>7.0f}  "
                          f"{r.get('verdict', '')}")
                Path(path).unlink()
    ok = True
    for (kind, name), by_n in sorted(rates.items()):
        if name not in ("reader", "load"):
            continue
        big = max(by_n)
        linear = by_n[big] >= by_n[100_000] / 1.5
        fast = min(r for n, r in by_n.items() if n >= 100_000) >= GOAL_OPS_PER_S
        ok = ok and linear and fast
        print(f"{kind} {name}: {by_n[100_000]:.0f} ops per CPU second at 100k"
              + (f", {by_n[big]:.0f} at {big}" if big > 100_000 else "")
              + f" (before: {BEFORE[(kind, name, 100_000)]} at 100k"
              + (f", {BEFORE[(kind, name, big)]} at {big})" if big > 100_000 else ")")
              + f"; goal {GOAL_OPS_PER_S}: {'met' if fast else 'NOT met'}; linear "
              f"(rate at {big} within 1.5x of 100k): {'yes' if linear else 'no'}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
