"""Benchmark: the emulator's memory under a read-only MRSC load stays flat (issue 22).

Every SC read in an MRSC table proposes a read fence, one journal entry. Without
compaction the journal keeps every entry forever, so a read-only load grows the emulator's
memory without bound; with it (emulator/mrsc.py `_compact`, JournalLog.compact) each
participant drops the prefix every participant has applied.

The benchmark runs the same load twice, each in a fresh process so the two resident set
sizes do not mix: once with compaction switched off (engine setting
`mrsc_log_compaction=False`: the "before") and once as the emulator runs by default. Each
process starts a three-region MRSC deployment at latency scale 0, writes one item, then
makes `--n` SC reads through boto3 (round robin over the regions, one client per region),
and prints its RSS and the journal's retained entries every `--n / --samples` reads. The
last lines compare the RSS growth over the second half of the load (after warm-up: the
interpreter, boto3 and the bounded per-region histories have filled by then), in bytes per
SC read.

Not a timed test: it prints figures, it asserts nothing. Run once:

    python bench/bench_mrsc_memory.py [--n 20000] [--samples 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

US = ("us-east-1", "us-east-2", "us-west-2")


def rss_bytes() -> int:
    """This process's resident set size, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize()


def child(n: int, samples: int, compaction: bool) -> None:
    """One load in this process; prints one JSON object per sample."""
    import gc

    from emulator import testing
    from emulator.deployment import Deployment

    with Deployment(list(US), mode="strong", latency_scale=0.0, seed=1) as d:
        d.cluster.engine_settings["mrsc_log_compaction"] = compaction
        clients = testing.create_global_table(d, "bench", mode="STRONG")
        clients[US[0]].put_item(TableName="bench", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        engine = d.cluster.regions[US[0]].tables["bench"].engine
        every = max(1, n // samples)
        for i in range(n + 1):
            if i % every == 0:
                gc.collect()
                retained = {r: sum(1 for _ in engine.durable[r].log) for r in US}
                print(json.dumps({"reads": i, "rss": rss_bytes(),
                                  "journal_last_index": engine.durable[US[0]].last_index,
                                  "journal_retained": retained}), flush=True)
            if i == n:
                break
            r = US[i % 3]
            got = clients[r].get_item(TableName="bench", Key={"pk": {"S": "k"}},
                                      ConsistentRead=True)
            if got["Item"]["v"] != {"N": "1"}:
                raise SystemExit(f"SC read {i} in {r} returned {got['Item']}")


def run(n: int, samples: int, compaction: bool) -> list[dict]:
    cmd = [sys.executable, __file__, "--child", "on" if compaction else "off",
           "--n", str(n), "--samples", str(samples)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="SC reads per load")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.n, a.samples, a.child == "on")
        return
    results = {}
    for label, compaction in (("before (no compaction)", False), ("after (compaction)", True)):
        rows = run(a.n, a.samples, compaction)
        results[label] = rows
        print(f"\n{label}: {a.n} SC reads, three-region MRSC, latency scale 0")
        print(f"{'reads':>8} {'RSS MB':>8} {'journal index':>14} {'retained entries (per region)':>30}")
        for row in rows:
            kept = "/".join(str(row["journal_retained"][r]) for r in US)
            print(f"{row['reads']:>8} {row['rss'] / 2**20:>8.1f} "
                  f"{row['journal_last_index']:>14} {kept:>30}")
    print("\nRSS growth over the second half of the load (bytes per SC read):")
    for label, rows in results.items():
        mid, last = rows[len(rows) // 2], rows[-1]
        per_read = (last["rss"] - mid["rss"]) / max(1, last["reads"] - mid["reads"])
        print(f"  {label:<24} {per_read:8.1f}")


if __name__ == "__main__":
    main()
