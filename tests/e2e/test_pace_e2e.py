"""A paced run (suite/pace.py, issue 21) through boto3 against the embedded emulator: its
main phase ends after its operation budget, not at its time limit, and every fault
operation waits for its share of client operations.

The clients are asked for 100 operations a second and the run is paced at 200, so the
budget (200 x the 1 s limit) cannot be reached before about 2 s of wall time on any
machine: the run must outlast its limit, and a run that ended at its limit (seconds, not
operations) would fail. Everything is measured on the history's own clock, and a machine
too slow to reach the budget is held to the other rule (the main phase ends at six times
its limit), so a loaded machine does not make the test flaky.
"""

from __future__ import annotations

import pytest

from suite.generator import seconds_to_ns
from suite.pace import STRETCH_MAX
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
    main = _main_client_ops(history)
    done = [op for op in main if op.type != "invoke"]
    invokes = [op for op in main if op.type == "invoke"]
    budget = int(PACE * LIMIT_S)
    cap_ns = seconds_to_ns(LIMIT_S * STRETCH_MAX)
    if len(done) >= budget:
        reached = done[budget - 1].time          # the completion that spent the budget
        assert reached > seconds_to_ns(1.5)      # far past the 1 s limit: 100 ops/s asked
        late = [op for op in invokes if op.time > reached]
        assert not late, f"{len(late)} operations began after the budget was spent"
        assert run["main_phase_s"] >= reached / 1e9
    else:                                        # a machine too slow for the budget
        assert max(op.time for op in invokes) <= cap_ns
        assert run["main_phase_s"] >= LIMIT_S * STRETCH_MAX
    # every fault operation waited for its share: T x pace completions before it (or the
    # cap's six times its schedule time)
    end_ns = run["main_phase_s"] * 1e9           # the final heal comes after it
    faults = sorted((op for op in history if op.process == "nemesis"
                     and op.type == "invoke" and op.time < end_ns), key=lambda o: o.time)
    assert len(faults) >= 3, [(op.f, op.time) for op in faults]
    for k, op in enumerate(faults[:3], start=1):  # grid: 0.25, 0.5, 0.75 s of schedule
        schedule_s = INTERVAL_S * k
        before = sum(1 for c in done if c.time <= op.time)
        assert before >= int(schedule_s * PACE) or op.time >= seconds_to_ns(
            schedule_s * STRETCH_MAX), (op.f, op.time, before)
