"""The lww-model checker against its brute-force oracle on N seeded tiny histories.

    python -m scripts.lww_differential [--n 50000] [--seed 0]

Each history comes from `tests/checkers/lww_gen.py` (a simulated LWW execution, half of
them mutated); `tests/checkers/lww_oracle.py` enumerates every order and execution;
`checkers.lww.lww_model_check` must give the same verdict. Prints the histories checked,
how many the oracle found valid and invalid, and the disagreements (exit 1 if any).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from checkers.lww import lww_model_check
from tests.checkers import lww_oracle
from tests.checkers.lww_gen import generate


def margin_of(history) -> int:
    worst = max((abs(op.value["ms"]) for op in history
                 if op.process == "nemesis" and op.f == "skew-clock"), default=0)
    return int(2 * worst * 1_000_000)


def compare(seed: int) -> tuple[bool | None, object, bool]:
    """(oracle verdict, checker verdict, mutated)."""
    history, mutated = generate(seed)
    want = lww_oracle.valid(history, margin=margin_of(history))
    got = lww_model_check({}, history, {})["valid"]
    return want, got, mutated


def run(n: int, first: int = 0, *, out=sys.stdout) -> Counter:
    counts: Counter = Counter()
    t0 = time.time()
    for seed in range(first, first + n):
        want, got, mutated = compare(seed)
        counts["histories"] += 1
        counts["valid" if want else "invalid" if want is False else "oracle-unknown"] += 1
        counts["mutated"] += mutated
        if got != want:
            counts["disagreements"] += 1
            print(f"disagreement: seed {seed}: oracle {want}, checker {got}", file=out)
        if (seed - first + 1) % 5000 == 0:
            print(f"{seed - first + 1} histories, {dict(counts)}, {time.time() - t0:.0f} s",
                  file=out, flush=True)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    counts = run(a.n, a.seed)
    print(dict(counts))
    return 1 if counts["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
