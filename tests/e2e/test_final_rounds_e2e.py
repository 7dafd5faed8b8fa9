"""A write replicated late lands during the final reads: the final phase reads again until
the regions agree, and the run stays valid (issue 21; suite/final_rounds.py), through
boto3 against the emulator.

The schedule delays every link of us-west-2 by 2.5 s from 0.5 s until the final heal, and
the final wait (0.1 s) is shorter than that delay: replication messages sent just before
the heal still carry it (a heal does not speed up what is in flight), so the first round
of final reads sees us-west-2 and the other regions apart on the keys written in the last
2.5 s, and a later round sees them agree. Before rounds this was the false alarm of
docs/detection.md ("False alarms seen on the way")."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import describe

LATE = dict(workload="register", mode="async", keys=6, hot_keys=0, time_limit=3.0,
            rate=150.0, latency_scale=0.2, op_timeout=1.0, final_wait=0.1, seed=3,
            nemesis_schedule=({"at": 0.5, "f": "slow",
                               "value": {"region": "us-west-2", "ms": 2500}},))


def _rounds(history) -> dict[int, list]:
    out: dict[int, list] = {}
    for op in history:
        if op.type == "ok" and op.f == "read" and op.extra.get("final"):
            out.setdefault(op.extra.get("final_round", 1), []).append(op)
    return out


@pytest.mark.slow
def test_a_late_landing_during_the_final_reads_is_read_again_and_valid(e2e):
    result, history = e2e(**LATE)
    assert result.valid is True, describe(result)
    rounds = _rounds(history)
    assert len(rounds) >= 2, "the first round already agreed: no late landing provoked"
    first = rounds[min(rounds)]
    by_key: dict[str, set] = {}
    for op in first:
        by_key.setdefault(op.key, set()).add(repr(op.value))
    assert any(len(v) > 1 for v in by_key.values()), "round 1 agreed on every key"
    conv = result.results["checkers"]["convergence"]
    assert conv["valid"] is True and conv["final_rounds"] == max(rounds)
    assert conv["converged"] == LATE["keys"]
    # the last round agrees on every key, in every region
    last = rounds[max(rounds)]
    assert {op.region for op in last} == {"us-east-1", "us-east-2", "us-west-2"}
    for key in {op.key for op in last}:
        assert len({repr(op.value) for op in last if op.key == key}) == 1


@pytest.mark.slow
def test_without_rounds_the_same_late_landing_is_a_false_alarm(e2e):
    """The same run read once (`final_deadline` 0, the old final phase): the first
    round's disagreement is judged as a divergence. This is what rounds remove."""
    result, history = e2e(**LATE, final_deadline=0.0)
    assert result.valid is False
    assert len(_rounds(history)) == 1
    conv = result.results["checkers"]["convergence"]
    assert conv["anomaly_counts"].get("divergence", 0) >= 1, describe(result)
