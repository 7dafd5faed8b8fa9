"""The final reads in rounds (suite/final_rounds.py), run by the simulator: one round when
the regions agree, more while a late landing settles, none after the deadline."""

from __future__ import annotations

from suite.final_rounds import final_rounds, read_view, txn_view
from suite.generator import NS, clients, simulate
from checkers.observe import freeze
from workloads.generators import final_reads

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
KEYS = ("k0", "k1", "k2")


def replica(landed_at_s: float | None):
    """A simulated table: every region holds 49 for every key, but us-east-2 holds 46
    for k2 until `landed_at_s` (None: forever). Each read takes 1 ms."""
    def complete(test, ctx, op):
        region = REGIONS[op["process"] % len(REGIONS)]
        value = 49
        if region == "us-east-2" and op["key"] == "k2" and (
                landed_at_s is None or op["time"] < landed_at_s * NS):
            value = 46
        return {**op, "type": "ok", "time": op["time"] + NS // 1000, "region": region,
                "value": value}
    return complete


def rounds(landed_at_s, deadline_s=10.0):
    g = final_rounds(final_reads(KEYS, regions=len(REGIONS)), read_view(freeze),
                     regions=REGIONS, deadline_s=deadline_s)
    h = simulate(clients(g), concurrency=6, nemesis=False, complete=replica(landed_at_s))
    return [op for op in h if op["type"] == "invoke"]


def test_one_round_when_every_region_agrees():
    ops = rounds(landed_at_s=0.0)
    assert len(ops) == len(KEYS) * len(REGIONS)  # every key once in every region
    assert {op["final_round"] for op in ops} == {1}


def test_a_late_landing_is_read_again_until_two_rounds_agree():
    ops = rounds(landed_at_s=0.1)  # lands after round 1, before round 2 (0.25 s later)
    by_round = {}
    for op in ops:
        by_round.setdefault(op["final_round"], []).append(op)
    # round 1 disagrees; round 2 agrees but differs from round 1; round 3 equals round 2
    assert sorted(by_round) == [1, 2, 3]
    assert all(len(v) == len(KEYS) * len(REGIONS) for v in by_round.values())
    # each round begins at least the gap after the last one ended
    assert min(op["time"] for op in by_round[2]) >= 0.25 * NS
    assert min(op["time"] for op in by_round[3]) >= 0.5 * NS


def test_a_divergence_that_stays_is_read_until_the_deadline():
    ops = rounds(landed_at_s=None, deadline_s=2.0)
    last = max(op["final_round"] for op in ops)
    assert 5 <= last <= 8  # rounds 0.25 s apart for 2 s
    assert max(op["time"] for op in ops) < 2.0 * NS  # none begins after the deadline


def test_no_deadline_is_one_round_as_before():
    reads = final_reads(KEYS, regions=len(REGIONS))
    assert final_rounds(reads, read_view(freeze), regions=REGIONS, deadline_s=0) is reads


def test_a_region_unanswered_leaves_the_round_unsettled():
    def complete(test, ctx, op):
        region = REGIONS[op["process"] % len(REGIONS)]
        # us-west-2 answers nothing for longer than a final read's 12 attempts
        kind = "fail" if region == "us-west-2" and op["time"] < 3.1 * NS else "ok"
        return {**op, "type": kind, "time": op["time"] + NS // 1000, "region": region,
                "value": 7}
    g = final_rounds(final_reads(("k0",), regions=3), read_view(freeze), regions=REGIONS)
    h = simulate(clients(g), concurrency=3, nemesis=False, complete=complete)
    last = max(op["final_round"] for op in h)
    assert last >= 2  # read again: us-west-2 answers in a later round
    assert any(op["type"] == "ok" and op["region"] == "us-west-2"
               and op["final_round"] == last for op in h)


def test_txn_view_reads_every_r_micro_op():
    view = txn_view(freeze)
    ev = {"f": "txn", "value": [["r", "k0", [1, 2]], ["append", "k1", 3], ["r", "k1", None]]}
    assert view(ev) == [("k0", (1, 2)), ("k1", None)]
    assert view({"f": "read", "key": "k0", "value": 1}) == []


def test_the_next_round_is_the_same_whenever_it_is_asked_for():
    """An interpreter asks again while it waits for an op due later (suite/runner.py):
    the next round's time comes from the round's last completion, not the asking time."""
    from suite.final_rounds import FinalRounds
    from suite.generator import Context, Seq
    g = FinalRounds(final_reads(("k0",), regions=3), read_view(freeze), REGIONS,
                    deadline_ns=10 * NS, gap_ns=NS // 4, current=Seq(()),
                    answers=((REGIONS[0], "k0", 2), ((REGIONS[1], "k0", 2),
                                                     ((REGIONS[2], "k0", 1), ()))),
                    started_at=0, ended_at=NS)
    ctx = Context.initial(3, nemesis=False)
    asked = [g.op(None, ctx.with_time(t)) for t in (NS, NS + NS // 10, NS + NS // 5)]
    assert all(a is not None for a in asked)
    assert {a[0]["time"] for a in asked} == {NS + NS // 4}
    assert {a[0]["final_round"] for a in asked} == {2}


def test_a_round_with_no_answer_at_all_ends_the_rounds():
    def complete(test, ctx, op):
        region = REGIONS[op["process"] % len(REGIONS)]
        return {**op, "type": "fail", "time": op["time"] + NS // 1000, "region": region}
    g = final_rounds(final_reads(("k0",), regions=3), read_view(freeze), regions=REGIONS)
    h = simulate(clients(g), concurrency=3, nemesis=False, complete=complete)
    assert {op["final_round"] for op in h} == {1}
