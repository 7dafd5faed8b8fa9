"""The PNG plots of `gtcheck run`, drawn by a child process started when the run starts.

matplotlib takes about half a second of CPU to import and the drawing as long again
(bench/bench_startup.py): in the run's own process that is time the user waits for, and
an import done in a thread during the run holds the interpreter lock the run's clients
and the embedded emulator need. A child process imports it on the machine's other core
while the run goes, then draws each run directory it is handed (results.plots, the same
function `gtcheck report` uses), so the drawing also overlaps what the parent does
meanwhile (the report). The protocol is one line each way, on the child's stdin and
stdout: a run directory's path in; a JSON object out, `{"written": [paths]}` or
`{"error": "..."}`. Nothing else is read from the pipe (no pickle). When the child
cannot be started or dies, `plots` draws in this process instead, so the plots never
depend on it.

The plots are not part of the verdict or of report.html, so the last run of a command
need not wait for them (issue 23: the wait was about 0.1 s of a 3 s run):
`plots(wait=False)` takes the answer if it is there and otherwise returns `Drawing` (the
files it will write and the child's pid), and `close` then leaves the child to finish:
it draws, finds its answer has no reader, and exits. A failure to draw is also noted in
the run directory's run.log by the child, so one nobody waited for is still said.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PLOT_NICENESS = 5  # added to the child's niceness (`step_aside`)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])  # holds results/, for the child


@dataclass(frozen=True)
class Drawing:
    """Plots the child is still drawing when the command ends: `files`, by process `pid`."""

    files: tuple[Path, ...]
    pid: int


class PlotWorker:
    """A child process that draws run directories' plots (see the module docstring)."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "results.plot_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                cwd=_PACKAGE_ROOT)
        except OSError:
            self._proc = None
        self._pending: Path | None = None
        self._left_drawing = False  # `plots(wait=False)` left the child an answer to draw

    def request(self, run_dir: str | os.PathLike) -> None:
        """Start drawing `run_dir`'s plots (the answer is `plots`'s)."""
        self._pending = Path(run_dir)
        if self._proc is None:
            return
        try:
            self._proc.stdin.write(f"{self._pending}\n")
            self._proc.stdin.flush()
        except OSError:  # the child is gone: `plots` draws here
            self._stop()

    def plots(self, *, wait: bool = True) -> "list[Path] | Drawing":
        """The plots of the run directory last requested: the child's answer, or, if it
        has none, drawn here. Raises what `results.plots.write_plots` raises. With
        `wait=False` and no answer yet: `Drawing` (the child goes on; ask nothing more
        of this worker but `close`)."""
        run_dir, self._pending = self._pending, None
        if run_dir is None:
            raise ValueError("no plots were requested")
        if self._proc is not None:
            if not wait and not select.select([self._proc.stdout], [], [], 0)[0]:
                from results.plots import PLOT_FILES
                self._left_drawing = True
                return Drawing(tuple(run_dir / name for name in PLOT_FILES), self._proc.pid)
            line = self._proc.stdout.readline()
            answer = json.loads(line) if line.startswith("{") else None
            if isinstance(answer, dict) and "written" in answer:
                return [Path(p) for p in answer["written"]]
            if isinstance(answer, dict) and "error" in answer:
                raise RuntimeError(answer["error"])
            self._stop()  # no answer: the child died; draw here
        from results.plots import write_plots
        return write_plots(run_dir)

    def close(self) -> None:
        """End the child (it exits at the end of its input) and wait for it, unless it
        was left drawing (`plots(wait=False)`): then it finishes on its own."""
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.stdin.close()  # flushed after every request: nothing left to write
        if self._left_drawing:
            _LEFT_DRAWING.append(proc)  # referenced, so no "still running" warning here
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


_LEFT_DRAWING: list[subprocess.Popen] = []  # children left to finish their drawing


def note_failure(run_dir: str, error: str) -> None:
    """Add the failure to the run's run.log, where a user who did not wait reads it."""
    from results.store import RUN_LOG
    log = Path(run_dir) / RUN_LOG
    if log.is_file():
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"plots: not written ({error})\n")


def serve(lines: IO[str], out: IO[str]) -> None:
    """The child: import matplotlib, then draw each run directory read from `lines`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 -- imported now, while the run goes

    from results.plots import write_plots
    for line in lines:
        path = line.rstrip("\n")
        try:
            answer = {"written": [str(p) for p in write_plots(path)]}
        except Exception as e:  # noqa: BLE001 -- said to the parent, which prints it
            answer = {"error": f"{type(e).__name__}: {e}"}
            try:
                note_failure(path, answer["error"])
            except OSError as noted:  # the run directory is gone: the answer says both
                answer["error"] += f" (not noted in run.log: {noted.strerror or noted})"
        try:
            out.write(json.dumps(answer) + "\n")
            out.flush()
        except BrokenPipeError:  # the parent did not wait (plots(wait=False)): done
            return


def step_aside() -> None:
    """The child's own priority below the run's: its matplotlib import and drawing are
    background work, and the run's clients and emulator, whose latencies are what the
    run measures, come first. Under a real-time policy (`chrt`, as bench/bench_startup.py
    runs it) the child would otherwise hold a core for whole 100 ms round-robin slices
    (issue 23: a 10 ms sleep of the run's set-up took 90 ms while the child imported
    matplotlib). Lowering one's own priority needs no privilege."""
    if hasattr(os, "sched_setscheduler") and os.sched_getscheduler(0) != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    os.nice(PLOT_NICENESS)


def main() -> None:
    step_aside()
    serve(sys.stdin, sys.stdout)
    with contextlib.suppress(BrokenPipeError):  # nobody reads answers (plots(wait=False))
        sys.stdout.flush()
    # Every answer is written and every plot file closed: skip the interpreter's
    # teardown of matplotlib's modules (a second under load), which the parent waits for.
    os._exit(0)


if __name__ == "__main__":
    main()
