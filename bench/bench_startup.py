"""Benchmark: what a user waits for before anything happens -- every `--help`, and a short
`gtcheck run` from the shell prompt back to the prompt.

Each figure is the wall time of a fresh process (median of `--repeat` runs for the help
texts), for the code in each `--code` directory (the default: this checkout), so a
baseline checkout prints beside this one (`git worktree add /work/w23-base c730d8b`):

    python bench/bench_startup.py [--code /work/w23-base,.] [--repeat 5] [--run-seconds 2]

For the run it prints the whole process's wall time, the phases the run itself reports
(main phase and final phase, from results.json) and what is left beyond them (start-up,
set-up, checking, report, plots, exit), and the CPU seconds of each child (what a
loaded machine does not inflate as much). Goals (issue 23 item 3): every `--help` at most
0.1 s; a 2 s run (`--final-wait 0`: no quiescence wait) at most 3 s wall. The machine is
shared: the load average is printed with the figures. Each tree's bytecode is cached
first (`compileall`, as an installed package has it): this environment sets
PYTHONDONTWRITEBYTECODE, under which every start would compile every module again.
"""

from __future__ import annotations

import argparse
import json
import os
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


def gtcheck(code: Path, args: list[str]) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the child, exit status, its stderr) of one gtcheck process."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, *args], env=env, cwd=code,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status), text


def helps(code: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """gtcheck ARGS -> (median wall s, median CPU s)."""
    out = {}
    for args in HELPS:
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu, status, err = gtcheck(code, args)
            if status != 0:
                raise SystemExit(f"{code}: gtcheck {' '.join(args)} failed: {err}")
            walls.append(wall)
            cpus.append(cpu)
        out[" ".join(args)] = (statistics.median(walls), statistics.median(cpus))
    return out


def short_run(code: Path, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t, cpu, status, err = gtcheck(code, ["run", "--time-limit", str(seconds),
                                             "--final-wait", "0", "--seed", "3", "--store",
                                             tmp])
        if status not in (0, 1, 2):
            raise SystemExit(f"{code}: gtcheck run failed: {err[-2000:]}")
        results = json.loads(next(Path(tmp).glob("*/2*/results.json")).read_text())
        log = next(Path(tmp).glob("*/2*/run.log")).read_text()
    main_s = results["run"].get("main_phase_s") or 0.0
    final_s = 0.0
    for line in log.splitlines():  # "2026-...Z final phase over at 2.5s"
        if " final phase over at " in line:
            final_s = float(line.split()[-1].rstrip("s")) - main_s
    return {"wall_s": t, "cpu_s": cpu, "main_s": main_s, "final_s": final_s,
            "beyond_s": t - main_s - final_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", default=".", help="comma-separated checkouts to measure")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--run-seconds", type=float, default=2.0)
    a = ap.parse_args()
    codes = [Path(c).resolve() for c in a.code.split(",")]
    for c in codes:  # bytecode cached, as a normal install has it (module docstring)
        subprocess.run([sys.executable, "-m", "compileall", "-q", *[
            str(c / d) for d in ("gtcheck", "suite", "results", "checkers", "workloads",
                                 "nemesis", "emulator") if (c / d).is_dir()]],
            check=True, stdout=subprocess.DEVNULL)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    results = {c: helps(c, a.repeat) for c in codes}
    width = max(len(k) for k in results[codes[0]])
    print(f"{'median of %d: wall s / CPU s' % a.repeat:<{width + 10}}"
          + "".join(f"{c.name:>20}" for c in codes))
    for k in results[codes[0]]:
        print(f"gtcheck {k:<{width + 2}}" + "".join(
            f"{results[c][k][0]:>11.3f} /{results[c][k][1]:>6.3f}" for c in codes))
    for c in codes:
        r = short_run(c, a.run_seconds)
        print(f"{c.name}: gtcheck run --time-limit {a.run_seconds:g} --final-wait 0: "
              f"wall {r['wall_s']:.2f} s = main phase {r['main_s']:.2f} + final phase "
              f"{r['final_s']:.2f} + beyond the phases {r['beyond_s']:.2f}; CPU "
              f"{r['cpu_s']:.2f} s")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
