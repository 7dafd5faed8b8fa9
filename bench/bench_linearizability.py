"""Benchmark of the linearizability checker: Porcupine's corpus and generated histories.

Prints, for the 108 histories Porcupine ships (../shared/peer-histories/porcupine), the
total check time of the etcd logs (cas-register) and of the kv logs (kv, per key), with
the ratio to Porcupine's own totals on a machine of this kind (0.55 s and 0.16 s, from the
corpus README); then, for generated register and cas-register histories of 1,000, 10,000
and 100,000 operations at concurrency 5, 10 and 30 with 1% crashed operations (1,000
operations per key: 1, 10 and 100 keys), the check time and the peak resident memory.
Each generated case runs in a fresh child process (argument lists, JSON on stdout) so its
peak RSS (`resource.getrusage().ru_maxrss`) is its own. Wall time and CPU time are both
shown: the machine is shared, and CPU time is the steadier figure.

    python bench/bench_linearizability.py            # everything, a few minutes
    python bench/bench_linearizability.py --quick    # corpus + 1,000 and 10,000 ops
    python bench/bench_linearizability.py --workers 2
    python bench/bench_linearizability.py --one-key  # also all ops on a single key

The requirement checked at the end: 100,000 operations over 100 keys in under 60 s of
wall time and under 1 GB of peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checkers.linearizability import check  # noqa: E402
from checkers.linearizability.simulate import simulate  # noqa: E402
from results.formats import load  # noqa: E402

CORPUS = REPO.parent / "shared" / "peer-histories" / "porcupine"
PORCUPINE_S = {"jepsen": 0.55, "kv": 0.16}
LIMIT_S, LIMIT_MB = 60.0, 1024.0


def bench_corpus(workers: int) -> bool:
    verdicts = json.loads((CORPUS / "verdicts.json").read_text())
    all_agree = True
    print("Porcupine corpus (check time; the file reading/parsing time is shown apart)")
    for sub, fmt, model in (("jepsen", "porcupine-etcd", "cas-register"),
                            ("kv", "porcupine-kv", "kv")):
        wall = cpu = parse = 0.0
        slowest: list[tuple[float, str]] = []
        files = [n for n in sorted(verdicts[sub]) if n != "etcd_095.log"]
        for name in files:
            p0 = time.perf_counter()
            ops = load(CORPUS / sub / name, fmt)
            parse += time.perf_counter() - p0
            c0, w0 = time.process_time(), time.perf_counter()
            r = check(ops, model, workers=workers, rules="porcupine")
            w, c = time.perf_counter() - w0, time.process_time() - c0
            wall, cpu = wall + w, cpu + c
            slowest.append((w, name))
            if r["valid"] is not verdicts[sub][name]:
                all_agree = False
                print(f"  DISAGREES {name}: {r['valid']} (Porcupine {verdicts[sub][name]})")
        slowest.sort(reverse=True)
        top = ", ".join(f"{n} {w * 1000:.0f} ms" for w, n in slowest[:4])
        ref = PORCUPINE_S[sub]
        print(f"  {sub:6} {len(files):3} files  wall {wall:6.3f} s  cpu {cpu:6.3f} s  "
              f"Porcupine {ref:.2f} s  ratio wall/Porcupine {wall / ref:5.2f}x  "
              f"cpu/Porcupine {cpu / ref:5.2f}x  (slowest: {top})")
        print(f"  {'':6} parse {parse:6.3f} s  parse + check wall {parse + wall:6.3f} s  "
              f"ratio to Porcupine {(parse + wall) / ref:5.2f}x")
    print(f"  verdicts equal to Porcupine's on every file: {all_agree}")
    return all_agree


def one_case(model: str, n: int, concurrency: int, workers: int, one_key: bool) -> dict:
    keys = 1 if one_key else max(1, n // 1000)
    t0 = time.perf_counter()
    ops = simulate(model, n, random.Random(n * 31 + concurrency), concurrency=concurrency,
                   keys=keys, crash_rate=0.01, values=5)
    gen_s = time.perf_counter() - t0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c0, w0 = time.process_time(), time.perf_counter()
    r = check(ops, model, timeout=60 if one_key else 300, workers=workers)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"model": model, "ops": len(ops) // 2, "keys": keys, "concurrency": concurrency,
            "valid": r["valid"], "crashed_dropped": r["crashed_dropped"],
            "wall_s": wall, "cpu_s": cpu, "gen_s": gen_s, "rss_before_mb": rss0,
            "peak_rss_mb": max(rss, child)}


def bench_generated(sizes: list[int], workers: int, one_key: bool = False) -> bool:
    if one_key:
        print("\nGenerated histories, 1% crashed, all on ONE key (timeout 60 s -> unknown)")
    else:
        print("\nGenerated histories, 1% crashed, 1,000 ops per key "
              "(each case in a fresh process; peak = max RSS of that process)")
    print(f"  {'model':12} {'ops':>7} {'keys':>4} {'conc':>4} {'valid':>6} "
          f"{'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'dropped':>7}")
    ok = True
    for model in ("register", "cas-register"):
        for n in sizes:
            for conc in (5, 10, 30):
                argv = [sys.executable, __file__, "--one", model, str(n), str(conc),
                        "--workers", str(workers)] + (["--one-key"] if one_key else [])
                out = subprocess.run(argv, capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    print(f"  {model} {n} {conc}: FAILED\n{out.stderr}")
                    ok = False
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"  {r['model']:12} {r['ops']:7} {r['keys']:4} {r['concurrency']:4} "
                      f"{str(r['valid']):>6} {r['wall_s']:7.2f} {r['cpu_s']:7.2f} "
                      f"{r['peak_rss_mb']:8.0f} {r['crashed_dropped']:7}")
                if r["valid"] is False or (r["valid"] is not True and not one_key):
                    ok = False
                if n == 100_000 and not one_key and not (r["wall_s"] < LIMIT_S and r["peak_rss_mb"] < LIMIT_MB):
                    ok = False
                    print(f"  ^ over the limit ({LIMIT_S:.0f} s, {LIMIT_MB:.0f} MB)")
    if 100_000 in sizes and not one_key:
        print(f"\n  100,000 ops over 100 keys under {LIMIT_S:.0f} s and {LIMIT_MB:.0f} MB, "
              f"all valid: {ok}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="corpus + 1,000 and 10,000 ops")
    ap.add_argument("--workers", type=int, default=1,
                    help="worker processes over independent keys (default 1)")
    ap.add_argument("--one-key", action="store_true",
                    help="also run every generated case with all operations on one key")
    ap.add_argument("--one", nargs=3, metavar=("MODEL", "OPS", "CONCURRENCY"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        model, n, conc = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(one_case(model, n, conc, args.workers, args.one_key)))
        return 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}, workers {args.workers}")
    t0 = time.perf_counter()
    agree = bench_corpus(args.workers)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    ok = bench_generated(sizes, args.workers)
    if args.one_key:
        ok = bench_generated(sizes, args.workers, one_key=True) and ok
    print(f"\nbench total {time.perf_counter() - t0:.1f} s")
    return 0 if agree and ok else 1


if __name__ == "__main__":
    sys.exit(main())
