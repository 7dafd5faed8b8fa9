"""The deterministic apply rule of MRSC journal entries (M04, M08, M09), unit-tested.

Entries are built from real `TableReplica` storage and `Mutation`s, then applied in one
journal order to several replicas, as every region does.
"""

from __future__ import annotations

import threading

import pytest

from emulator.engine import UNCHANGED, Mutation
from emulator.errors import DynamoError, condition_failed
from emulator.mrsc_apply import (APPLIED, CONDITION_FAILED, CONFLICT, apply_write,
                                 build_write, decide, outcome)
from emulator.store import RegionClock, TableReplica


def replica(region: str) -> TableReplica:
    return TableReplica("t", region, lock=threading.RLock(),
                        call_later=lambda s, fn: fn(), copies=1)


def item(key: str, n: int) -> dict:
    return {"pk": {"S": key}, "n": {"N": str(n)}}


def increment(key: str) -> Mutation:
    def compute(old):
        n = 0 if old is None else int(old["n"]["N"])
        return item(key, n + 1)
    return Mutation((key,), {"pk": {"S": key}}, compute)


def put_if_absent(key: str, n: int) -> Mutation:
    def compute(old):
        if old is not None:
            raise condition_failed()
        return item(key, n)
    return Mutation((key,), {"pk": {"S": key}}, compute)


def delete(key: str) -> Mutation:
    return Mutation((key,), {"pk": {"S": key}}, lambda old: None)


def entry_from(rep, mutation, rid, clock):
    with rep.lock:
        return build_write(rid, rep.region, [mutation], [rep.current(mutation.key)], clock)


def value(rep, key):
    v = rep.current((key,))
    return None if v is None or v.item is None else int(v.item["n"]["N"])


def test_two_increments_from_one_version_exactly_one_wins_everywhere():
    regions = [replica(r) for r in ("us-east-1", "us-east-2", "us-west-2")]
    clock_a, clock_b = RegionClock("us-east-1"), RegionClock("us-east-2")
    a = entry_from(regions[0], increment("c"), "a:1", clock_a)
    b = entry_from(regions[1], increment("c"), "b:1", clock_b)
    # Journal order: b then a. Every region applies in that order.
    for rep in regions:
        with rep.lock:
            assert apply_write(rep, b) == APPLIED
            assert apply_write(rep, a) == CONFLICT
        assert value(rep, "c") == 1
    with pytest.raises(DynamoError) as e:
        outcome(a, CONFLICT)
    assert e.value.name == "ReplicatedWriteConflictException" and e.value.status == 409
    [o] = outcome(b, APPLIED)
    assert o.old is None and o.new == item("c", 1) and o.changed


def test_condition_failure_is_precomputed_and_linearizable():
    rep = replica("us-east-1")
    clock = RegionClock("us-east-1")
    first = entry_from(rep, put_if_absent("k", 1), "r:1", clock)
    with rep.lock:
        assert apply_write(rep, first) == APPLIED
    failing = entry_from(rep, put_if_absent("k", 2), "r:2", clock)
    assert failing.error is not None and failing.changes[0].new is UNCHANGED
    with rep.lock:
        assert apply_write(rep, failing) == CONDITION_FAILED
    assert value(rep, "k") == 1
    with pytest.raises(DynamoError) as e:
        outcome(failing, CONDITION_FAILED)
    assert e.value.name == "ConditionalCheckFailedException"


def test_condition_failure_built_on_a_moved_version_is_a_conflict():
    rep = replica("us-east-1")
    clock = RegionClock("us-east-1")
    with rep.lock:
        apply_write(rep, entry_from(rep, put_if_absent("k", 1), "r:1", clock))
    stale_fail = entry_from(rep, put_if_absent("k", 9), "r:2", clock)  # built on v1
    with rep.lock:
        apply_write(rep, entry_from(rep, delete("k"), "r:3", clock))      # v1 -> tombstone
        assert decide(stale_fail, [rep.current(("k",))]) == CONFLICT


def test_replay_from_an_old_checkpoint_applies_nothing_twice():
    """M09: the engine crashes after applying and replays the whole journal."""
    rep = replica("us-east-1")
    clock = RegionClock("us-east-1")
    journal = []
    for i in range(5):
        e = entry_from(rep, increment("c"), f"r:{i}", clock)
        journal.append(e)
        with rep.lock:
            assert apply_write(rep, e) == APPLIED
    e = entry_from(rep, delete("c"), "r:del", clock)
    journal.append(e)
    with rep.lock:
        assert apply_write(rep, e) == APPLIED
    e = entry_from(rep, put_if_absent("c", 100), "r:put", clock)
    journal.append(e)
    with rep.lock:
        assert apply_write(rep, e) == APPLIED
    before = rep.current(("c",))
    stream_before = len(rep.stream)
    for e in journal:  # replay everything
        with rep.lock:
            assert apply_write(rep, e) == CONFLICT
    assert rep.current(("c",)) == before and value(rep, "c") == 100
    assert len(rep.stream) == stream_before


def test_versions_only_grow_even_with_a_clock_behind():
    rep = replica("us-east-1")
    ahead, behind = RegionClock("us-east-1"), RegionClock("us-west-2")
    ahead.skew(60_000)
    behind.skew(-60_000)
    e1 = entry_from(rep, increment("c"), "a:1", ahead)
    with rep.lock:
        apply_write(rep, e1)
    e2 = entry_from(rep, increment("c"), "b:1", behind)
    assert e2.changes[0].new.timestamp_us > e1.changes[0].new.timestamp_us


def test_participant_rules():
    from emulator.mrsc_setup import check_participants
    assert check_participants(["us-east-1", "us-east-2"], "us-west-2") == [
        "us-east-1", "us-east-2", "us-west-2"]
    for replicas, witness in ((["us-east-1", "us-east-2"], None),
                              (["us-east-1", "us-east-2", "us-west-2"], "us-west-1"),
                              (["us-east-1", "us-east-2"], "eu-west-1"),
                              (["us-east-1", "us-east-2"], "us-east-2")):
        with pytest.raises(DynamoError) as e:
            check_participants(replicas, witness)
        assert e.value.name == "ValidationException"
