"""The online checker (checkers/online.py): per-key checkers run on the history as it is
fed, find a violation that the offline check also finds, and never one it does not."""

from __future__ import annotations

import threading

from checkers.online import OnlineChecker, online_checkers
from checkers.modes import checker_for
from suite.config import Test
from tests.checkers.build import History

TEST = Test(workload="register", mode="strong")


def judge(test, ops, opts) -> dict:
    """The offline check: every checker of the mode on the whole history."""
    res = checker_for(test.mode, test.workload).check(test.to_json(), ops, opts)
    return {"valid": res.pop("valid"), "checkers": res}


def _feed(ops, **kw) -> tuple[OnlineChecker, list]:
    cheap, cold = online_checkers("strong", "register")
    seen: list = []
    done = threading.Event()

    def found(v):
        seen.append(v)
        done.set()
    oc = OnlineChecker(TEST.to_json(), cheap, cold, on_violation=found, every_s=0.01, **kw)
    for op in ops:
        oc(op)
    return oc, seen


def _stale_history() -> list:
    h = History()
    h.write("k1", 0, 10, 1, region="us-east-1")
    h.write("k1", 20, 30, 2, region="us-east-1")
    h.read("k1", 40, 50, 1, region="us-west-2")   # misses 2, acknowledged before it began
    h.write("k2", 0, 10, 5)
    h.read("k2", 20, 30, 5)
    return h.ops()


def test_a_stale_sc_read_is_found_while_the_run_goes_and_offline_agrees():
    ops = _stale_history()
    oc, seen = _feed(ops, cold_after_ops=1000)
    oc.close()
    found = oc.judge_all()
    assert [(v.checker, v.key, v.anomaly["kind"]) for v in found][:1] == \
        [("sc-reads", "k1", "stale-read")]
    assert seen and seen[0] is found[0]          # on_violation got the first one, once
    assert {v.key for v in found} == {"k1"}      # k2 is fine
    offline = judge(TEST, ops, {})
    assert offline["valid"] is False
    assert offline["checkers"]["sc-reads"]["anomaly_counts"] == {"stale-read": 1}


def test_a_cold_key_gets_the_linearizability_search():
    ops = _stale_history()
    oc, _ = _feed(ops, cold_after_ops=1)
    oc.close()
    found = oc.judge_all()
    assert ("linearizability", "k1") in {(v.checker, v.key) for v in found}
    assert all(v.key == "k1" for v in found)


def test_a_valid_history_and_an_operation_in_flight_find_nothing():
    h = History()
    h.write("k1", 0, 10, 1)
    h.write("k1", 20, None, 2)          # in flight: may take effect at any time, or never
    h.read("k1", 30, 40, 1, region="us-west-2")
    h.read("k1", 50, 60, 2, region="us-west-2")
    ops = h.ops()
    oc, seen = _feed(ops, cold_after_ops=1)
    oc.close()
    assert oc.judge_all() == [] and seen == []
    assert judge(TEST, ops, {})["checkers"]["sc-reads"]["valid"] is True


def test_workloads_without_per_key_checkers_get_none():
    assert online_checkers("strong", "list-append") == ({}, {})


def _overlapping_valid_history() -> list:
    """A register written and read by overlapping operations; every read returns the
    value before or after the write it overlaps: linearizable."""
    h = History()
    h.write("k1", 0, 5, 1, process=100)
    v, t = 1, 0
    for i in range(40):
        v += 1
        h.write("k1", t + 10, t + 20, v, process=i % 3 * 2)
        h.read("k1", t + 11, t + 19, v - 1 if i % 2 else v, process=i % 3 * 2 + 1,
               region="us-west-2")
        t += 20
    return h.ops()


def test_a_valid_overlapping_history_finds_nothing_online_or_offline():
    ops = _overlapping_valid_history()
    oc, seen = _feed(ops, cold_after_ops=1)
    oc.close()
    assert oc.judge_all() == [] and seen == [] and oc.errors == []
    offline = judge(TEST, ops, {})["checkers"]
    assert offline["sc-reads"]["valid"] is True
    assert offline["linearizability"]["valid"] is True


def test_operations_not_yet_numbered_are_refused_never_judged():
    """Issue: a remote run fed the online checker operations before the clock mapping
    numbered them (index -1), and the linearizability search of such a prefix reported a
    violation with "history index -1" that the history did not have. Unnumbered operations
    now stop the online checking, with the reason, instead of being judged."""
    ops = [op.replace(index=-1) for op in _overlapping_valid_history()]
    oc, seen = _feed(ops, cold_after_ops=1)
    oc.close()
    assert oc.judge_all() == [] and seen == []
    assert oc.refused and "not yet recorded (index -1)" in oc.refused
    assert oc.errors == [oc.refused]
