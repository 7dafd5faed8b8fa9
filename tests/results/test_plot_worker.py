"""results.plot_worker: the child process that draws `gtcheck run`'s plots answers with
the same files results.plots writes, says a failure as an error, and is replaced by
drawing in-process when it is gone."""

from __future__ import annotations

import json

import pytest

from results.history import Op, write_jsonl
from results.plot_worker import PlotWorker


def _run_dir(tmp_path, name="run"):
    d = tmp_path / "register-strong" / name
    d.mkdir(parents=True)
    ops = []
    for i in range(20):
        t = i * 10_000_000
        ops.append(Op(index=2 * i, time=t, type="invoke", process=i % 3, f="write",
                      key="k", value=i, region="us-east-1"))
        ops.append(Op(index=2 * i + 1, time=t + 3_000_000, type="ok", process=i % 3,
                      f="write", key="k", value=i, region="us-east-1"))
    write_jsonl(d / "history.jsonl", ops)
    return d


def test_the_child_draws_each_requested_run_directory(tmp_path):
    worker = PlotWorker()
    try:
        for name in ("a", "b"):  # one child serves a series of runs
            d = _run_dir(tmp_path, name)
            worker.request(d)
            written = worker.plots()
            assert sorted(p.name for p in written) == ["availability.png", "latency.png"]
            for p in written:
                assert p.parent == d and p.read_bytes().startswith(b"\x89PNG")
    finally:
        worker.close()
    assert worker._proc is None


def test_a_failure_in_the_child_is_said_as_an_error(tmp_path):
    worker = PlotWorker()
    try:
        worker.request(tmp_path / "missing")
        with pytest.raises(RuntimeError, match="BadInput|cannot read"):
            worker.plots()
    finally:
        worker.close()


def test_without_the_child_the_plots_are_drawn_here(tmp_path):
    worker = PlotWorker()
    worker.close()  # gone before the request
    d = _run_dir(tmp_path)
    worker.request(d)
    assert sorted(p.name for p in worker.plots()) == ["availability.png", "latency.png"]
    assert (d / "latency.png").stat().st_size > 0


def test_the_protocol_is_one_json_line_each_way(tmp_path):
    import io

    from results.plot_worker import serve
    d = _run_dir(tmp_path)
    out = io.StringIO()
    serve(io.StringIO(f"{d}\n{tmp_path / 'missing'}\n"), out)
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(first["written"]) == sorted(str(d / n) for n in ("availability.png",
                                                                   "latency.png"))
    assert "error" in second


def _left_child(drawing):
    from results import plot_worker
    proc = next(p for p in plot_worker._LEFT_DRAWING if p.pid == drawing.pid)
    return proc


def test_the_last_run_need_not_wait_and_the_child_finishes_on_its_own(tmp_path):
    # issue 23: the command's last run returns without waiting for its plots; the line
    # it prints names the files, and the child writes them after the parent let go
    from results.plot_worker import Drawing
    worker = PlotWorker()
    d = _run_dir(tmp_path)
    worker.request(d)  # the child is still importing matplotlib: no answer yet
    drawing = worker.plots(wait=False)
    assert isinstance(drawing, Drawing), drawing
    assert drawing.files == (d / "latency.png", d / "availability.png")
    worker.close()  # does not wait
    proc = _left_child(drawing)
    assert proc.wait(timeout=120) == 0
    for p in drawing.files:
        assert p.read_bytes().startswith(b"\x89PNG")


def test_a_failure_nobody_waited_for_is_noted_in_the_run_log(tmp_path):
    d = tmp_path / "register-strong" / "run"
    d.mkdir(parents=True)
    (d / "run.log").write_text("gtcheck: running\n")  # no history.jsonl: drawing fails
    worker = PlotWorker()
    worker.request(d)
    drawing = worker.plots(wait=False)
    worker.close()
    assert _left_child(drawing).wait(timeout=120) == 0
    noted = (d / "run.log").read_text().splitlines()
    assert noted[0] == "gtcheck: running"
    assert noted[1].startswith("plots: not written (") and "history.jsonl" in noted[1], noted


def test_an_answer_already_there_is_taken_without_waiting(tmp_path):
    worker = PlotWorker()
    try:
        first = _run_dir(tmp_path, "a")
        worker.request(first)
        worker.plots()  # the child is warm now
        d = _run_dir(tmp_path, "b")
        worker.request(d)
        import select
        select.select([worker._proc.stdout], [], [], 120)  # its answer has arrived
        assert sorted(p.name for p in worker.plots(wait=False)) == ["availability.png",
                                                                    "latency.png"]
    finally:
        worker.close()
    assert worker._proc is None


def test_the_child_steps_aside_for_the_run(tmp_path):
    # its matplotlib import and drawing are background work: lower priority than the
    # run whose latencies are measured (issue 23)
    import os
    import time

    from results.plot_worker import PLOT_NICENESS
    worker = PlotWorker()
    try:
        pid = worker._proc.pid
        expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + PLOT_NICENESS)
        deadline = time.monotonic() + 60
        while os.getpriority(os.PRIO_PROCESS, pid) != expected:
            assert time.monotonic() < deadline, "the child kept the run's priority"
            time.sleep(0.01)
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
    finally:
        worker.close()
