"""`gtcheck run --test-count N`: repeat a test with fresh seeds until one fails or N pass.

Jepsen's `--test-count`: a failure that shows up once in ten runs needs ten runs to be
seen. The seeds come from the first one (given, or drawn), so the whole series repeats
with the same `--seed`; each run is an ordinary run in the store. The series stops at the
first run that is not valid (invalid, or unknown: a run that could not decide is not a
pass), and its verdict is the series' verdict.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Callable, Sequence

from checkers.core import merge_valid
from suite.config import Test

SEED_MAX = 2**31


def series_seeds(first: int, n: int) -> list[int]:
    """`n` seeds: `first`, then seeds drawn from a generator seeded by it."""
    rng = random.Random(f"gtcheck-test-count:{first}")
    return [first] + [rng.randrange(SEED_MAX) for _ in range(n - 1)]


def run_series(test: Test, n: int, run_one: Callable[[Test], object],
               say: Callable[[str], None]) -> list[tuple[Test, object]]:
    """Run `test` up to `n` times with fresh seeds; stop after the first non-valid run.
    `run_one(test) -> result` (with `.valid`); returns [(test, result)] in order."""
    done = []
    for i, seed in enumerate(series_seeds(test.seed, n), start=1):
        t = dataclasses.replace(test, seed=seed)
        say(f"gtcheck: test {i} of {n} (seed={seed})")
        result = run_one(t)
        done.append((t, result))
        if getattr(result, "valid", None) is not True:
            break
    return done


def series_summary(done: Sequence[tuple[Test, object]], n: int) -> tuple[str, object]:
    """The series in a few lines, and its verdict (the worst of its runs)."""
    words = {True: "VALID", False: "INVALID"}
    valid = merge_valid([getattr(r, "valid", "unknown") for _, r in done])
    passed = sum(1 for _, r in done if getattr(r, "valid", None) is True)
    lines = [f"test-count: {len(done)} of {n} run, {passed} valid"
             + ("" if len(done) == n else "; stopped at the first run that was not valid")]
    for i, (t, r) in enumerate(done, start=1):
        path = getattr(getattr(r, "run_dir", None), "path", "")
        lines.append(f"  {i}. seed={t.seed} {words.get(getattr(r, 'valid', None), 'UNKNOWN')} "
                     f"{path}")
    return "\n".join(lines), valid
