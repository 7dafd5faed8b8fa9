"""Elle's transactional checks against their brute-force oracle on N seeded tiny histories.

    python -m scripts.txn_differential [--n 10000] [--seed 0]
        [--workload list-append|rw-register|both] [--show 3]

Each history comes from `tests/checkers/txn_gen.py` (a simulated execution, correct or
under a broken store, some records mutated), is written in every transactional format
and judged by `gtcheck check`'s own entry under serializable and strict-serializable;
`tests/checkers/txn_oracle.py` enumerates every serial order. The rules a disagreement
breaks are `tests/checkers/txn_differential.py`'s. Prints the histories checked, the
oracle's verdicts, the disagreements grouped by the rule and the checker's answer (with
the first `--show` histories of each group), and exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict

from tests.checkers import txn_differential
from tests.checkers.txn_gen import FORMATS


def run(n: int, first: int, workloads: list[str], show: int, out=sys.stdout) -> Counter:
    counts: Counter = Counter()
    groups: dict = defaultdict(list)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads:
            for seed in range(first, first + n):
                o = txn_differential.compare(seed, workload, tmp)
                counts[f"{workload} histories"] += 1
                v = o.oracle["strict-serializable"], o.oracle["serializable"]
                counts[f"{workload} oracle " + ("refused" if v[1] is None else
                                                "strict-serializable" if v[0] else
                                                "serializable only" if v[1] else
                                                "not serializable")] += 1
                if o.disagreements:
                    counts[f"{workload} disagreements"] += 1
                    # group by the rule and what the checker said, not by format
                    key = (workload,) + tuple(sorted({
                        d.split(" ", 1)[1] if d.split(" ", 1)[0] in FORMATS else d
                        for d in o.disagreements}))
                    groups[key].append(o)
    print(f"{sum(v for k, v in counts.items() if k.endswith('histories'))} histories in "
          f"{time.time() - t0:.0f} s", file=out)
    for k in sorted(counts):
        print(f"  {k}: {counts[k]}", file=out)
    for key, outs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"\n{len(outs)} x {key[0]}: " + " | ".join(key[1:]), file=out)
        for o in outs[:show]:
            print(f"  seed {o.sim.seed} bugs {list(o.sim.bugs)} mutations {o.sim.notes}",
                  file=out)
            for op in o.sim.ops:
                print(f"    {op}", file=out)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workload", default="both",
                    choices=("list-append", "rw-register", "both"))
    ap.add_argument("--show", type=int, default=3)
    a = ap.parse_args()
    workloads = ["list-append", "rw-register"] if a.workload == "both" else [a.workload]
    counts = run(a.n, a.seed, workloads, a.show)
    return 1 if any(k.endswith("disagreements") for k in counts) else 0


if __name__ == "__main__":
    sys.exit(main())
