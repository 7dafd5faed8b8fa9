"""The anomaly report: one self-contained HTML page per run.

`write_report(run_dir) -> path` reads a run directory of the store (test.json,
history.jsonl, results.json, whichever exist), and writes `report.html` beside them: the
verdict per promise of the mode in plain words with the configuration, every anomaly's
explanation with its operations linked to the timeline, a linearizability
counterexample drawn Porcupine-style for each key without a linearization, a
virtualised zoomable timeline of the whole history with fault periods shaded, and plots
(latency, throughput, availability, counter value per region). It renders the checkers' data and never recomputes a verdict. The page
inlines its script, styles, chart library and data, so it opens with no network.

Public surface: `write_report`, `build_report` (the HTML as a string), `load_run`, `Run`.
"""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path

from results.report._lag import lag_view
from results.report._render import render
from results.report._run import Run, check_run_dir, load_run
from results.report._view import HistoryIndex, page_data, view_model
from gtcheck.errors import BadInput

__all__ = ["write_report", "build_report", "load_run", "Run", "check_run_dir"]

REPORT_NAME = "report.html"


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Building a report allocates hundreds of thousands of small acyclic objects (ops,
    pairs, column entries); the cyclic collector's repeated passes over them cost about a
    fifth of the build at 100,000 operations and free nothing. Paused while building."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_report(run_dir: str | os.PathLike) -> str:
    """The report page for a run directory, as HTML text. BadInput if it is not a run."""
    with _cyclic_gc_paused():
        return _build_report(run_dir)


def _build_report(run_dir: str | os.PathLike) -> str:
    run = load_run(run_dir)
    hist = HistoryIndex(run.ops)
    view = view_model(run, hist)
    def ops_of(expected: bool) -> list[int]:
        return [o["index"] for g in view["anomaly_groups"] if g["expected"] == expected
                for a in g["items"] for o in a["ops"]]
    data = page_data(run, hist, ops_of(False), view["counterexamples"],
                     allowed_ops=ops_of(True))
    return render("report.html.j2", data=data, replication_lag=lag_view(run.checkers),
                  **view)


def write_report(run_dir: str | os.PathLike, *, out: str | os.PathLike | None = None) -> Path:
    """Write the run's report.html (or `out`) and return its path."""
    html = build_report(run_dir)
    path = Path(out) if out is not None else check_run_dir(run_dir) / REPORT_NAME
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)   # a reader never sees half a report
    except OSError as e:
        raise BadInput(f"{path}: cannot write the report ({e.strerror})") from None
    return path
