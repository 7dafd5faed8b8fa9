"""Quiet rounds after each heal (suite/quiet.py) catch a backlog lost at a heal in the
middle of a run, through boto3 against the emulator (issue 12, Deliver 3)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import describe

# Grid faults on one link every 1.5 s: cut at 1.5 s, healed at 3 s, cut at 4.5 s, healed
# at 6 s; the main phase ends at 8 s, two seconds after the last heal (not inside a fault).
MID_RUN = dict(workload="register", mode="async", nemesis=("link",), keys=8, hot_keys=0,
               time_limit=8.0, nemesis_interval=1.5, nemesis_timing="grid",
               latency_scale=1.0, rate=150.0, op_timeout=2.0, final_wait=1.0, seed=1)


def _quiet_divergences(result) -> list[dict]:
    conv = result.results["checkers"]["convergence"]
    return [a for a in conv.get("anomalies") or []
            if a["kind"] == "divergence" and a.get("quiet_round") is not None]


@pytest.mark.slow
def test_backlog_lost_at_a_mid_run_heal_is_caught_by_a_quiet_round(e2e):
    result, history = e2e(emulator_bugs=("backlog-discarded-on-heal",), **MID_RUN)
    assert result.valid is False, describe(result)
    found = _quiet_divergences(result)
    assert found, describe(result)
    assert "quiet round" in found[0]["explanation"]
    quiet = [op for op in history if op.extra.get("quiet") and op.type == "ok"]
    assert {op.extra.get("quiet_round") for op in quiet} >= {1, 2}
    # no client write runs inside a quiet round
    for n in (1, 2):
        ts = [op.time for op in history if op.extra.get("quiet_round") == n]
        lo, hi = min(ts), max(ts)
        assert not [op for op in history if op.f == "write" and op.type == "invoke"
                    and lo <= op.time <= hi]


@pytest.mark.slow
def test_the_same_mid_run_schedule_is_valid_without_the_bug(e2e):
    result, history = e2e(**MID_RUN)
    assert result.valid is True, describe(result)
    conv = result.results["checkers"]["convergence"]
    assert conv["quiet_rounds_judged"] >= 1 and conv["quiet_keys_judged"] >= 8
