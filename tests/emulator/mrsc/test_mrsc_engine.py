"""The strong replication engine over the real journal, storage and WAN model.

These drive `MrscEngine` directly (the HTTP layer is exercised by tests/scenarios/test_M*),
so they can look inside: journal order per region, checkpoints, restarts.
"""

from __future__ import annotations

import threading

import pytest

from emulator.engine import Mutation
from emulator.errors import DynamoError

from mrsc_engine_support import US, make_engine  # noqa: E402  (sibling helper)


def increment(key="c"):
    def compute(old):
        n = 0 if old is None else int(old["n"]["N"])
        return {"pk": {"S": key}, "n": {"N": str(n + 1)}}
    return Mutation((key,), {"pk": {"S": key}}, compute)


def put(key, n):
    return Mutation((key,), {"pk": {"S": key}},
                    lambda old: {"pk": {"S": key}, "n": {"N": str(n)}})


def val(item):
    return None if item is None else int(item["n"]["N"])


@pytest.fixture
def engine():
    e, wan = make_engine()
    yield e, wan
    e.close()
    wan.scheduler.stop()


def test_write_in_one_region_is_seen_by_sc_read_in_every_region(engine):
    e, _ = engine
    e.write("us-east-1", [put("k", 5)])
    for r in US:
        assert val(e.get(r, ("k",), True)) == 5


def test_every_region_applies_one_order(engine):
    e, _ = engine
    def run(r):
        for i in range(20):
            try:
                e.write(r, [put(f"k{i % 3}", i)])
            except DynamoError as err:  # blind puts conflict too: all writes are conditional
                if err.name != "ReplicatedWriteConflictException":
                    unexpected.append(err)

    unexpected = []
    threads = [threading.Thread(target=run, args=(r,)) for r in US]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not unexpected
    for r in US:
        e.get(r, ("k0",), True)  # fence: everything before it is applied everywhere
    orders = [[x for x in e.applied_order(r) if x[2] != "fence"] for r in US]
    assert len(orders[0]) == 60 and orders[0] == orders[1] == orders[2]


def test_concurrent_increments_final_value_counts_successes(engine):
    e, _ = engine
    ok = {r: 0 for r in US}
    conflicts = {r: 0 for r in US}

    unexpected = []

    def run(r):
        for _ in range(15):
            try:
                e.write(r, [increment()])
                ok[r] += 1
            except DynamoError as err:
                if err.name != "ReplicatedWriteConflictException":
                    unexpected.append(err)
                conflicts[r] += 1

    threads = [threading.Thread(target=run, args=(r,)) for r in US]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not unexpected
    for r in US:
        assert val(e.get(r, ("c",), True)) == sum(ok.values())


def test_restart_from_old_checkpoint_replays_without_double_apply(engine):
    e, _ = engine
    for _ in range(5):
        e.write("us-east-2", [increment()])
    before = e.applied_order("us-east-2")
    e.restart_region("us-east-2", checkpoint=0)
    e.write("us-east-1", [increment()])
    assert val(e.get("us-east-2", ("c",), True)) == 6
    after = e.applied_order("us-east-2")
    # Replayed entries were skipped (conflict), never applied again.
    replayed = after[len(before):]
    assert any(d == "conflict" for _, _, d in replayed)
    assert sum(1 for _, _, d in after if d == "applied") == 6


def test_isolated_region_refuses_others_continue(engine):
    e, wan = engine
    e.write("us-east-1", [put("k", 1)])
    wan.isolate("us-west-2")
    e.faults_changed()
    with pytest.raises(DynamoError) as err:
        e.write("us-west-2", [put("k", 2)])
    assert err.value.name == "ServiceUnavailable"
    with pytest.raises(DynamoError):
        e.get("us-west-2", ("k",), True)
    assert val(e.get("us-west-2", ("k",), False)) == 1  # EC read still served
    e.write("us-east-1", [put("k", 3)])
    assert val(e.get("us-east-2", ("k",), True)) == 3
    wan.heal()
    e.faults_changed()
    for _ in range(200):  # it catches up once it hears from the leader again
        try:
            assert val(e.get("us-west-2", ("k",), True)) == 3
            break
        except DynamoError as err:
            assert err.name in ("ServiceUnavailable", "InternalServerError")
            threading.Event().wait(0.02)
    else:
        pytest.fail("us-west-2 never caught up")


def test_witness_needs_exactly_two_replicas():
    with pytest.raises(DynamoError) as err:
        make_engine(replicas=US, witness="us-west-1")
    assert err.value.name == "ValidationException"


def test_leader_is_the_region_everyone_is_nearest_to(engine):
    e, _ = engine
    assert e.preferred == "us-east-2"


def test_journal_payloads_are_compacted_once_applied_everywhere(engine):
    e, _ = engine
    for i in range(2100):
        e.write(US[i % 3], [put(f"k{i % 7}", i)])
    e.get("us-east-1", ("k0",), True)
    for r in US:
        assert len(e.durable[r].log) > 2100
        assert e.journal_payloads(r) < 1100  # everything up to the last compaction dropped
    assert val(e.get("us-west-2", ("k6",), True)) == max(i for i in range(2100) if i % 7 == 6)


def test_paused_region_refuses_writes_and_sc_reads_but_serves_ec(engine):
    e, _ = engine
    e.write("us-east-1", [put("p", 1)])
    e.ctx.pause.regions.add("us-east-1")
    with pytest.raises(DynamoError) as err:
        e.write("us-east-1", [put("p", 2)])
    assert err.value.name == "ServiceUnavailable"
    with pytest.raises(DynamoError):
        e.get("us-east-1", ("p",), True)
    assert val(e.get("us-east-1", ("p",), False)) == 1
    e.write("us-east-2", [put("p", 3)])  # other regions unaffected
    e.ctx.pause.regions.clear()
    assert val(e.get("us-east-1", ("p",), True)) == 3
