"""Benchmark of the linearizability checker: Porcupine's corpus and generated histories.

Every figure printed is gtcheck's own, measured here. None is Porcupine's: Porcupine itself
is measured beside gtcheck, whole process against whole process, by
bench/bench_vs_porcupine.py (Go and a local copy of Porcupine's source needed; figures in
docs/vs-porcupine.md); no Porcupine time is derived from old ratios anywhere in this file.

Prints, for the 108 histories Porcupine ships (../shared/peer-histories/porcupine), the
total check time of the etcd logs (cas-register) and of the kv logs (kv, per key), with
the reading time apart; then, for generated register and cas-register histories of 1,000,
10,000 and 100,000 operations at concurrency 5, 10 and 30 with 1% crashed operations
(1,000 operations per key: 1, 10 and 100 keys), the check time and the peak resident
memory. Each generated case runs in a fresh child process (argument lists, JSON on
stdout) so its peak RSS (`resource.getrusage().ru_maxrss`) is its own. Wall time and CPU
time are both shown: the machine is shared, and CPU time is the steadier figure.

    python bench/bench_linearizability.py            # everything, a few minutes
    python bench/bench_linearizability.py --quick    # corpus + 1,000 and 10,000 ops
    python bench/bench_linearizability.py --workers 2
    python bench/bench_linearizability.py --one-key  # also all ops on a single key

The requirement checked at the end: 100,000 operations over 100 keys in under 60 s of
wall time and under 1 GB of peak memory.

Before and after (`--issue11 --baseline DIR`, DIR a checkout of the code to compare with,
e.g. `git archive ac6b8db | tar -x -C /tmp/base`; every figure of both trees is measured
in the same run, each in a fresh child process whose imports come from that tree):
- whole process: `python -m suite.cli check` over each Porcupine corpus (etcd logs,
  kv logs), CPU time and wall time, best of 5, measured twice: as this environment runs
  Python (PYTHONDONTWRITEBYTECODE=1: every module compiled at every start; the trees'
  own __pycache__ directories, which an earlier run may have left, are removed first)
  and with bytecode cached (a normal install);
- generated classes where the search never backtracks, check time (CPU): 100,000
  register ops at concurrency 5 with 1% crashed ops on one key (and over 100 keys);
  porcupine-kv style 100,000 ops over 10,000 keys; with `--parts c50` (long: some keys
  of c50-bad alone take minutes in both trees), each key of c50-bad / c50-ok as a
  single-key history, key by key under a time limit per key (`--key-timeout S`,
  default 10);
- `--timeout 5` on a history that cannot finish: whole-process wall time minus 5 s,
  goal under 0.5 s;
- reading + validating + pairing a 1,000,000-operation gtcheck history (2,000,000
  lines over 1,000 keys): seconds and peak memory; goal well under 15 s.

gtcheck's own whole-process figures, per file (`--per-file`, issue 23 item 3): for every
file of Porcupine's corpus and for generated histories written in Porcupine's own formats
(etcd logs for registers, kv logs; so a peer can run the very same files), the CPU time
(user + system of the child) and wall time of `python -m suite.cli check --model M
--format F FILE`, best of `--repeat` runs, its peak RSS and its verdict; beside them the
CPU seconds of the same file's reading and of its check alone, in one process, read and
checked as the command does (so what start-up adds is the difference); and each corpus
as one process.

    python bench/bench_linearizability.py --per-file [--repeat 3] [--json-out F.json]
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
        print(f"  {sub:6} {len(files):3} files  check wall {wall:6.3f} s  cpu {cpu:6.3f} s  "
              f"(slowest: {top})")
        print(f"  {'':6} reading {parse:6.3f} s  reading + check wall {parse + wall:6.3f} s")
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


# --- issue 11: before/after against a baseline tree ----------------------------------

KEY_TIMEOUT_S = 10.0                             # per key, in the c50 part

_CHILD = r"""
import json, resource, sys, time, inspect
sys.path.insert(0, sys.argv[1])
from results.formats import load
from checkers.linearizability import check
path, fmt, model, partition, timeout, split, repeat = sys.argv[2:9]
ops = load(path, fmt)
kw = {"partition": partition == "1", "timeout": float(timeout)}
if "rules" in inspect.signature(check).parameters:
    kw["rules"] = "porcupine" if fmt.startswith("porcupine") else "dynamodb"
histories = [ops]
if split == "1":  # every key's operations as a history of its own
    by_key = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    histories = list(by_key.values())
c0, w0 = time.process_time(), time.perf_counter()
per = []  # (key, cpu s, verdict) of each history, from the last repeat
for _ in range(int(repeat)):
    verdicts, per = [], []
    for h in histories:
        k0 = time.process_time()
        verdicts.append(check(h, model, **kw)["valid"])
        per.append((str(h[0].key), time.process_time() - k0, verdicts[-1]))
valid = False if False in verdicts else (True if all(v is True for v in verdicts)
                                         else "unknown")
print(json.dumps({"cpu": (time.process_time() - c0) / int(repeat),
                  "wall": (time.perf_counter() - w0) / int(repeat), "valid": valid,
                  "per": per,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_READER = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from results.history import pair, read_jsonl
c0, w0 = time.process_time(), time.perf_counter()
ops = read_jsonl(sys.argv[2])
pairs = pair(ops)
print(json.dumps({"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0,
                  "ops": len(ops), "pairs": len(pairs),
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, tree: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(tree), *args], capture_output=True,
                         text=True, check=False, cwd=tree)
    if out.returncode != 0:
        raise RuntimeError(f"child failed in {tree}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _whole(tree: Path, argv: list[str], env: dict, n: int = 5) -> tuple[float, float]:
    """Best-of-n CPU (user+sys of the child) and wall time of one command, in `tree`."""
    first = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True,
                           check=False)
    if first.returncode not in (0, 1) or not first.stdout.strip():
        raise RuntimeError(f"{' '.join(argv[:8])} ... in {tree} exited "
                           f"{first.returncode}: {first.stderr[-500:]}")
    best_cpu = best_wall = float("inf")
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - w0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        best_wall = min(best_wall, wall)
    return best_cpu, best_wall


def _drop_bytecode(tree: Path) -> None:
    """Remove the tree's own __pycache__ directories (not those of a virtualenv or other
    hidden directories inside it: installed packages keep theirs, as installed)."""
    import shutil
    for d in sorted(tree.rglob("__pycache__")):
        rel = d.relative_to(tree).parts
        if not any(p.startswith(".") for p in rel) and d.is_dir():
            shutil.rmtree(d)


def bench_whole_process(trees: dict[str, Path]) -> bool:
    etcd = [str(p) for p in sorted((CORPUS / "jepsen").glob("*.log"))
            if p.name != "etcd_095.log"]
    kv = [str(p) for p in sorted((CORPUS / "kv").glob("*.txt"))]
    if len(etcd) != 102 or len(kv) != 6:
        raise RuntimeError(f"the Porcupine corpus is not at {CORPUS} (use --corpus)")
    cmds = {"etcd": ["check", "--model", "cas-register", "--format", "porcupine-etcd", *etcd],
            "kv": ["check", "--model", "kv", "--format", "porcupine-kv", *kv]}
    print("\nWhole process: python -m suite.cli check over each corpus (best of 5)")
    ok = True
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for label, env in (("as this environment runs (no bytecode cache)", dict(os.environ)),
                       ("bytecode cached (a normal install)", cached)):
        print(f"  {label}:")
        if env is not cached:  # caches a previous run wrote would still be read
            for tree in trees.values():
                _drop_bytecode(tree)
        if env is cached:  # write the caches once, in both trees
            for tree in trees.values():
                subprocess.run([sys.executable, "-m", "suite.cli", "check", "--help"],
                               cwd=tree, env=env, stdout=subprocess.DEVNULL, check=False)
                subprocess.run([sys.executable, "-m", "suite.cli", *cmds["kv"][:5], kv[0]],
                               cwd=tree, env=env, stdout=subprocess.DEVNULL, check=False)
        for corpus, cmd in cmds.items():
            got = {name: _whole(tree, [sys.executable, "-m", "suite.cli", *cmd], env)
                   for name, tree in trees.items()}
            base_cpu, base_wall = got["baseline"]
            now_cpu, now_wall = got["current"]
            print(f"    {corpus:4}  baseline cpu {base_cpu:.3f} s wall {base_wall:.3f} s | "
                  f"current cpu {now_cpu:.3f} s wall {now_wall:.3f} s | current/baseline cpu "
                  f"{now_cpu / base_cpu:.2f}x")
    return ok


def _write(ops: list, path: Path) -> None:
    from results.history import write_jsonl
    write_jsonl(path, ops)


def bench_generated_classes(trees: dict[str, Path], tmp: Path,
                            one_key_c50: bool = False) -> bool:
    if one_key_c50:  # long: some keys of c50-bad take minutes alone in both trees
        print("\nSingle-key kv c50 (each key of the file as a history of its own, check "
              "time in a child process)")
        return _run_c50_per_key(trees)
    print("\nGenerated classes where the search never backtracks (check time in a child "
          "process; CPU s, best of 2)")
    cases = []  # label, file, format, model, partition, split, repeat
    _generated_cases(cases, tmp)
    return _run_cases(trees, cases)


def _run_c50_per_key(trees: dict[str, Path]) -> bool:
    """Each key of c50-bad / c50-ok as a single-key history, under a time limit per
    key (KEY_TIMEOUT_S, `--key-timeout`): per key CPU s and verdict in both trees; the
    verdicts must agree on the keys both trees finished."""
    ok = True
    print(f"  (time limit {KEY_TIMEOUT_S:g} s per key; 'unknown' = over it; CPU s, "
          "best of 3 runs per key)")
    for name in ("c50-bad.txt", "c50-ok.txt"):
        got = {}
        for t, tree in trees.items():
            runs = [_child(_CHILD, tree, str(CORPUS / "kv" / name), "porcupine-kv", "kv",
                           "1", str(KEY_TIMEOUT_S), "1", "1")["per"] for _ in range(3)]
            got[t] = [(k, min(r[i][1] for r in runs), v)
                      for i, (k, _, v) in enumerate(runs[0])]
        base = {k: (c, v) for k, c, v in got["baseline"]}
        print(f"  kv {name}, each key as a single-key history")
        sum_b = sum_n = 0.0
        for k, c, v in got["current"]:
            bc, bv = base[k]
            line = (f"    key {k:>3}  baseline {bc:7.3f} s ({bv})  current {c:7.3f} s ({v})")
            if bv != "unknown" and v != "unknown":
                sum_b, sum_n = sum_b + bc, sum_n + c
                ok = ok and v == bv
                line += f"  current/baseline {c / bc:5.2f}x"
            print(line)
        if sum_b > 0:
            print(f"    keys finished in both: baseline {sum_b:.3f} s  current "
                  f"{sum_n:.3f} s  current/baseline {sum_n / sum_b:.2f}x")
    return ok


def _generated_cases(cases: list, tmp: Path) -> None:
    ops = simulate("register", 100_000, random.Random(100_000 * 31 + 5), concurrency=5,
                   keys=1, crash_rate=0.01, values=5)
    _write(ops, tmp / "reg100k-1.jsonl")
    cases.append(("register 100,000 ops c5 1% crashed, one key", tmp / "reg100k-1.jsonl",
                  "jsonl", "register", "1", "0", "1"))
    ops = simulate("register", 100_000, random.Random(100_000 * 31 + 5), concurrency=5,
                   keys=100, crash_rate=0.01, values=5)
    _write(ops, tmp / "reg100k.jsonl")
    cases.append(("register 100,000 ops c5 1% crashed, 100 keys", tmp / "reg100k.jsonl",
                  "jsonl", "register", "1", "0", "1"))
    ops = simulate("kv", 100_000, random.Random(7), concurrency=5, keys=10_000,
                   crash_rate=0.0, values=5)
    _write(ops, tmp / "kv100k.jsonl")
    cases.append(("kv 100,000 ops over 10,000 keys", tmp / "kv100k.jsonl", "jsonl", "kv",
                  "1", "0", "1"))


def _run_cases(trees: dict[str, Path], cases: list) -> bool:
    ok = True
    for label, path, fmt, model, part, split, repeat in cases:
        got = {}
        for name, tree in trees.items():
            runs = [_child(_CHILD, tree, str(path), fmt, model, part, "300", split, repeat)
                    for _ in range(2)]
            got[name] = min(runs, key=lambda r: r["cpu"])
        base, now = got["baseline"], got["current"]
        line = (f"  {label}\n    baseline {base['cpu']:.3f} s ({base['valid']})  current "
                f"{now['cpu']:.3f} s ({now['valid']}, wall {now['wall']:.2f} s, peak "
                f"{now['rss']:.0f} MB)  current/baseline {now['cpu'] / base['cpu']:.2f}x")
        ok = ok and now["valid"] == base["valid"]
        print(line)
    return ok


def bench_timeout(trees: dict[str, Path], tmp: Path, limit: float = 5.0) -> bool:
    ops = simulate("register", 100_000, random.Random(5), concurrency=30, keys=1,
                   crash_rate=0.01, values=5)
    path = tmp / "reg100k_c30_one_key.jsonl"
    _write(ops, path)
    print(f"\n--timeout {limit:g} on 100,000 register ops at concurrency 30 on one key "
          "(whole process, wall time)")
    ok = True
    for name, tree in trees.items():
        w0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "suite.cli", "check", "--model",
                              "register", "--timeout", str(limit), str(path)], cwd=tree,
                             capture_output=True, text=True, check=False)
        wall = time.perf_counter() - w0
        verdict = out.stdout.split("\t")[1] if "\t" in out.stdout else out.stderr.strip()
        print(f"  {name:8}  {verdict}  wall {wall:.2f} s  over the timeout by "
              f"{wall - limit:+.2f} s (goal < 0.5 s)")
        if name == "current":
            ok = wall - limit < 0.5
    return ok


def _gtcheck_history(path: Path, n_ops: int, keys: int = 1000, conc: int = 50,
                     seed: int = 1) -> None:
    """A gtcheck-shaped register history: n_ops operations (2 lines each) over `keys`
    keys in three regions, SC and EC reads, 1% crashed (fresh process after each)."""
    rng = random.Random(seed)
    regions = ("us-east-1", "us-east-2", "us-west-2")
    t, index, done = 0, 0, 0
    pending: dict[int, tuple] = {}
    procs, next_p = list(range(conc)), conc
    with open(path, "w", encoding="utf-8") as fh:
        while done < n_ops or pending:
            slot = rng.randrange(conc)
            p = procs[slot]
            t += rng.randrange(1000, 100000)
            d: dict = {"index": index, "time": t}
            if p in pending:
                f, key, value, region, sc = pending.pop(p)
                typ = "ok" if rng.random() > 0.01 else "info"
                d.update(type=typ, process=p, f=f, key=key)
                if f == "write" or (typ == "ok" and f == "read"):
                    d["value"] = value if f == "write" else rng.randrange(100)
                d["region"] = region
                if f == "read":
                    d["consistent"] = sc
                if typ == "info":
                    d["error"] = "timeout"
                    procs[slot], next_p = next_p, next_p + 1
                done += 1
            elif done + len(pending) < n_ops:
                f = rng.choice(("read", "write", "read"))
                key, region = f"k{rng.randrange(keys)}", regions[slot % 3]
                value, sc = (rng.randrange(100) if f == "write" else None), rng.random() < .7
                pending[p] = (f, key, value, region, sc)
                d.update(type="invoke", process=p, f=f, key=key)
                if value is not None:
                    d["value"] = value
                d["region"] = region
                if f == "read":
                    d["consistent"] = sc
            else:
                continue
            fh.write(json.dumps(d, separators=(",", ":")) + "\n")
            index += 1


def bench_reading(trees: dict[str, Path], tmp: Path, n_ops: int = 1_000_000) -> bool:
    path = tmp / "history-1m.jsonl"
    _gtcheck_history(path, n_ops)
    size = path.stat().st_size / 2**20
    print(f"\nReading + validating + pairing a gtcheck history of {n_ops:,} operations "
          f"({size:.0f} MB, 1,000 keys)")
    ok = True
    for name, tree in trees.items():
        r = _child(_READER, tree, str(path))
        print(f"  {name:8}  cpu {r['cpu']:.2f} s  wall {r['wall']:.2f} s  peak "
              f"{r['rss']:.0f} MB  ({r['ops']:,} records, {r['pairs']:,} pairs)")
        if name == "current":
            ok = r["wall"] < 15.0
    return ok


PARTS = ("whole", "generated", "timeout", "reading", "c50")


def bench_issue11(baseline: Path, parts: tuple[str, ...] = PARTS) -> bool:
    import tempfile
    trees = {"baseline": baseline.resolve(), "current": REPO}
    print(f"Issue 11: baseline tree {trees['baseline']}, current tree {REPO}; load "
          f"average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        run = {"whole": ("whole process", lambda: bench_whole_process(trees)),
               "generated": ("generated classes",
                             lambda: bench_generated_classes(trees, tmp)),
               "c50": ("single-key c50", lambda: bench_generated_classes(
                   trees, tmp, one_key_c50=True)),
               "timeout": ("timeout", lambda: bench_timeout(trees, tmp)),
               "reading": ("reading 1M ops", lambda: bench_reading(trees, tmp))}
        results = {run[p][0]: run[p][1]() for p in parts}
    print("\nIssue 11 goals met: " + ", ".join(f"{k} {v}" for k, v in results.items()))
    return all(results.values())


# --- gtcheck's own whole-process figures, per file (issue 23 item 3) ---------------------

def _etcd_line(op) -> str:
    """One op as a line of Porcupine's etcd logs (cas-register)."""
    v = op.value
    if op.type == "info":
        text = ":timed-out"
    elif op.f == "cas":
        text = f"[{v[0]} {v[1]}]"
    else:
        text = "nil" if v is None else str(v)
    return f"INFO  jepsen.util - {op.process}\t:{op.type}\t:{op.f}\t{text}\n"


def _kv_line(op) -> str:
    """One op as a line of Porcupine's kv logs."""
    value = "nil" if op.value is None else json.dumps(op.value)
    return (f"{{:process {op.process}, :type :{op.type}, :f :{op.f}, :key "
            f"{json.dumps(op.key)}, :value {value}}}\n")


def _porcupine_files(tmp: Path) -> list[tuple[str, Path, str, str, Path]]:
    """Generated histories, each written in Porcupine's format and as gtcheck's JSONL:
    (label, Porcupine-format file, format, model, JSONL file)."""
    from results.history import write_jsonl
    cases = []
    for label, model, fmt, n, keys, crash, seed in (
            ("kv 2,000 ops, one key", "kv", "porcupine-kv", 2_000, 1, 0.0, 11),
            ("kv 100,000 ops over 10,000 keys", "kv", "porcupine-kv", 100_000, 10_000,
             0.0, 7),
            ("cas-register 10,000 ops c5, one key, 1% crashed", "cas-register",
             "porcupine-etcd", 10_000, 1, 0.01, 12),
            ("cas-register 100,000 ops c5, one key, 1% crashed", "cas-register",
             "porcupine-etcd", 100_000, 1, 0.01, 13)):
        ops = simulate(model, n, random.Random(seed), concurrency=5, keys=keys,
                       crash_rate=crash, values=5)
        stem = f"{model}-{n}-{keys}"
        path, jsonl = tmp / f"{stem}.{'log' if fmt == 'porcupine-etcd' else 'txt'}", \
            tmp / f"{stem}.jsonl"
        line = _etcd_line if fmt == "porcupine-etcd" else _kv_line
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(line(op) for op in ops)  # file order is time order
        write_jsonl(jsonl, ops)
        cases.append((label, path, fmt, model, jsonl))
    return cases


def _verdict(argv: list[str], env: dict) -> str:
    out = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                         check=False)
    return {0: "valid", 1: "invalid", 2: "unknown"}.get(out.returncode,
                                                          f"exit {out.returncode}")


def _whole_rss(argv: list[str], env: dict, n: int) -> tuple[float, float, float]:
    """Best-of-n CPU (user + system) and wall time of one command, and its peak RSS in
    MB, each run measured by os.wait4 (its own rusage, not the children's maximum)."""
    best_cpu = best_wall = float("inf")
    rss = 0.0
    for _ in range(n):
        w0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss / 1024)
    return best_cpu, best_wall, rss


# The files of one row read and checked in one process, as `gtcheck check` reads and
# checks each file (suite/check_cmd.py: the reading with the collector paused and the
# history frozen, then the search with Porcupine's rules and one counterexample): the
# CPU seconds of the reading and of the check alone, summed over the row's files; best
# of `repeat`.
_IN_PROCESS = r"""
import contextlib, gc, json, sys, time
sys.path.insert(0, sys.argv[1])
from checkers.linearizability import check
from checkers.linearizability.rules import FORMAT_RULES
from results import formats
from suite import check_cmd
reading = getattr(check_cmd, "history_reading", None)
fmt, model, repeat, files = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
best = None
for _ in range(repeat):
    read = judged = 0.0
    for path in files:
        c0 = time.process_time()
        with (reading(freeze=True) if reading else contextlib.nullcontext()):
            ops = formats.load(path, fmt)
        c1 = time.process_time()
        check(ops, model, partition=True, rules=FORMAT_RULES[fmt], counterexamples=1)
        judged += time.process_time() - c1
        read += c1 - c0
        del ops
        gc.unfreeze()  # as check_files does after each file
    if best is None or read + judged < sum(best):
        best = (read, judged)
print(json.dumps({"read": best[0], "check": best[1]}))
"""


def bench_per_file(repeat: int, json_out: Path | None) -> bool:
    """Whole-process CPU and wall time of `gtcheck check` per file (module docstring)."""
    import tempfile
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    gtcheck = [sys.executable, "-m", "suite.cli", "check"]
    subprocess.run([*gtcheck, "--help"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                   check=False)  # bytecode cached, as a normal install has it
    verdicts = json.loads((CORPUS / "verdicts.json").read_text())
    rows: list[dict] = []
    ok = True

    def measure(label: str, files: list[Path], fmt: str, model: str, expect=None):
        nonlocal ok
        argv = [*gtcheck, "--model", model, "--format", fmt, *map(str, files)]
        verdict = _verdict(argv, env)
        cpu, wall, rss = _whole_rss(argv, env, repeat)
        inside = _child(_IN_PROCESS, REPO, fmt, model, str(repeat), *map(str, files))
        row = {"file": label, "format": fmt, "model": model, "verdict": verdict,
               "cpu_s": round(cpu, 4), "wall_s": round(wall, 4), "rss_mb": round(rss, 1),
               "read_cpu_s": round(inside["read"], 4),
               "check_cpu_s": round(inside["check"], 4)}
        if expect is not None:
            row["expected"] = expect
            ok = ok and verdict == expect
        rows.append(row)
        mark = "" if expect is None or expect == verdict else f"  (expected {expect})"
        print(f"  {label:58} {verdict:8} cpu {cpu:7.3f} s  wall {wall:7.3f} s  peak "
              f"{rss:5.0f} MB | in one process, CPU: reading {inside['read']:7.3f} s  "
              f"check alone {inside['check']:7.3f} s{mark}")

    print(f"gtcheck's whole process per file: `python -m suite.cli check --model M --format "
          f"F FILE`, best of {repeat}, bytecode cached (CPU, wall, peak RSS); beside it, "
          "the CPU of the same file's reading and of its check alone, in one process "
          f"(as gtcheck check does them). Load average {os.getloadavg()[0]:.1f}. No Porcupine "
          "figures: measure them outside the project and set them beside these.")
    for sub, fmt, model, pattern in (("jepsen", "porcupine-etcd", "cas-register", "*.log"),
                                     ("kv", "porcupine-kv", "kv", "*.txt")):
        files = [p for p in sorted((CORPUS / sub).glob(pattern)) if p.name != "etcd_095.log"]
        print(f"\nPorcupine corpus {sub}/ ({len(files)} files; --model {model} --format "
              f"{fmt})")
        for f in files:
            want = verdicts[sub].get(f.name)
            expect = None if want is None else ("valid" if want in (True, "ok", "valid")
                                                else "invalid")
            measure(f"{sub}/{f.name}", [f], fmt, model, expect)
        measure(f"{sub}/ (all {len(files)} files, one process)", files, fmt, model)
    with tempfile.TemporaryDirectory() as d:
        print("\nGenerated histories (simulated, linearizable; written in Porcupine's "
              "format, the same operations as gtcheck JSONL beside)")
        # written by a child: a child's peak RSS starts at its parent's size (Linux keeps
        # the high-water mark across fork and exec), so this process stays small
        out = subprocess.run([sys.executable, __file__, "--write-generated", d],
                             check=True, capture_output=True, text=True)
        for label, path, fmt, model, jsonl in json.loads(out.stdout):
            path, jsonl = Path(path), Path(jsonl)
            same = _verdict([*gtcheck, "--model", model, str(jsonl)], env)
            measure(f"{label} [{path.name}]", [path], fmt, model, expect="valid")
            if same != rows[-1]["verdict"]:
                print(f"    the JSONL of the same operations is {same}")
                ok = False
    if json_out is not None:
        json_out.write_text(json.dumps({"load_average": os.getloadavg()[0],
                                        "repeat": repeat, "rows": rows}, indent=1))
        print(f"\nwritten: {json_out}")
    return ok


def main() -> int:
    global CORPUS, KEY_TIMEOUT_S
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="corpus + 1,000 and 10,000 ops")
    ap.add_argument("--workers", type=int, default=1,
                    help="worker processes over independent keys (default 1)")
    ap.add_argument("--one-key", action="store_true",
                    help="also run every generated case with all operations on one key")
    ap.add_argument("--one", nargs=3, metavar=("MODEL", "OPS", "CONCURRENCY"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--issue11", action="store_true",
                    help="only issue 11's before/after figures (needs --baseline)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="a checkout of the code to compare with (e.g. main's commit)")
    ap.add_argument("--parts", default="whole,generated,timeout,reading",
                    help=f"with --issue11: which figures, among {','.join(PARTS)} "
                         "(default: all but c50)")
    ap.add_argument("--key-timeout", type=float, default=KEY_TIMEOUT_S, metavar="S",
                    help="with --parts c50: time limit per key, in seconds (default "
                         f"{KEY_TIMEOUT_S:g})")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="the Porcupine corpus directory (default: "
                         "../shared/peer-histories/porcupine beside the repository)")
    ap.add_argument("--per-file", action="store_true",
                    help="only gtcheck's whole-process figures per corpus file and per "
                         "generated history (issue 23 item 3)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="with --per-file: runs per file, the best one shown (default 3)")
    ap.add_argument("--json-out", type=Path, default=None,
                    help="with --per-file: also write the figures to this JSON file")
    ap.add_argument("--write-generated", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_generated:
        print(json.dumps([[label, str(path), fmt, model, str(jsonl)] for
                          label, path, fmt, model, jsonl in
                          _porcupine_files(Path(args.write_generated))]))
        return 0
    if args.corpus is not None:
        CORPUS = args.corpus.resolve()
    if args.per_file:
        return 0 if bench_per_file(max(1, args.repeat), args.json_out) else 1
    if args.issue11:
        KEY_TIMEOUT_S = args.key_timeout
        if args.baseline is None:
            ap.error("--issue11 needs --baseline DIR")
        parts = tuple(p for p in args.parts.split(",") if p)
        if not set(parts) <= set(PARTS):  # (c50 only when named: it takes long)
            ap.error(f"--parts: choose among {','.join(PARTS)}")
        return 0 if bench_issue11(args.baseline, parts) else 1
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
