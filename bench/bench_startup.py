"""Benchmark: what a user waits for before anything happens -- every `--help`, and a short
`gtcheck run` from the shell prompt back to the prompt, phase by phase.

Each figure is the wall time of a fresh process (median of `--repeat` runs for the help
texts) and its CPU seconds, for the code in each `--code` directory (the default: this
checkout), so a baseline checkout prints beside this one (`git archive BASE | tar -x -C
/tmp/base`, then `--code /tmp/base,.`):

    python bench/bench_startup.py [--code /tmp/base,.] [--repeat 5] [--run-seconds 2]
                                  [--run-repeat 5] [--importtime] [--realtime]

For the run (`gtcheck run --time-limit 2 --final-wait 0 --seed 3`) it prints where each
second goes: the child runs under a launcher that first imports what a run imports (the
"imports" phase), then wraps the run's stages (suite.core, the emulator target, the
runner, the report, the plots) to time each one, wall and CPU of the process: interpreter
start, imports, set-up, emulator start, endpoint clients, table creation, warm-up (client
threads), main phase, final phase (heal, final reads), item versions, table deletion,
checking, report, waiting for the plot child, exit; and, when the run did not wait for
its plots (a command's last run does not), how long the plot child went on drawing after
the exit (wall, and its CPU read from /proc). What no stage accounts for is shown as a
gap. With `--run-repeat N` (default 1) the run is made N times per checkout and
each stage's figures are the median of the N (the wall times of all N are listed
too). `--importtime` also prints, per `--help`, its five most expensive imports
(`python -X importtime`). Goals (issue 23 item 3): every `--help` at most 0.1 s; a 2 s run
at most 3 s wall. The machine is shared: the load average is printed with the figures,
and `--realtime` runs every measured child under `chrt -r 10` (round-robin real-time
priority, root or CAP_SYS_NICE needed), which keeps other users' processes off the CPUs
it needs: the nearest this shared machine comes to a quiet one (CPU seconds are the
steadier figure either way). Each tree's bytecode is cached first (`compileall`, as an
installed package has it): this environment sets PYTHONDONTWRITEBYTECODE, under which
every start would compile every module again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELPS = (["--help"], ["run", "--help"], ["check", "--help"], ["analyze", "--help"],
         ["emulator", "--help"], ["report", "--help"], ["serve", "--help"],
         ["validate", "--help"], ["test-all", "--help"], ["conform", "--help"],
         ["aws", "--help"], ["worker", "--help"])
LAUNCH = "import sys; sys.argv[0] = 'gtcheck'; from suite.cli import main; main()"
REALTIME = ["chrt", "-r", "10"]

# The run's launcher (a child process, the tree under test first on sys.path): import what
# a run imports, then time each stage by wrapping it, then run `gtcheck run` as the shell
# would; the stages go to the file named by GTCHECK_PHASES as JSON. A stage a tree does
# not have is skipped (older trees).
PHASED = r"""
import json, os, sys, time
T0 = time.monotonic()
SPANS = []

def span(label, w0, c0):
    SPANS.append((label, w0, time.monotonic(), time.process_time() - c0))

w, c = time.monotonic(), time.process_time()
import suite.cli
from suite import core, registry
registry.load_plugins()
import boto3, emulator.deployment, results.plot_worker, results.report, suite.runner
import workloads.after_run
from suite.targets.emulator import EmulatorTarget
span("imports (what a run imports)", w, c)

def wrap(owner, name, label):
    fn = getattr(owner, name, None)
    if fn is None:
        return
    def timed(*a, **k):
        w0, c0 = time.monotonic(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            span(label() if callable(label) else label, w0, c0)
    setattr(owner, name, timed)

phases = iter(["main phase", "final phase (heal, final reads)"])
wrap(core, "prepare", "prepare (names, target object)")
wrap(core, "_online_checker", "online checker set-up")
wrap(emulator.deployment.Deployment, "start", "emulator start")
wrap(EmulatorTarget, "setup", "target set-up (emulator start, endpoint clients, probe)")
wrap(EmulatorTarget, "create_table", "table creation")
wrap(suite.runner.Runner, "start_workers", "warm-up (client threads open)")
wrap(suite.runner.Runner, "interpret", lambda: next(phases, "phase"))
wrap(EmulatorTarget, "versions", "item versions")
wrap(EmulatorTarget, "delete_table", "table deletion")
wrap(EmulatorTarget, "teardown", "emulator stop")
wrap(core, "judge", "checking")
wrap(workloads.after_run, "after_run", "report (workload summary, report.html)")
wrap(core, "summary", "verdict summary")
wrap(workloads.after_run, "plot_lines", "plots (waiting for the plot child)")
wrap(results.plot_worker.PlotWorker, "close", "plot child exit")
sys.argv[0] = "gtcheck"
try:
    suite.cli.main()
finally:
    with open(os.environ["GTCHECK_PHASES"], "w") as fh:
        json.dump({"start": T0, "end": time.monotonic(), "cpu": time.process_time(),
                   "spans": SPANS}, fh)
"""


def gtcheck(code: Path, args: list[str], prefix: list[str] = ()) -> tuple[float, float, int,
                                                                         str]:
    """(wall s, CPU s of the child, exit status, its stderr) of one gtcheck process."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*prefix, sys.executable, "-c", LAUNCH, *args], env=env,
                                cwd=code, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status), text


def helps(code: Path, repeat: int, prefix: list[str]) -> dict[str, tuple[float, float]]:
    """gtcheck ARGS -> (median wall s, median CPU s)."""
    out = {}
    for args in HELPS:
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu, status, err = gtcheck(code, args, prefix)
            if status != 0:
                raise SystemExit(f"{code}: gtcheck {' '.join(args)} failed: {err}")
            walls.append(wall)
            cpus.append(cpu)
        out[" ".join(args)] = (statistics.median(walls), statistics.median(cpus))
    return out


def top_imports(code: Path, args: list[str], n: int = 5) -> list[tuple[str, float]]:
    """The `n` top-level imports of `gtcheck ARGS` that take longest (cumulative ms)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", LAUNCH, *args],
                          env=env, cwd=code, capture_output=True, text=True, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # top level only
            rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:n]


def phased_run(code: Path, seconds: float, prefix: list[str]) -> dict:
    """One `gtcheck run --time-limit SECONDS --final-wait 0` under the PHASED launcher:
    its wall and CPU (the plot child's included), each stage, and the gaps between."""
    with tempfile.TemporaryDirectory() as tmp:
        launcher = Path(tmp) / "phased.py"
        launcher.write_text(PHASED)
        env = {**os.environ, "PYTHONPATH": str(code), "GTCHECK_PHASES": f"{tmp}/phases.json"}
        t0 = time.monotonic()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errf:
            proc = subprocess.Popen([*prefix, sys.executable, str(launcher), "run",
                                     "--time-limit", str(seconds), "--final-wait", "0",
                                     "--seed", "3", "--store", f"{tmp}/store"], env=env,
                                    cwd=code, stdout=out, stderr=errf)
            _, status, usage = os.wait4(proc.pid, 0)
            t1 = time.monotonic()
            errf.seek(0)
            out.seek(0)
            err = errf.read().decode(errors="replace")
            said = out.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) not in (0, 1, 2):
            raise SystemExit(f"{code}: gtcheck run failed: {err[-2000:]}")
        d = json.loads(Path(f"{tmp}/phases.json").read_text())
        # A run that did not wait for its plots says which process draws them: wait for
        # it here (its files are part of the run), and say when they were written.
        drawn = re.search(r"being drawn by process (\d+)", said)
        t_plots, left_cpu = wait_gone(int(drawn.group(1))) if drawn else (None, 0.0)
    rows = [("interpreter start", 0.0, d["start"] - t0, None)]
    rows += [(label, a - t0, b - a, cpu) for label, a, b, cpu in
             sorted(d["spans"], key=lambda s: (s[1], -s[2]))]
    rows.append(("exit", d["end"] - t0, t1 - d["end"], None))
    if t_plots is not None:
        rows.append(("(after the exit) the plot child still drawing", t1 - t0,
                     t_plots - t1, left_cpu))
    return {"wall_s": t1 - t0, "cpu_s": usage.ru_utime + usage.ru_stime + left_cpu,
            "parent_cpu_s": d["cpu"], "rows": rows}


def median_run(runs: list[dict]) -> dict:
    """One run's figures from several: each total and each stage's start, wall and CPU
    the median over the runs (stages matched by label and order); `walls` lists them."""
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    labels = [r["rows"] for r in runs]
    rows = []
    for i, (label, *_rest) in enumerate(labels[0]):
        same = [rs[i] for rs in labels if i < len(rs) and rs[i][0] == label]
        rows.append((label, med([x[1] for x in same]), med([x[2] for x in same]),
                     med([x[3] for x in same])))
    return {"wall_s": med([r["wall_s"] for r in runs]),
            "cpu_s": med([r["cpu_s"] for r in runs]),
            "parent_cpu_s": med([r["parent_cpu_s"] for r in runs]),
            "rows": rows, "walls": [r["wall_s"] for r in runs]}


def wait_gone(pid: int, limit_s: float = 60.0) -> tuple[float, float]:
    """Poll until process `pid` (not our child: the run's, left drawing) has exited: the
    monotonic time it was seen gone, and its CPU seconds as last seen (/proc; not in our
    rusage, since we are not its parent)."""
    deadline = time.monotonic() + limit_s
    tick = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            break
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15)
        if fields[0] in ("Z", "X"):  # exited; whoever adopted it has not reaped it yet
            break
        time.sleep(0.005)
    return time.monotonic(), cpu


def print_phases(name: str, r: dict, seconds: float) -> None:
    walls = r.get("walls") or [r["wall_s"]]
    print(f"\n{name}: gtcheck run --time-limit {seconds:g} --final-wait 0 --seed 3: wall "
          f"{r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s (this process "
          f"{r['parent_cpu_s']:.2f}, the rest its plot child, also after the exit)"
          + (f"; median of {len(walls)} runs, walls "
             + ", ".join(f"{w:.2f}" for w in walls) + " s" if len(walls) > 1 else ""))
    print(f"  {'at s':>6} {'wall s':>7} {'CPU s':>6}  stage")
    nested = ("emulator start",)  # inside the target set-up
    covered = 0.0  # the end of the last top-level stage: what lies between is a gap
    for label, at, wall, cpu in r["rows"]:
        inner = label.startswith(nested)
        if not inner and at - covered > 0.005:
            print(f"  {covered:6.2f} {at - covered:7.2f} {'':>6}  (gap: no stage timed)")
        print(f"  {at:6.2f} {wall:7.2f} {'' if cpu is None else f'{cpu:6.2f}':>6}  "
              f"{'  ' if inner else ''}{label}")
        if not inner:
            covered = max(covered, at + wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", default=".", help="comma-separated checkouts to measure")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each --help (median); 0: no --help figures")
    ap.add_argument("--run-seconds", type=float, default=2.0)
    ap.add_argument("--run-repeat", type=int, default=1,
                    help="runs per checkout; the figures are their medians")
    ap.add_argument("--importtime", action="store_true",
                    help="also the five most expensive imports of every --help")
    ap.add_argument("--realtime", action="store_true",
                    help="run the measured processes under `chrt -r 10` (see above)")
    a = ap.parse_args()
    prefix = REALTIME if a.realtime else []
    codes = [Path(c).resolve() for c in a.code.split(",")]
    for c in codes:  # bytecode cached, as a normal install has it (module docstring)
        subprocess.run([sys.executable, "-m", "compileall", "-q", *[
            str(c / d) for d in ("gtcheck", "suite", "results", "checkers", "workloads",
                                 "nemesis", "emulator") if (c / d).is_dir()]],
            check=True, stdout=subprocess.DEVNULL)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}"
          + ("; children under chrt -r 10" if a.realtime else ""))
    width = max(len(" ".join(h)) for h in HELPS)
    if a.repeat > 0:  # --repeat 0: the run only
        results = {c: helps(c, a.repeat, prefix) for c in codes}
        print(f"{'median of %d: wall s / CPU s' % a.repeat:<{width + 10}}"
              + "".join(f"{c.name:>20}" for c in codes))
        for k in results[codes[0]]:
            print(f"gtcheck {k:<{width + 2}}" + "".join(
                f"{results[c][k][0]:>11.3f} /{results[c][k][1]:>6.3f}" for c in codes))
    if a.importtime:
        for c in codes:
            print(f"\n{c.name}: the five most expensive imports of each --help "
                  "(cumulative ms, python -X importtime, one run)")
            for args in HELPS:
                tops = ", ".join(f"{n} {ms:.1f}" for n, ms in top_imports(c, args))
                print(f"  gtcheck {' '.join(args):<{width}}  {tops}")
    for c in codes:
        runs = [phased_run(c, a.run_seconds, prefix) for _ in range(max(1, a.run_repeat))]
        print_phases(c.name, median_run(runs) if len(runs) > 1 else runs[0], a.run_seconds)
    print(f"\nload average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
