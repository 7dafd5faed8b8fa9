"""What `gtcheck run` does after the history is judged: the workload's own summary (the
demos' tables) and the HTML report.

Two small steps that belong to the end of a run rather than to the run pipeline (which
records and judges): print what the workload wants a user to see -- the talk's table of
value and latency per region per step, for the demos -- and write `report.html` with
`results.report.write_report(run_dir)`. When that fails, the lines say so plainly
instead of leaving a missing report to be discovered later; then the PNG plots
(`results.plots`) for reading results outside a browser. Both read only the stored run, so they can be repeated on any run
directory.
"""

from __future__ import annotations

from typing import Any

from results.history import read_jsonl
from results.report import write_report as _write_report


def workload_summary(test: Any, run_dir_path: Any) -> str | None:
    """The workload's text summary of a stored run (None when it has none)."""
    from workloads import make_workload, options_from_test
    workload = make_workload(test.workload, options_from_test(test))
    if workload.summarize is None:
        return None
    return workload.summarize(read_jsonl(run_dir_path / "history.jsonl"))


def write_report(run_dir_path: Any) -> str | None:
    """Write report.html; None when written (the summary then names it), else one line
    saying plainly why there is no report."""
    try:
        _write_report(run_dir_path)
        return None
    except Exception as e:  # noqa: BLE001 -- a report failure must not hide the verdict
        return f"report: not written ({type(e).__name__}: {e})"


def after_run(result: Any, test: Any) -> list[str]:
    """Lines to print before the verdict summary: the workload's summary, the report
    (the plots come after the verdict: `plot_lines`)."""
    lines: list[str] = []
    path = result.run_dir.path
    history = path / "history.jsonl"
    if history.exists():
        try:
            text = workload_summary(test, path)
        except Exception as e:  # noqa: BLE001 -- a summary failure must not hide the verdict
            text = f"(workload summary failed: {type(e).__name__}: {e})"
        if text:
            lines.append(text)
    problem = write_report(path)
    if problem:
        lines.append(problem)
    return lines


def plot_lines(result: Any, worker: Any = None, *, wait: bool = True) -> list[str]:
    """Write the PNG plots; the line to print after the verdict (issue 25: `verdict:`
    first, then where things are). With a `results.plot_worker.PlotWorker` that was
    asked for this run's plots (`worker.request`), its answer; with `wait=False` (the
    command's last run) and the child still drawing, where the plots will appear."""
    path = result.run_dir.path
    if not (path / "history.jsonl").exists():
        return []
    try:
        if worker is not None:
            from results.plot_worker import Drawing
            written = worker.plots(wait=wait)
            if isinstance(written, Drawing):  # not waited for: still being drawn
                return ["plots: " + ", ".join(str(p) for p in written.files)
                        + f" (being drawn by process {written.pid}, at a lower "
                        "priority than runs: they appear when it is done; a failure is "
                        "noted in run.log)"]
        else:
            from results.plots import write_plots
            written = write_plots(path)
    except Exception as e:  # noqa: BLE001 -- a plot failure must not hide the verdict
        return [f"plots: not written ({type(e).__name__}: {e})"]
    return ["plots: " + ", ".join(str(p) for p in written)] if written else []
