"""Final reads in rounds (checkers/final_rounds.py, issue 21): the last round's reads are
the final reads; earlier rounds' reads are ordinary SC reads, still judged per read."""

from __future__ import annotations

from checkers.elle.run import convergence_check
from checkers.final_rounds import last_round_final, rounds_of
from checkers.modes import checker_for
from results.history import Op
from tests.checkers.build import MS, History

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
TEST = {"regions": list(REGIONS), "mode": "async"}


def with_rounds(ops: list[Op], starts_ms: list[float]) -> list[Op]:
    """Final ops numbered by round: round n holds the final ops invoked from
    starts_ms[n-1] on (a completion takes its invocation's round)."""
    out, open_ = [], {}
    for op in ops:
        if op.extra.get("final"):
            if op.type == "invoke":
                n = sum(1 for s in starts_ms if op.time >= s * MS)
                open_[op.process] = n
            else:
                n = open_.pop(op.process)
            op = op.replace(extra={**op.extra, "final_round": n})
        out.append(op)
    return out


def late_landing(*, lands: bool) -> list[Op]:
    """k2 written 46 then 49 (in us-west-2, whose replication was paused); round 1 of the
    final reads (from 100 ms) sees 46 in us-east-2 and 49 elsewhere: 49 had not landed in
    us-east-2 yet. With `lands`, round 2 (from 400 ms) and round 3 (from 700 ms) read 49
    everywhere; without, us-east-2 keeps 46 (a replicated write dropped)."""
    h = History()
    h.write("k2", 0, 5, 46, region="us-east-2")
    h.write("k2", 10, 15, 49, region="us-west-2")
    h.read("k2", 20, 25, 49, region="us-west-2")
    late = 49 if lands else 46
    for start, east2 in ((100, 46), (400, late), (700, late)):
        for i, r in enumerate(REGIONS):
            got = east2 if r == "us-east-2" else 49
            h.read("k2", start + 10 * i, start + 10 * i + 5, got, region=r, final=True)
    return with_rounds(h.ops(), [100, 400, 700])


def test_rounds_are_read_from_the_final_phase():
    ops = late_landing(lands=True)
    assert rounds_of(ops) == [1, 2, 3]
    settled = last_round_final(ops)
    assert rounds_of(settled) == [3]
    final = [op for op in settled if op.extra.get("final")]
    assert len(final) == 6 and all(op.extra["final_round"] == 3 for op in final)
    # the earlier rounds' reads stay in the history, numbered, as ordinary reads
    assert sum(1 for op in settled if op.extra.get("final_round") in (1, 2)) == 12


def test_one_round_is_handed_on_unchanged():
    h = History()
    h.write("k0", 0, 5, 1)
    for r in REGIONS:
        h.read("k0", 100, 105, 1, region=r, final=True)
    ops = h.ops()
    assert last_round_final(ops) is ops
    assert rounds_of(ops) == [1]


def test_a_late_landing_between_rounds_is_valid():
    """The false alarm of docs/detection.md ("False alarms seen on the way"): round 1
    disagrees because a write replicated late had not landed yet; a later round agrees.
    Before rounds every final read was judged together: lww-model said "final reads
    disagree" and the run was INVALID."""
    result = checker_for("async", "register").check(TEST, late_landing(lands=True), {})
    assert result["valid"] is True, {k: v for k, v in result.items() if isinstance(v, dict)
                                     and v.get("valid") is not True}
    assert result["convergence"]["final_rounds"] == 3
    assert result["convergence"]["converged"] == 1
    assert result["lww-model"]["valid"] is True


def test_a_divergence_that_stays_is_invalid():
    result = checker_for("async", "register").check(TEST, late_landing(lands=False), {})
    assert result["valid"] is False
    conv = result["convergence"]
    assert conv["valid"] is False and conv["anomaly_counts"] == {"divergence": 1}
    a = conv["anomalies"][0]
    assert a["final_round"] == 3 and "last final round (3)" in a["explanation"]
    assert a["values"]["us-east-2"] == 46 and a["values"]["us-west-2"] == 49


def test_earlier_rounds_are_still_judged_per_read():
    """A region's reads going back in time across rounds is a monotonic-reads violation
    (A05): round 1 saw 49 in us-east-2, round 2 saw 46 there."""
    h = History()
    h.write("k2", 0, 5, 46, region="us-east-1")
    h.write("k2", 10, 15, 49, region="us-west-2")
    for start, east2 in ((100, 49), (400, 46), (700, 49)):
        for i, r in enumerate(REGIONS):
            h.read("k2", start + 10 * i, start + 10 * i + 5,
                   east2 if r == "us-east-2" else 49, region=r, final=True)
    ops = with_rounds(h.ops(), [100, 400, 700])
    result = checker_for("async", "register").check(TEST, ops, {})
    mono = result["monotonic-reads"]
    assert mono["valid"] is False and mono["anomaly_counts"] == {"non-monotonic-read": 1}
    assert result["convergence"]["valid"] is True


def txn_read(h: History, key, start, value, region, rnd_final=True):
    p = h.next_process
    h.next_process += 1
    base = {"process": p, "f": "txn", "key": None, "region": region, "consistent": True,
            "extra": {"final": True}}
    h._add(int(start * MS), {**base, "type": "invoke", "value": [["r", key, None]]})
    h._add(int((start + 5) * MS), {**base, "type": "ok", "value": [["r", key, value]]})


def test_txn_convergence_judges_the_last_round():
    """rw-register x pause (docs/detection.md): the same late landing, read through
    TransactGetItems. Before rounds, every final read was compared: divergence."""
    def history(lands: bool) -> list[Op]:
        h = History()
        for start, east2 in ((100, 46), (400, 49 if lands else 46)):
            for i, r in enumerate(REGIONS):
                txn_read(h, "k2", start + 10 * i, east2 if r == "us-east-2" else 49, r)
        return with_rounds(h.ops(), [100, 400])
    ok = convergence_check(history(True))
    assert ok["valid"] is True and ok["final_rounds"] == 2
    bad = convergence_check(history(False))
    assert bad["valid"] is False and bad["anomaly_counts"] == {"divergence": 1}
    assert "last final round (2)" in bad["anomalies"][0]["explanation"]


def test_the_report_names_the_judged_round():
    from results.report._view import promise_verdict
    result = checker_for("async", "register").check(TEST, late_landing(lands=True), {})
    cls, word, text = promise_verdict("convergence", result["convergence"])
    assert (cls, word) == ("valid", "held")
    assert "judged on final round 3: rounds 1-2 were read while the regions still " \
           "disagreed" in text
    one = History().write("k0", 0, 5, 1)
    for r in REGIONS:
        one.read("k0", 100, 105, 1, region=r, final=True)
    single = checker_for("async", "register").check(TEST, one.ops(), {})
    assert "final round" not in promise_verdict("convergence", single["convergence"])[2]


def test_a_last_round_never_answered_leaves_the_answered_one_final():
    """A round none of whose reads was answered (e.g. a --max-requests budget spent)
    says nothing: the last answered round stays the final reads."""
    h = History()
    h.write("k0", 0, 5, 1)
    for r in REGIONS:
        h.read("k0", 100, 105, 1, region=r, final=True)
    for r in REGIONS:
        h.read("k0", 400, 405, None, region=r, final=True, type="fail",
               error="max-requests")
    ops = with_rounds(h.ops(), [100, 400])
    assert last_round_final(ops) is ops  # round 2 unanswered: round 1 is judged as is
    result = checker_for("async", "register").check(TEST, ops, {})
    assert result["convergence"]["valid"] is True
    assert result["convergence"]["converged"] == 1
