"""Differential fuzzing of results.edn (Jepsen EDN read in linear time) against the
`edn_format` library, the reference reader it replaced, for longer runs than the test
suite's (tests/results/test_edn_fuzz.py runs a few hundred seeds).

Each seed writes one adversarial but legal EDN history (tests/results/edn_fuzz.py:
maps over several lines, several ops a line, one vector of ops, comments, discards,
strings, chars, ratios, tags, CRLF, a BOM, ...) and reads it with block sizes drawn from
the seed (so block boundaries fall inside strings and maps); every disagreement (a
form, its line, the operations, or one refusing what the other reads) is printed with
its seed. Exit status 1 when there is one.

    python scripts/edn_fuzz.py --seeds 5000 [--start 0]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from results import edn  # noqa: E402
from tests.results.edn_fuzz import History, disagreement  # noqa: E402


def block_sizes(seed: int) -> tuple[int, int]:
    """Small blocks for a seed: (characters, lines) per block."""
    rng = random.Random(-1 - seed)
    return rng.choice([64, 200, 512, 2048, 1 << 16]), rng.choice([1, 3, 7, 50, 20_000])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--start", type=int, default=0)
    args = parser.parse_args()
    found, t0 = 0, time.monotonic()
    for seed in range(args.start, args.start + args.seeds):
        edn.BLOCK_CHARS, edn.BLOCK_LINES = block_sizes(seed)
        h = History(seed)
        why = disagreement(h, h.text())
        if why is not None:
            found += 1
            print(f"seed {seed} (blocks of {edn.BLOCK_CHARS} chars, {edn.BLOCK_LINES} "
                  f"lines): {why}")
    print(f"{args.seeds} histories, {found} disagreements, "
          f"{time.monotonic() - t0:.1f} s")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
