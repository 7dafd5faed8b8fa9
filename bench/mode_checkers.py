"""Benchmark: the per-mode checkers on simulated histories of 10,000 and 100,000 operations.

Every checker of `checkers.modes.checker_for` must be linear or n log n in the history's
size. This script simulates (seeded, `tests/checkers/simulate.py`) async LWW and
linearizable executions of each workload at two sizes, times every checker of the
composed set, and prints the seconds, the ratio between the two sizes (about 10 for
linear work, a little more for n log n) and the ratio to the baseline measured in the same
run: `results.history.pair` over the same history, the least any checker must do. Times
are CPU seconds of this process (the machine is shared).

    python bench/mode_checkers.py [--sizes 10000,100000] [--workloads register,counter,set]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checkers import observe  # noqa: E402
from checkers.modes import checker_for  # noqa: E402
from results.history import pair  # noqa: E402
from tests.checkers.simulate import REGIONS, simulate_with_versions  # noqa: E402

THREADS_PER_REGION = 10
OPS_PER_THREAD_SECOND = 1000 / 11.5  # mean op 7 ms + mean think 3 ms (+ ~1.5 ms)


def history(store: str, workload: str, n_ops: int, seed: int):
    threads = THREADS_PER_REGION * len(REGIONS)
    duration_ms = int(1000 * n_ops / (threads * OPS_PER_THREAD_SECOND))
    cuts = [("us-east-1", "us-east-2", duration_ms // 3, 2 * duration_ms // 3)]
    return simulate_with_versions(store=store, workload=workload, seed=seed, keys=100,
                                  threads_per_region=THREADS_PER_REGION,
                                  duration_ms=duration_ms, crash_p=0.01,
                                  cuts=cuts if store == "async" else [])


def timed(fn):
    """(result, CPU seconds): process time, not wall time, because the machine is shared
    and waiting for a core is not the checker's cost."""
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--workloads", default="register,counter,set")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    test = {"regions": list(REGIONS)}
    rows: dict[tuple, dict[int, float]] = {}
    for workload in args.workloads.split(","):
        for store, mode in (("async", "async"), ("linearizable", "strong")):
            for n in sizes:
                ops, versions = history(store, workload, n, seed=n)
                n_pairs = sum(1 for op in ops if op.type == "invoke")
                _, base = timed(lambda: pair(ops))
                composed = checker_for(mode, workload)
                print(f"{mode:6} {workload:8} {n_pairs:7d} ops ({len(ops)} records); "
                      f"baseline pair() {base:.3f} s")
                observe._last_paired = None  # the composed run pays for pairing once
                res, total = timed(lambda: composed.check(test, ops, {"versions": versions}))
                rows.setdefault((mode, workload, "(composed)"), {})[n] = total
                print(f"    {'(composed)':20} {total:7.3f} s  {total / base:6.1f}x baseline  "
                      f"valid={res['valid']}")
                for name, c in composed.checkers.items():
                    res, secs = timed(lambda: c.check(test, ops, {"versions": versions}))
                    rows.setdefault((mode, workload, name), {})[n] = secs
                    print(f"    {name:20} {secs:7.3f} s  {secs / base:6.1f}x baseline  "
                          f"valid={res['valid']}")
    if len(sizes) == 2:
        small, big = sizes
        print(f"\nscaling {small} -> {big} operations (x{big / small:.0f}), CPU seconds:")
        for (mode, workload, name), by in rows.items():
            print(f"    {mode:6} {workload:8} {name:20} {by[small]:7.3f} s -> {by[big]:7.3f} s"
                  f"  ratio {by[big] / max(by[small], 1e-9):5.1f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
