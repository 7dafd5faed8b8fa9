"""Async promises on hand-built histories: each violation caught with its kind and a
sentence made from the data; legal indeterminacy not flagged."""

from checkers import async_props
from checkers.async_props import Convergence, lww_check, region_order_check, written_values_check
from tests.checkers.build import History, first, kinds

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def test_sc_read_going_back_in_time_is_caught():
    h = (History().write("k1", 0, 5, 1, region=E2).write("k1", 10, 15, 2, region=E1)
         .read("k1", 20, 22, 1, region=E2).read("k1", 30, 32, 2, region=E2)
         .read("k1", 40, 42, 1, region=E2))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is False
    a = first(r, "non-monotonic-read")
    assert a["region"] == E2 and a["key"] == "k1" and not a["expected"]
    assert "went back in time" in a["explanation"]
    assert "1 was seen" in a["explanation"] and "2" in a["explanation"]
    assert "0.040 s" in a["explanation"]


def test_concurrent_reads_may_disagree():
    # the middle read overlaps both others: no order between them is proven
    h = (History().write("k1", 0, 5, 1, region=E2).write("k1", 0, 6, 2, region=E1)
         .read("k1", 20, 22, 1, region=E2).read("k1", 21, 45, 2, region=E2)
         .read("k1", 40, 42, 1, region=E2))
    assert region_order_check({}, h.ops(), {})["valid"] is True


def test_no_item_after_a_seen_value_goes_back_in_time():
    h = (History().write("k1", 0, 5, 7, region=E1).read("k1", 10, 12, 7, region=E2)
         .read("k1", 20, 22, None, region=E2))
    r = region_order_check({}, h.ops(), {})
    assert kinds(r) == {"non-monotonic-read": 1}
    assert "found no item" in first(r, "non-monotonic-read")["explanation"]


def test_read_your_writes_violation_older_value():
    h = (History().write("k7", 0, 10, 4, region=E2).write("k7", 20, 30, 5, region=E2)
         .read("k7", 40, 42, 4, region=E2))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is False
    a = first(r, "read-your-writes")
    assert a["region"] == E2
    assert a["explanation"].startswith("SC read of k7 in us-east-2 at 0.040 s")
    assert "returned 4, but write 5" in a["explanation"]


def test_read_your_writes_violation_no_item():
    h = History().write("k7", 0, 10, 5, region=W2).read("k7", 12, 14, None, region=W2)
    r = region_order_check({}, h.ops(), {})
    a = first(r, "read-your-writes")
    assert "found no item, but write 5 had been acknowledged in us-west-2" in a["explanation"]


def test_other_region_stale_read_is_not_a_promise_violation():
    h = History().write("k7", 0, 10, 5, region=E1).read("k7", 12, 14, None, region=E2)
    assert region_order_check({}, h.ops(), {})["valid"] is True


def test_ec_reads_may_lag_sc_reads_but_not_go_back():
    h = (History().write("k", 0, 5, 1).write("k", 10, 15, 2)
         .read("k", 20, 21, 2).read("k", 30, 31, 1, consistent=False))
    assert region_order_check({}, h.ops(), {})["valid"] is True
    h.read("k", 40, 41, 2, consistent=False).read("k", 50, 51, 1, consistent=False)
    r = region_order_check({}, h.ops(), {})
    assert first(r, "non-monotonic-read")["stream"] == "EC"
    assert region_order_check({}, h.ops(), {}, ec_monotonic=False)["valid"] is True


def test_value_never_written():
    h = History().write("k", 0, 5, 1).read("k", 10, 12, 99, region=E2, consistent=False)
    r = written_values_check({}, h.ops(), {})
    a = first(r, "unwritten-value")
    assert r["valid"] is False and a["region"] == E2
    assert a["explanation"] == ("EC read of k in us-east-2 at 0.010 s (op 2) returned 99, "
                                "a value no write of k ever wrote")


def test_failed_write_visible_and_retried_write_not():
    h = (History().write("k", 0, 5, 1, type="fail", error="ConditionalCheckFailed")
         .read("k", 10, 12, 1))
    r = written_values_check({}, h.ops(), {})
    assert "failed with ConditionalCheckFailed" in first(r, "failed-write-visible")["explanation"]
    # the workload retried the same value and it succeeded: visible is fine
    h.write("k", 6, 8, 1)
    assert written_values_check({}, h.ops(), {})["valid"] is True


def test_crashed_write_may_become_visible_any_time_later():
    h = History().write("k", 0, 5, 1, type="info", error="timeout").read("k", 5000, 5001, 1)
    assert written_values_check({}, h.ops(), {})["valid"] is True


def test_read_before_write():
    h = History().read("k", 0, 2, 3).write("k", 5, 9, 3)
    r = written_values_check({}, h.ops(), {})
    assert "before any write of 3 began" in first(r, "read-before-write")["explanation"]


def _final(h, key, values, at=1000):
    for i, (region, v) in enumerate(values.items()):
        h.read(key, at + i, at + i + 1, v, region=region, final=True)
    return h


def test_divergence_after_heal():
    h = History().write("k", 0, 5, 1, region=E1).write("k", 1, 6, 2, region=E2)
    _final(h, "k", {E1: 1, E2: 2, W2: 2})
    r = Convergence().check({"regions": [E1, E2, W2]}, h.ops(), {})
    a = first(r, "divergence")
    assert r["valid"] is False
    assert a["explanation"].startswith("After the final heal the final SC reads of k disagree: 1 in us-east-1")
    assert a["values"] == {E1: 1, E2: 2, W2: 2}


def test_strong_final_reads_split_by_a_write_that_timed_out_are_left_to_linearizability():
    """Jepsen's :info: a write that timed out may take effect at any later time, even
    between two regions' final reads (test-all --quick --mode strong --seed 4, register
    x outage: no item in us-east-2's final read, 2 in the others'). Under MRSC the final
    reads are SC reads, judged with the write's indeterminacy by linearizability (M06):
    the convergence rule, which assumes nothing is in flight, leaves the key to it."""
    regions = {"regions": [E1, E2, W2]}
    h = History().write("k", 0, 50, 2, region=E1, type="info", error="timeout")
    _final(h, "k", {E2: None, E1: 2, W2: 2})
    r = Convergence(strong=True).check(regions, h.ops(), {})
    assert r["valid"] is True and r["final_keys_in_flight"] == 1, r
    from checkers.modes import checker_for
    composed = checker_for("strong", "register").check(regions, h.ops(), {})
    assert composed["valid"] is True, composed
    # the same history judged as async: the rule assumes a timed-out write lands, if at
    # all, before the final wait ends (docs/CONVENTIONS.md), and the split is divergence
    assert Convergence().check(regions, h.ops(), {})["valid"] is False
    # a write that ended before the final reads began leaves nothing in flight
    h = History().write("k", 0, 50, 2, region=E1)
    _final(h, "k", {E2: None, E1: 2, W2: 2})
    r = Convergence(strong=True).check(regions, h.ops(), {})
    assert r["valid"] is False and kinds(r) == {"divergence": 1}, r


def test_convergence_unknown_without_final_reads_and_missing_regions_listed():
    h = History().write("k", 0, 5, 1)
    assert Convergence().check({}, h.ops(), {})["valid"] == "unknown"
    _final(h, "k", {E1: 1, E2: 1})
    r = Convergence().check({"regions": [E1, E2, W2]}, h.ops(), {})
    assert r["valid"] is True and r["missing_final_reads"] == {"k": [W2]}


def test_lww_converged_on_provably_overwritten_value():
    h = History().write("k", 0, 5, 1, region=E1).write("k", 10, 15, 2, region=E2)
    _final(h, "k", {E1: 1, E2: 1, W2: 1})
    r = lww_check({}, h.ops(), {})
    a = first(r, "lww-winner")
    assert "converged on 1" in a["explanation"] and "write 2" in a["explanation"]


def test_lww_concurrent_writes_either_may_win():
    h = History().write("k", 0, 10, 1, region=E1).write("k", 5, 15, 2, region=E2)
    _final(h, "k", {E1: 1, E2: 1, W2: 1})
    assert lww_check({}, h.ops(), {})["valid"] is True


def test_lww_under_clock_skew_is_not_misjudged():
    # us-east-2's clock runs 50 ms behind: its later write may lose
    h = (History().nemesis("skew-clock", {"region": E2, "ms": -50}, 0)
         .write("k", 1, 5, 1, region=E1).write("k", 10, 15, 2, region=E2))
    _final(h, "k", {E1: 1, E2: 1, W2: 1})
    assert lww_check({}, h.ops(), {})["valid"] is True


def test_lww_with_versions():
    h = History().write("k", 0, 10, 1, region=E1).write("k", 5, 15, 2, region=E2)
    _final(h, "k", {E1: 1, E2: 1})
    good = {E1: {"k": {"value": 1, "timestamp": 9, "origin": E1}},
            E2: {"k": {"value": 1, "timestamp": 9, "origin": E1}}}
    r = lww_check({}, h.ops(), {"versions": good})
    assert r["valid"] is True and r["used_versions"] is True
    bad = {E1: {"k": {"value": 1, "timestamp": 9, "origin": E1}},
           E2: {"k": {"value": 2, "timestamp": 12, "origin": E2}}}
    a = first(lww_check({}, h.ops(), {"versions": bad}), "lww-winner")
    assert "highest version timestamp (12, from us-east-2" in a["explanation"]
    wrong_origin = {E1: {"k": {"value": 1, "timestamp": 9, "origin": W2}}}
    a = first(lww_check({}, h.ops(), {"versions": wrong_origin}), "lww-winner")
    assert "claims origin us-west-2" in a["explanation"]


def test_two_cycle_search_finds_long_cycles():
    # a chain a -> b -> c -> a through distinct reads must be caught (via some pair)
    h = (History().write("k", 0, 1, "a").write("k", 0, 1, "b").write("k", 0, 1, "c")
         .read("k", 10, 20, "a").read("k", 15, 30, "b").read("k", 25, 40, "c")
         .read("k", 35, 50, "a"))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is False


def test_cas_observes_old_and_new():
    h = (History().write("k", 0, 1, 1).op("cas", "k", 10, 12, value=[1, 2])
         .read("k", 20, 21, 1))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is False
    assert async_props.written_values_check({}, h.ops(), {})["valid"] is True


# --- issue 19, class 12: values reused by a writer ----------------------------------------

def test_a_value_written_again_after_another_is_unknown_not_a_violation():
    # E1 writes 5, then 6, then 5 again (a retry reusing the value) and reads 5. Each
    # write makes a version of its own (A06), so E1 legitimately held 5, 6, 5: the order
    # checks' precondition (unique values per key: a region holds each value during one
    # stretch of time) is broken, and the verdict is unknown with the reason, never a
    # read-your-writes or monotonic-reads violation.
    h = (History().write("k", 0, 5, 5, region=E1).write("k", 10, 15, 6, region=E1)
         .write("k", 20, 25, 5, region=E1).read("k", 30, 32, 5, region=E1))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] == "unknown", r
    assert r["anomalies"] == [] and r["reused_values"] == 1
    assert "unique values" in r["reason"] and "5 to k" in r["reason"]


def test_a_retry_with_no_other_write_between_keeps_values_unique():
    # the same value written twice with nothing written in between: adjacent versions of
    # one value, so the region still held it during one stretch and a real going-back
    # (5, 6, 5 with 5 written only before 6) is still caught. (A timed-out attempt, by
    # contrast, may take effect at any later time, after 6 too: that one is ambiguous.)
    h = (History().write("k", 0, 5, 5, region=E1)
         .write("k", 6, 8, 5, region=E1).write("k", 10, 15, 6, region=E1)
         .read("k", 30, 32, 5, region=E1))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is False and "reused_values" not in r, r
    h = (History().write("k", 0, 5, 5, region=E1, type="info")
         .write("k", 6, 8, 5, region=E1).write("k", 10, 15, 6, region=E1)
         .read("k", 30, 32, 5, region=E1))
    assert region_order_check({}, h.ops(), {})["valid"] == "unknown"


def test_reused_values_leave_the_whole_async_register_verdict_unknown_not_invalid():
    from checkers.modes import checker_for
    h = (History().write("k", 0, 5, 5, region=E1).write("k", 10, 15, 6, region=E1)
         .write("k", 20, 25, 5, region=E1).read("k", 30, 32, 5, region=E1))
    for r in (E1, E2, W2):
        h.read("k", 100, 102, 5, region=r, final=True)
    res = checker_for("async", "register", linearizability=False).check(
        {"regions": [E1, E2, W2]}, h.ops(), {})
    assert res["read-your-writes"]["valid"] == "unknown", res["read-your-writes"]
    assert res["monotonic-reads"]["valid"] == "unknown"
    assert res["valid"] is not False
