"""Benchmark: `gtcheck check` beside Porcupine itself, each as a whole process.

Issue 23 item 3 asks gtcheck's linearizability check, as a user runs it (interpreter
start, imports, reading the file, checking, printing), to take at most half Porcupine's
time on each of Porcupine's corpora and at most Porcupine's time on every file and
generated history. Until this benchmark the Porcupine side was never measured here;
now it is: Porcupine is built from a local copy of its source (never part of this
repository) with our own driver, bench/peers/porcupine/ (Go; see its README), and both
commands run as separate processes on the same files, interleaved (gtcheck, Porcupine,
gtcheck, ...; the order alternating by round) so that the machine's load falls on both
alike.

For every file of ../shared/peer-histories/porcupine (etcd logs: `--model cas-register
--format porcupine-etcd`; kv logs: `--model kv --format porcupine-kv`), for each corpus
as one process (every file on one command line), and for generated histories written in
Porcupine's formats (bench/bench_linearizability.py writes them: a 2,000-op single-key
kv file, a 10,000-op cas-register history with 1% crashed operations, 100,000 kv
operations over 10,000 keys; `--big` adds 100,000 cas-register operations on one key),
it prints per command the median over `--repeat` runs of the CPU time (user + system of
the process, from os.wait4) and of the wall time, the peak RSS (largest of the runs)
and the verdict (exit status 0 valid / 1 invalid / 2 unknown for both commands: they
must agree; a disagreement is printed and makes the exit status 1), and the ratio
gtcheck / Porcupine, CPU first: the machine is shared (the load average is printed
before and after), and CPU time is the steadier figure. Then per corpus the sums of the
per-file medians, and the goals.

`--baseline DIR` (a checkout of the code to compare with, e.g. `git archive BASE | tar
-x -C /tmp/base`) adds that tree's gtcheck as a third command on every file: before
and after in one run. Each tree's bytecode is compiled first and the children run
without PYTHONDONTWRITEBYTECODE, as an installed package runs.

Without `go` on PATH (or `--go`) or without Porcupine's source (`--porcupine-src`,
default $PORCUPINE_SRC or /tmp/porcupine-src) it says so, prints gtcheck's own figures
and exits 0.

    python bench/bench_vs_porcupine.py [--repeat 3] [--baseline DIR] [--only etcd,kv,generated]
                                       [--porcupine-src DIR] [--big] [--json-out F.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "peer-histories" / "porcupine"
DRIVER = REPO / "bench" / "peers" / "porcupine"
PORCUPINE_MODULE = "github.com/anishathalye/porcupine"
EXIT_VERDICT = {0: "valid", 1: "invalid", 2: "unknown"}
GO_FORMAT = {"porcupine-etcd": "etcd", "porcupine-kv": "kv"}


@dataclass
class Run:
    cpu_s: float
    wall_s: float
    rss_mb: float
    verdict: str


@dataclass
class Case:
    label: str
    group: str                  # "etcd", "kv", "generated", or "<corpus> (one process)"
    fmt: str
    model: str
    files: list[Path]
    expect: str | None = None   # the corpus's known verdict
    runs: dict[str, list[Run]] = field(default_factory=dict)


def timed(argv: list[str], *, cwd: Path, env: dict, timeout_s: float) -> Run:
    """One whole process: CPU (user + system) and peak RSS from its own rusage
    (os.wait4), wall from the parent's clock; past timeout_s the process group is
    killed and the verdict is "timeout" (the times then are lower bounds)."""
    w0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    got: dict = {}

    def reap() -> None:  # wait4 in a thread, so the parent can enforce the timeout
        _, status, usage = os.wait4(proc.pid, 0)
        got["wall"] = time.perf_counter() - w0
        got["status"], got["usage"] = status, usage

    waiter = threading.Thread(target=reap)
    waiter.start()
    waiter.join(timeout_s)
    timed_out = waiter.is_alive()
    if timed_out:
        os.killpg(proc.pid, signal.SIGKILL)
        waiter.join()
    err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    usage = got["usage"]
    code = os.waitstatus_to_exitcode(got["status"])
    verdict = "timeout" if timed_out else EXIT_VERDICT.get(code, f"exit {code}")
    if verdict.startswith("exit"):
        verdict += f" ({err.splitlines()[-1] if err else 'no message'})"
    return Run(usage.ru_utime + usage.ru_stime, got["wall"], usage.ru_maxrss / 1024,
               verdict)


def build_porcupine(go: str, src: Path, out_dir: Path) -> Path:
    """Build bench/peers/porcupine against the local Porcupine copy at `src`, offline,
    with a module file outside the repository that adds the `replace`."""
    modfile = out_dir / "porcupine-check.mod"
    modfile.write_text((DRIVER / "go.mod").read_text() +
                       f"\nreplace {PORCUPINE_MODULE} => {src}\n")
    binary = out_dir / "porcupine-check"
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    out = subprocess.run([go, "build", "-modfile", str(modfile), "-o", str(binary), "."],
                         cwd=DRIVER, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"go build failed: {out.stderr.strip()}")
    return binary


def corpus_cases() -> list[Case]:
    verdicts = json.loads((CORPUS / "verdicts.json").read_text())
    cases = []
    for sub, group, fmt, model, pattern in (
            ("jepsen", "etcd", "porcupine-etcd", "cas-register", "*.log"),
            ("kv", "kv", "porcupine-kv", "kv", "*.txt")):
        files = [p for p in sorted((CORPUS / sub).glob(pattern))
                 if p.name != "etcd_095.log"]  # empty: the cluster never started
        for f in files:
            known = verdicts[sub].get(f.name)
            cases.append(Case(f"{sub}/{f.name}", group, fmt, model, [f],
                              None if known is None else ("valid" if known else "invalid")))
        cases.append(Case(f"{sub}/ all {len(files)} files, one process",
                          f"{group} (one process)", fmt, model, files,
                          "invalid" if any(verdicts[sub][f.name] is False for f in files)
                          else "valid"))
    return cases


def generated_cases(tmp: Path, big: bool) -> list[Case]:
    # written by a child (bench_linearizability's writer), so that this process stays
    # small: its children's peak RSS must be their own
    out = subprocess.run([sys.executable, str(REPO / "bench" / "bench_linearizability.py"),
                          "--write-generated", str(tmp)], capture_output=True, text=True,
                         check=True, cwd=REPO)
    cases = []
    for label, path, fmt, model, _jsonl in json.loads(out.stdout):
        if "100,000 ops c5, one key" in label and not big:
            continue
        cases.append(Case(label, "generated", fmt, model, [Path(path)], "valid"))
    return cases


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def median_run(runs: list[Run]) -> Run:
    verdicts = {r.verdict for r in runs}
    return Run(statistics.median(r.cpu_s for r in runs),
               statistics.median(r.wall_s for r in runs), max(r.rss_mb for r in runs),
               verdicts.pop() if len(verdicts) == 1 else "/".join(sorted(verdicts)))


def compile_tree(tree: Path, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0",
                    *(str(tree / d) for d in ("gtcheck", "suite", "checkers", "results",
                                              "workloads", "nemesis", "emulator")
                      if (tree / d).is_dir())],
                   cwd=tree, env=env, stdout=subprocess.DEVNULL, check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per command and file "
                    "(median shown; default 3)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="also time this checkout's gtcheck (before / after)")
    ap.add_argument("--only", default="etcd,kv,generated",
                    help="which groups: etcd, kv, generated (default all)")
    ap.add_argument("--porcupine-src", type=Path,
                    default=Path(os.environ.get("PORCUPINE_SRC", "/tmp/porcupine-src")))
    ap.add_argument("--go", default=shutil.which("go"), help="the go command")
    ap.add_argument("--big", action="store_true",
                    help="also 100,000 cas-register operations on one key")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds per process before it is killed (default 600)")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="Porcupine's corpus directory (default: "
                         "../shared/peer-histories/porcupine beside the repository)")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args()
    if args.corpus is not None:
        global CORPUS
        CORPUS = args.corpus.resolve()
    groups = set(args.only.split(","))
    if not groups <= {"etcd", "kv", "generated"}:
        ap.error("--only: choose among etcd, kv, generated")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    trees = {"gtcheck": REPO}
    if args.baseline is not None:
        trees = {"before": args.baseline.resolve(), "gtcheck": REPO}
    for tree in trees.values():
        compile_tree(tree, env)
    load0 = os.getloadavg()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
          f"{load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}; median of {args.repeat} runs; "
          "cpu = user + system of the process")
    with tempfile.TemporaryDirectory(prefix="bench-vs-porcupine-") as d:
        tmp = Path(d)
        porcupine = None
        if not args.go:
            print("Porcupine NOT measured: no `go` command (apt-get install golang-go); "
                  "gtcheck's own figures only")
        elif not (args.porcupine_src / "checker.go").is_file():
            print(f"Porcupine NOT measured: no Porcupine source in {args.porcupine_src} "
                  "(--porcupine-src; see bench/peers/porcupine/README.md); gtcheck's "
                  "own figures only")
        else:
            porcupine = build_porcupine(args.go, args.porcupine_src.resolve(), tmp)
            gov = subprocess.run([args.go, "version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
            print(f"Porcupine from {args.porcupine_src} ({gov}), driver "
                  "bench/peers/porcupine")
        # the floor of every per-file ratio: this interpreter starting and doing nothing
        # (with the same site set-up as gtcheck), beside Porcupine's whole run on a file
        floor = median_run([timed([sys.executable, "-c", "pass"], cwd=REPO, env=env,
                                  timeout_s=args.timeout) for _ in range(max(5, args.repeat))])
        print(f"interpreter start alone (`python -c pass`): cpu {floor.cpu_s:.3f} s, wall "
              f"{floor.wall_s:.3f} s")
        cases = [c for c in corpus_cases() if c.group.split()[0] in groups]
        if "generated" in groups:
            cases += generated_cases(tmp, args.big)
        commands = list(trees) + (["porcupine"] if porcupine else [])
        ok = True
        current = None
        for case in cases:
            if case.group != current:
                current = case.group
                print(f"\n{current}")
                print(f"  {'file':46} " + " | ".join(
                    f"{c:>9}: cpu s   wall s  MB  verdict" for c in commands) +
                    ("  | cpu ratio  wall ratio" if porcupine else ""))
            argv = {}
            for name, tree in trees.items():
                argv[name] = (tree, [sys.executable, "-m", "suite.cli", "check", "--model",
                                     case.model, "--format", case.fmt,
                                     *map(str, case.files)])
            if porcupine:
                argv["porcupine"] = (REPO, [str(porcupine), "-format", GO_FORMAT[case.fmt],
                                            *map(str, case.files)])
            case.runs = {c: [] for c in commands}
            for r in range(args.repeat):
                order = commands if r % 2 == 0 else commands[::-1]
                for c in order:
                    cwd, cmd = argv[c]
                    case.runs[c].append(timed(cmd, cwd=cwd, env=env,
                                              timeout_s=args.timeout))
            med = {c: median_run(case.runs[c]) for c in commands}
            cells = " | ".join(f"{m.cpu_s:9.3f} {m.wall_s:8.3f} {m.rss_mb:4.0f}  "
                               f"{m.verdict:7}" for m in med.values())
            line = f"  {case.label[:46]:46} {cells}"
            if porcupine:
                g, p = med["gtcheck"], med["porcupine"]
                line += f"  | {ratio(g.cpu_s, p.cpu_s):6.2f}x   {ratio(g.wall_s, p.wall_s):6.2f}x"
            verdicts = {m.verdict for m in med.values()}
            if len(verdicts) > 1:
                line += "  DISAGREE"
                ok = False
            if case.expect and med["gtcheck"].verdict != case.expect:
                line += f"  (the corpus says {case.expect})"
                ok = False
            print(line, flush=True)
        load1 = os.getloadavg()
        print(f"\nload average now {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}")
        summary = summarize(cases, commands, porcupine is not None)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({
            "load_before": load0, "load_after": load1, "repeat": args.repeat,
            "commands": commands, "summary": summary, "python_start": vars(floor),
            "cases": [{"label": c.label, "group": c.group, "format": c.fmt,
                       "model": c.model, "expect": c.expect,
                       "runs": {k: [vars(r) for r in v] for k, v in c.runs.items()}}
                      for c in cases]}, indent=1))
        print(f"written: {args.json_out}")
    return 0 if ok else 1


def summarize(cases: list[Case], commands: list[str], with_porcupine: bool) -> dict:
    """Per corpus: the sums of per-file medians, the one-process row, and the goals."""
    print("\nPer corpus (sum of each file's median; and the corpus as one process)")
    summary: dict = {}
    for group in ("etcd", "kv", "generated"):
        rows = [c for c in cases if c.group == group]
        if not rows:
            continue
        sums = {c: (sum(median_run(r.runs[c]).cpu_s for r in rows),
                    sum(median_run(r.runs[c]).wall_s for r in rows)) for c in commands}
        one = next((c for c in cases if c.group == f"{group} (one process)"), None)
        entry: dict = {"files": len(rows), "sum": sums}
        text = f"  {group:9} {len(rows):3} files, sum: " + ", ".join(
            f"{c} cpu {s[0]:.3f} s wall {s[1]:.3f} s" for c, s in sums.items())
        if with_porcupine:
            ratios = [ratio(median_run(r.runs["gtcheck"]).cpu_s,
                            median_run(r.runs["porcupine"]).cpu_s) for r in rows]
            over = [r.label for r, x in zip(rows, ratios) if x > 1.0]
            entry.update(cpu_ratio=ratio(sums["gtcheck"][0], sums["porcupine"][0]),
                         wall_ratio=ratio(sums["gtcheck"][1], sums["porcupine"][1]),
                         files_over_1x=over)
            text += (f"\n  {'':9} gtcheck / Porcupine: cpu {entry['cpu_ratio']:.2f}x, wall "
                     f"{entry['wall_ratio']:.2f}x; files over 1x (cpu): {len(over)} of "
                     f"{len(rows)}")
        if one is not None:
            m = {c: median_run(one.runs[c]) for c in commands}
            entry["one_process"] = {c: vars(v) for c, v in m.items()}
            text += f"\n  {'':9} one process: " + ", ".join(
                f"{c} cpu {v.cpu_s:.3f} s wall {v.wall_s:.3f} s" for c, v in m.items())
            if with_porcupine:
                entry["one_process_cpu_ratio"] = ratio(m["gtcheck"].cpu_s, m["porcupine"].cpu_s)
                entry["one_process_wall_ratio"] = ratio(m["gtcheck"].wall_s, m["porcupine"].wall_s)
                text += (f" -> cpu {entry['one_process_cpu_ratio']:.2f}x, wall "
                         f"{entry['one_process_wall_ratio']:.2f}x (goal <= 0.5x)")
        print(text)
        summary[group] = entry
    return summary


if __name__ == "__main__":
    sys.exit(main())
