"""MRSC (strong) global tables end to end, under every nemesis.

Register and counter traffic in all three regions through boto3 against the embedded
emulator in strong mode, while one fault family comes and goes: the MRSC checkers
(linearizability of writes, cas and SC reads per key; counter bounds; EC reads never go
back in time; a conflicted write never becomes visible) must find every promise kept.
"""

import pytest

from tests.e2e.conftest import REGIONS, assert_faults_and_final_reads, describe

NEMESES = ["isolate", "link", "pause-replication", "outage", "latency", "clock"]


def common_checks(result, history):
    assert result.valid is True, describe(result)
    assert_faults_and_final_reads(history)
    oks = [op for op in history if op.process != "nemesis" and op.type == "ok"
           and not op.extra.get("final")]
    assert {op.region for op in oks} == REGIONS  # every region served traffic


@pytest.mark.slow
@pytest.mark.parametrize("nemesis", NEMESES)
def test_strong_register_is_linearizable_under_faults(e2e, nemesis):
    result, history = e2e(workload="register", mode="strong", nemesis=(nemesis,), keys=2,
                          seed=404)
    common_checks(result, history)


@pytest.mark.slow
@pytest.mark.parametrize("nemesis", NEMESES)
def test_strong_counter_loses_no_increment_under_faults(e2e, nemesis):
    result, history = e2e(workload="counter", mode="strong", nemesis=(nemesis,), keys=1,
                          seed=505)
    common_checks(result, history)
    adds = [op for op in history if op.f == "add" and op.type == "ok"]
    finals = {op.region: op.value for op in history
              if op.extra.get("final") and op.type == "ok"}
    assert len(set(finals.values())) == 1 and finals["us-east-1"] >= len(adds), finals


@pytest.mark.slow
def test_strong_with_a_witness_survives_the_witness_outage(e2e):
    result, history = e2e(workload="register", mode="strong", regions=("us-east-1", "us-east-2"),
                          witness="us-west-2", nemesis=("outage", "isolate"), keys=2,
                          seed=606, concurrency=4)
    assert result.valid is True, describe(result)


@pytest.mark.slow
def test_strong_set_loses_no_acknowledged_add_under_composed_faults(e2e):
    result, history = e2e(workload="set", mode="strong", nemesis=("link", "outage"), keys=2,
                          seed=707)
    common_checks(result, history)
    acked: dict = {}
    for op in history:
        if op.f == "add" and op.type == "ok":
            acked.setdefault(op.key, set()).add(op.value)
    finals = [op for op in history if op.extra.get("final") and op.type == "ok"]
    assert len(finals) >= 6
    for op in finals:
        assert acked.get(op.key, set()) <= set(op.value), (op.region, op.key)
