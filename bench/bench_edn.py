"""Benchmark of reading Jepsen's EDN histories (issue 23, item 1): old reader vs new.

Jepsen writes `history.edn` one operation map a line. The old reader parsed the whole
file with the `edn_format` library, whose right-recursive grammar copies the growing
list at every element (quadratic); the new one (results/edn.py) rewrites blocks of lines
into JSON and decodes them in C, with an iterative parser of its own for everything
else. For list-append histories of 5,000, 10,000, 100,000 and 1,000,000 operations
(seeded; 1-4 micro-ops per transaction over 10 active keys, a fresh key after 32 appends,
as Jepsen's list-append workload), this prints, for each reader, the operations read per
second through `results.formats.load(path, "edn")` (reading, parsing, building and
validating every operation) per CPU second of the reading process (wall time is shown
too, but on a shared machine it measures the other processes as much as this one), and
the ratio of CPU times old / new where both ran. The old reader runs
only at the small sizes (it takes minutes at 100,000). Each measurement runs in a fresh
child process (argument lists, JSON on stdout), so its peak RSS is its own.

    python bench/bench_edn.py            # 5k, 10k, 100k, 1M
    python bench/bench_edn.py --quick    # 5k, 10k, 100k

Goal (issue 23): at least 200,000 operations per second, linear (the rate at 1M within
a factor 1.5 of the rate at 100k).
"""

from __future__ import annotations

import argparse
import json
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
OLD_MAX_OPS = 10_000


def history(n_ops: int, seed: int = 1) -> str:
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


def new_reader(path: str) -> int:
    from results import formats
    return len(formats.load(path, "edn"))


def one(reader: str, path: str) -> dict:
    w0, c0 = time.perf_counter(), time.process_time()
    n = (old_reader if reader == "old" else new_reader)(path)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"ops": n, "wall_s": wall, "cpu_s": cpu,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(reader: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", reader, path],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("READER", "PATH"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(*args.child)))
        return 0
    sizes = [5_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    print(f"{'ops':>9} {'reader':>6} {'wall s':>9} {'CPU s':>8} {'ops/CPU s':>10} "
          f"{'RSS MB':>8} {'new/old':>8}")
    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = str(Path(tmp) / f"h{n}.edn")
            Path(path).write_text(history(n))
            old = child("old", path) if n <= OLD_MAX_OPS else None
            new = child("new", path)
            rates[n] = new["ops"] / new["cpu_s"]
            for name, r in (("old", old), ("new", new)):
                if r is None:
                    continue
                ratio = f"{(old['cpu_s'] / new['cpu_s']):8.1f}" \
                    if name == "new" and old is not None else f"{'':>8}"
                print(f"{r['ops']:>9} {name:>6} {r['wall_s']:>9.3f} {r['cpu_s']:>8.3f} "
                      f"{r['ops'] / r['cpu_s']:>10.0f} {r['rss_mb']:>8.0f} {ratio}")
    big = max(rates)
    linear = rates[big] >= rates[100_000] / 1.5 if big > 100_000 else True
    ok = min(rates[n] for n in rates if n >= 100_000) >= GOAL_OPS_PER_S
    print(f"goal {GOAL_OPS_PER_S} ops per CPU second at >= 100k ops: "
          f"{'met' if ok else 'NOT met'}; "
          f"linear (rate at {big} within 1.5x of 100k): {'yes' if linear else 'no'}")
    return 0 if ok and linear else 1


if __name__ == "__main__":
    sys.exit(main())
