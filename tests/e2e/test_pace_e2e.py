"""A paced run (suite/pace.py, issue 21) through boto3 against the embedded emulator: its
main phase ends after its operation budget, not at its time limit, and every fault
operation waits for its share of client operations.

The clients are asked for 100 operations a second and the run is paced at 200, so the
budget (200 x the 1 s limit) cannot be reached before about 2 s of wall time on any
machine: the run must outlast its limit, and a run that ended at its limit (seconds, not
operations) would fail. The schedule clock is replayed from the history's completions
(it is a pure function of them): no client operation began after it reached the limit,
and the main phase ended when it did. Everything is measured on the history's own clock, and a machine
too slow to reach the budget is held to the other rule (the main phase ends at six times
its limit), so a loaded machine does not make the test flaky.
"""

from __future__ import annotations

import pytest

from suite.generator import seconds_to_ns
from suite.pace import STRETCH_MAX, PaceClock
from tests.e2e.conftest import describe

PACE = 200.0
LIMIT_S = 1.0
INTERVAL_S = 0.25
PACED = dict(workload="register", mode="async", nemesis=("link",), quiet_reads=False,
             time_limit=LIMIT_S, nemesis_interval=INTERVAL_S, rate=100.0, pace=PACE,
             latency_scale=0.1, op_timeout=1.0, final_wait=0.3, seed=5)


def _main_client_ops(history):
    return [op for op in history if op.process != "nemesis" and not op.extra.get("final")]


@pytest.mark.slow
def test_a_paced_run_ends_after_its_operation_budget(e2e):
    result, history = e2e(**PACED)
    assert result.valid is True, describe(result)
    run = result.results["run"]
    limit_ns = seconds_to_ns(LIMIT_S)
    budget = int(PACE * LIMIT_S)
    # Replay the schedule clock (a pure function of the completions, suite/pace.py) over
    # the history in its recorded order: no client operation may begin once schedule
    # time reached the limit, and the main phase ends when it does.
    clock, done, end_ns, done_at_end = PaceClock(PACE), 0, None, None
    main = _main_client_ops(history)
    for op in main:
        if end_ns is None and clock.at(op.time) >= limit_ns:
            end_ns = clock.wall_when(limit_ns, clock.last_wall)
            done_at_end = done
        if op.type == "invoke":
            assert end_ns is None, f"{op} began after schedule time reached the limit"
        else:
            clock, done = clock.counted(op.time), done + 1
    if end_ns is None:
        end_ns, done_at_end = clock.wall_when(limit_ns, clock.last_wall), done
    main_end_ns = run["main_phase_s"] * 1e9
    # the runner noticed the end within its poll and let what was in flight finish
    assert end_ns - seconds_to_ns(0.1) <= main_end_ns <= end_ns + seconds_to_ns(1.5), (
        end_ns, main_end_ns)
    # the budget was spent first (at 100 operations a second: far past the 1 s limit),
    # unless the machine was too slow for it and the cap ended the run
    assert done_at_end >= budget or end_ns >= seconds_to_ns(LIMIT_S * STRETCH_MAX) - 1
    assert end_ns > seconds_to_ns(1.5)
    # every fault operation waited for its share: T x pace completions before it (or the
    # cap's six times its schedule time)
    faults = sorted((op for op in history if op.process == "nemesis"
                     and op.type == "invoke" and op.time < main_end_ns), key=lambda o: o.time)
    completions = [op for op in main if op.type != "invoke"]
    assert len(faults) >= 3, [(op.f, op.time) for op in faults]
    for k, op in enumerate(faults[:3], start=1):  # grid: 0.25, 0.5, 0.75 s of schedule
        schedule_s = INTERVAL_S * k
        before = sum(1 for c in completions if c.time <= op.time)
        assert before >= int(schedule_s * PACE) or op.time >= seconds_to_ns(
            schedule_s * STRETCH_MAX), (op.f, op.time, before)
