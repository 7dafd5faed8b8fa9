"""The runner, with an in-process fake client (the runner is under test, not a database):
threads and regions, timeouts and crashed processes, time limits, the final phase, and
runs killed or interrupted mid-flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from results.history import HistoryWriter, read_jsonl
from suite import generator as g
from suite.runner import Runner
from tests.suite.runner_fakes import FakeClient, FakeDB, FakeNemesis, client_generator, \
    final_reads, nemesis_schedule

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def make_runner(tmp_path, *, db=None, nemesis=None, concurrency=3, op_timeout_s=2.0,
                **kw):
    db = db or FakeDB()
    writer = HistoryWriter(tmp_path / "history.jsonl")
    runner = Runner(None, client=FakeClient(db), nemesis=nemesis, history=writer,
                    regions=REGIONS, concurrency=concurrency, op_timeout_s=op_timeout_s, **kw)
    return runner, writer, db


def finish(writer):
    writer.close()
    return read_jsonl(writer.path)  # validates: pairing, retired processes


def test_ops_are_recorded_paired_and_spread_over_regions(tmp_path):
    nem = FakeNemesis()
    runner, writer, db = make_runner(tmp_path, nemesis=nem)
    writes = [{"f": "write", "key": "k", "value": i} for i in range(12)]
    runner.run(g.clients_and_nemesis(writes, [{"f": "isolate"}, {"f": "heal"}]),
               g.phases(g.nemesis({"f": "heal"}), g.clients(g.each_thread({"f": "read", "key": "k"}))))
    ops = finish(writer)
    client = [op for op in ops if op.process != "nemesis"]
    assert len([op for op in client if op.type == "invoke"]) == 12 + 3
    assert all(op.type in ("invoke", "ok") for op in client)
    # Thread i is bound to region i % 3, and its op says so.
    assert {(op.process, op.region) for op in client} == {(0, REGIONS[0]), (1, REGIONS[1]),
                                                         (2, REGIONS[2])}
    assert nem.ops == ["isolate", "heal", "heal"]
    finals = [op for op in client if op.extra.get("final")]
    assert len(finals) == 6 and all(op.f == "read" for op in finals)
    # Writes ran concurrently; every final read sees the value the fake holds at the end.
    assert {op.value for op in finals if op.type == "ok"} == {db.values["k"]}
    # The final reads come after the final heal completed.
    last_heal = max(op.index for op in ops if op.process == "nemesis")
    assert min(op.index for op in finals) > last_heal
    # One client per thread, closed at the end (setup/teardown belong to suite.core).
    assert sorted(db.opened) == sorted(REGIONS) and db.closed == 3
    assert [op.index for op in ops] == list(range(len(ops)))
    assert all(b.time >= a.time for a, b in zip(ops, ops[1:]) if a.process == b.process)


def test_an_exception_is_info_and_retires_the_process(tmp_path):
    runner, writer, db = make_runner(tmp_path, concurrency=1)
    runner.run([{"f": "boom"}, {"f": "write", "key": "k", "value": 1}])
    ops = finish(writer)
    assert [(op.type, op.process, op.f) for op in ops] == [
        ("invoke", 0, "boom"), ("info", 0, "boom"),
        ("invoke", 1, "write"), ("ok", 1, "write")]
    assert ops[1].error == "ConnectionError: connection reset by peer"
    # The crashed process's client was closed and the new process got a fresh one.
    assert db.opened == ["us-east-1", "us-east-1"] and db.closed == 2


def test_definite_failures_and_junk_completions(tmp_path):
    runner, writer, _ = make_runner(tmp_path, concurrency=1)
    runner.run([{"f": "cas-fail"}, {"f": "junk"}, {"f": "read", "key": "k"}])
    ops = finish(writer)
    assert [(op.type, op.process) for op in ops] == [
        ("invoke", 0), ("fail", 0), ("invoke", 0), ("info", 0), ("invoke", 1), ("ok", 1)]
    assert ops[1].error == "ConditionalCheckFailed"
    assert "invalid completion" in ops[3].error


def test_a_timeout_is_info_and_the_thread_continues_as_a_new_process(tmp_path):
    runner, writer, db = make_runner(tmp_path, concurrency=2, op_timeout_s=0.2)
    try:
        t0 = time.monotonic()
        outcome = runner.run([{"f": "hang"}, {"f": "write", "key": "k", "value": 1},
                              g.sleep(0.3), {"f": "write", "key": "k", "value": 2},
                              {"f": "write", "key": "k", "value": 3}])
        elapsed = time.monotonic() - t0
    finally:
        db.release.set()
    ops = finish(writer)
    hang_done = [op for op in ops if op.f == "hang" and op.type != "invoke"]
    assert [(op.type, op.process, op.error) for op in hang_done] == [("info", 0, "timeout")]
    assert 0.2 <= hang_done[0].time / 1e9 < 2.0
    assert outcome.timeouts == 1
    assert {op.process for op in ops if op.type == "invoke" and op.f == "write"} <= {1, 2}
    assert 2 in {op.process for op in ops}  # thread 0 continued as process 0 + 2
    assert elapsed < 5


def test_the_time_limit_ends_an_endless_generator(tmp_path):
    runner, writer, _ = make_runner(tmp_path, nemesis=FakeNemesis())
    t0 = time.monotonic()
    runner.run(g.clients_and_nemesis(client_generator(seed=4), nemesis_schedule(0.02)),
               g.nemesis({"f": "heal"}), time_limit_s=0.4)
    assert time.monotonic() - t0 < 3
    ops = finish(writer)
    assert len(ops) > 20
    assert ops[-1].process == "nemesis" and ops[-1].f == "heal" and ops[-1].type == "ok"
    # Nothing was left in flight: every invocation completed.
    assert sum(op.type == "invoke" for op in ops) * 2 == len(ops)


def test_stop_ends_the_main_phase_but_the_final_phase_still_heals(tmp_path):
    stop = threading.Event()
    nem = FakeNemesis()
    runner, writer, _ = make_runner(tmp_path, nemesis=nem, stop=stop)
    seen = []

    def on_record(op):
        seen.append(op)
        if len(seen) == 100:
            stop.set()
    runner.on_record = on_record
    outcome = runner.run(g.clients_and_nemesis(client_generator(seed=9), nemesis_schedule(0.01)),
                         g.phases(g.nemesis({"f": "heal"}), g.clients(final_reads())),
                         time_limit_s=60)
    ops = finish(writer)
    assert outcome.interrupted and not outcome.aborted
    assert nem.ops[-1] == "heal"
    assert sum(1 for op in ops if op.extra.get("final")) == 2 * 3 * 3  # 3 threads x 3 keys
    assert len(ops) < 100 + 3 * 2 + 2 + 18  # stopped right away: in flight, heal, reads


def test_abort_marks_in_flight_operations_info(tmp_path):
    abort = threading.Event()
    runner, writer, db = make_runner(tmp_path, concurrency=2, abort=abort, op_timeout_s=30)
    timer = threading.Timer(0.3, abort.set)
    timer.start()
    try:
        outcome = runner.run(g.clients(g.each_thread({"f": "hang"})), [{"f": "read", "key": "k"}])
    finally:
        timer.cancel()
        db.release.set()
    ops = finish(writer)
    assert outcome.aborted
    assert [(op.type, op.error) for op in ops if op.type != "invoke"] == [
        ("info", "interrupted"), ("info", "interrupted")]
    assert not any(op.f == "read" for op in ops)


def _wait_for(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_sigkill_mid_run_keeps_every_recorded_operation(tmp_path):
    """A run killed with SIGKILL: each op the runner reported as recorded is in the file,
    with the same index and type, and the file parses and validates."""
    path = tmp_path / "history.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.suite.kill_runner_script", str(path)],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    reported = []
    try:
        for line in proc.stdout:
            if line.endswith("\n"):
                index, kind = line.split()
                reported.append((int(index), kind))
            if len(reported) >= 400:
                proc.kill()
                break
        rest = proc.stdout.read()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    reported += [(int(i), k) for i, k in (ln.split() for ln in rest.splitlines()
                                           if ln.strip() and len(ln.split()) == 2)]
    ops = read_jsonl(path)
    by_index = {op.index: op.type for op in ops}
    assert len(reported) >= 400
    assert all(by_index.get(i) == kind for i, kind in reported)
    assert len(ops) >= len(reported)
    assert {op.type for op in ops} >= {"invoke", "ok"}
    assert any(op.process == "nemesis" for op in ops)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_heals_and_still_writes_results(tmp_path, signum):
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.suite.kill_cli_script", "run", "--target", "fake",
         "--workload", "fake-register", "--nemesis", "fake-isolate", "--time-limit", "120",
         "--seed", "5", "--final-wait", "0.05", "--store", str(store)],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        history = store / "latest" / "history.jsonl"
        assert _wait_for(lambda: history.exists() and
                         history.read_text().count("\n") >= 200), "the run did not start"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    # Cut short with no violation found: unknown (exit 2), and the verdict line says why.
    assert proc.returncode == 2, err
    assert "verdict: UNKNOWN (the run was interrupted" in out
    run_dir = (store / "latest").resolve()
    ops = read_jsonl(run_dir / "history.jsonl")
    results = json.loads((run_dir / "results.json").read_text())
    assert results["run"]["interrupted"] is True
    assert results["valid"] == "unknown" and "interrupted" in results["reason"]
    assert results["run"]["records"] == len(ops)
    assert results["checkers"]["stats"]["total"]["count"] == \
        sum(op.type == "invoke" and op.process != "nemesis" for op in ops)
    nemesis_ops = [op for op in ops if op.process == "nemesis"]
    assert nemesis_ops[-1].f == "heal" and nemesis_ops[-1].type == "ok"
    finals = [op for op in ops if op.extra.get("final")]
    assert len(finals) == 2 * 6 * 3  # 6 threads, 3 keys, invoke + ok
    assert min(op.index for op in finals) > nemesis_ops[-1].index
    test_json = json.loads((run_dir / "test.json").read_text())
    assert test_json["seed"] == 5 and test_json["workload"] == "fake-register"


class SlowNemesis(FakeNemesis):
    def __init__(self, release):
        super().__init__()
        self.release = release

    def invoke(self, test, op):
        self.ops.append(op["f"])
        if op["f"] == "isolate":
            self.release.wait(10)
        return {"type": "ok"}


def test_a_nemesis_timeout_is_info_and_the_nemesis_carries_on(tmp_path):
    release = threading.Event()
    db = FakeDB()
    writer = HistoryWriter(tmp_path / "history.jsonl")
    runner = Runner(None, client=FakeClient(db), nemesis=SlowNemesis(release), history=writer,
                    regions=REGIONS, concurrency=1, op_timeout_s=1, nemesis_timeout_s=0.2)
    try:
        runner.run(g.nemesis([{"f": "isolate"}, {"f": "heal"}]))
    finally:
        release.set()
    ops = finish(writer)
    assert [(op.process, op.type, op.f, op.error) for op in ops] == [
        ("nemesis", "invoke", "isolate", None), ("nemesis", "info", "isolate", "timeout"),
        ("nemesis", "invoke", "heal", None), ("nemesis", "ok", "heal", None)]


def test_a_client_that_cannot_open_fails_the_operation(tmp_path):
    class FlakyOpen(FakeClient):
        def open(self, test, region):
            raise ConnectionRefusedError("endpoint down")

    writer = HistoryWriter(tmp_path / "history.jsonl")
    logs = []
    runner = Runner(None, client=FlakyOpen(FakeDB()), nemesis=None, history=writer,
                    regions=REGIONS, concurrency=1, log=logs.append)
    runner.run([{"f": "read", "key": "k"}])
    ops = finish(writer)
    # Never sent, so it definitely did not happen: fail, and the process is not retired.
    assert [(op.type, op.process) for op in ops] == [("invoke", 0), ("fail", 0)]
    assert ops[1].error == "client-open: ConnectionRefusedError: endpoint down"
    assert any("endpoint down" in m for m in logs)


class LateFaultNemesis(FakeNemesis):
    """An isolate that takes effect only after the time limit cut it off (a slow fault
    injection), and a heal that clears whatever is in force."""

    def __init__(self, takes_s):
        super().__init__()
        self.takes_s = takes_s
        self.in_force = False

    def invoke(self, test, op):
        self.ops.append(op["f"])
        if op["f"] == "isolate":
            time.sleep(self.takes_s)
            self.in_force = True
        elif op["f"] == "heal":
            self.in_force = False
        return {"type": "ok"}


def test_a_fault_cut_off_at_the_time_limit_lands_before_the_heal(tmp_path):
    # The isolate outlives the time limit's grace (LIMIT_GRACE_S = 1 s): it is recorded
    # info ("time-limit") and abandoned, but the final phase heals only once it has ended,
    # so no fault outlives the heal into the final reads.
    nem = LateFaultNemesis(takes_s=1.6)
    runner, writer, _ = make_runner(tmp_path, nemesis=nem, nemesis_timeout_s=10)
    outcome = runner.run(g.nemesis([{"f": "isolate"}]), g.nemesis({"f": "heal"}),
                         time_limit_s=0.1)
    ops = finish(writer)
    time.sleep(1.0)  # past the isolate's end even had it been left running
    assert [(op.type, op.f, op.error) for op in ops] == [
        ("invoke", "isolate", None), ("info", "isolate", "time-limit"),
        ("invoke", "heal", None), ("ok", "heal", None)]
    assert nem.ops == ["isolate", "heal"] and not nem.in_force
    assert outcome.errors == []


def test_a_cut_off_fault_still_running_at_the_nemesis_timeout_is_said(tmp_path):
    nem = LateFaultNemesis(takes_s=3.0)
    runner, writer, _ = make_runner(tmp_path, nemesis=nem, nemesis_timeout_s=1.2)
    outcome = runner.run(g.nemesis([{"f": "isolate"}]), g.nemesis({"f": "heal"}),
                         time_limit_s=0.1)
    finish(writer)
    assert len(outcome.errors) == 1 and "may outlive the heal" in outcome.errors[0]
