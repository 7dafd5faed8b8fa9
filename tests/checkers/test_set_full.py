"""The set-full checker and the replication-lag figures on hand-built histories.

Each history is a few adds (PutItem of one element) and scans (reads of the whole set)
in named regions, with times in milliseconds; the tests say which verdict and which
anomaly each promise (A01, A03, A05, A08/A09, M06, M15) gives, and what lag bounds an
element's first sighting yields.
"""

from __future__ import annotations

import pytest

from checkers.set_full import SetFullChecker, checkers_for, lag_check
from tests.checkers.build import History, first, kinds

A, B, C = "us-east-1", "us-east-2", "us-west-2"
K = "set-full"
TEST_ASYNC = {"mode": "async", "regions": [A, B, C]}
TEST_STRONG = {"mode": "strong", "regions": [A, B, C]}


def add(h: History, e: int, start: float, end: float | None, region: str, **kw) -> History:
    return h.op("add", K, start, end, region=region, value=e, **kw)


def scan(h: History, start: float, end: float, region: str, seen, **kw) -> History:
    return h.read(K, start, end, sorted(seen), region=region, **kw)


def finals(h: History, at: float, seen, regions=(A, B, C)) -> History:
    for r in regions:
        scan(h, at, at + 2, r, seen, final=True)
    return h


def check(h: History, test=TEST_ASYNC) -> dict:
    """The violations view and the allowed-staleness view, merged as one result."""
    ops = h.ops()
    bad = SetFullChecker(test["mode"]).check(test, ops, {})
    allowed = SetFullChecker(test["mode"], allowed=True).check(test, ops, {})
    assert all(not a["expected"] for a in bad["anomalies"])
    assert all(a["expected"] for a in allowed["anomalies"]) and allowed["valid"] is not False
    counts = dict(allowed["anomaly_counts"])
    for k, n in bad["anomaly_counts"].items():
        counts[k] = counts.get(k, 0) + n
    return {**bad, "anomaly_counts": counts,
            "anomalies": bad["anomalies"] + allowed["anomalies"]}


def healthy() -> History:
    """Element 1 added in A (acked at 10 ms), visible in A at once; B's EC read at 15 ms
    and SC read at 20 ms miss it (remote staleness), B sees it at 60 ms; C at 40 ms."""
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 12, 14, A, [1])
    scan(h, 15, 17, B, [], consistent=False)
    scan(h, 20, 22, B, [])
    scan(h, 30, 32, C, [])
    scan(h, 38, 42, C, [1])
    scan(h, 58, 62, B, [1])
    return finals(h, 100, [1])


def test_a_healthy_async_history_is_valid_and_reports_remote_staleness():
    res = check(healthy())
    assert res["valid"] is True
    assert kinds(res) == {"stale-read": 2}
    stale = first(res, "stale-read")
    assert stale["expected"] is True and stale["region"] in (B, C)
    assert res["elements"] == {"attempted": 1, "acknowledged": 1, "known": 1, "lost": 0}
    assert res["regions"][A] == {"stable": 1, "stale": 0, "lost": 0, "never_read": 0}
    assert res["regions"][B]["stale"] == 1 and res["regions"][C]["stale"] == 1
    # B first saw it in the read that ended at 62 ms: 52 ms after the acknowledgement.
    assert res["worst_stale"][0] == {"element": 1, "region": B, "stale_ms": 52.0}


def test_the_same_history_breaks_mrsc_sc_reads_m06():
    res = check(healthy(), TEST_STRONG)
    assert res["valid"] is False
    a = first(res, "stale-read")
    assert a["expected"] is False and a["region"] in (B, C) and "M06" in a["explanation"]
    # B's EC read missing it is allowed (M07): only the SC misses are violations.
    assert kinds(res)["stale-read"] == 2


def test_an_element_missing_from_a_final_read_is_lost_a08_a09():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 12, 14, A, [1])
    scan(h, 40, 42, B, [1])
    scan(h, 100, 102, A, [1], final=True)
    scan(h, 100, 102, B, [1], final=True)
    scan(h, 100, 102, C, [], final=True)
    res = check(h)
    assert res["valid"] is False
    a = first(res, "lost-add")
    assert a["region"] == C and a["element"] == 1 and a["how"] == "never-visible"
    assert res["elements"]["lost"] == 1 and res["lost"] == [1]
    assert res["regions"][C]["lost"] == 1


def test_an_element_seen_then_gone_vanished_a05():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 40, 42, B, [1])
    scan(h, 50, 52, B, [])        # begun after the read that saw it completed
    finals(h, 100, [1])
    res = check(h)
    assert res["valid"] is False
    a = first(res, "non-monotonic-read")
    assert a["region"] == B and a["element"] == 1 and a["stream"] == "SC"


def test_vanished_before_the_final_reads_is_lost_with_how_vanished():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 40, 42, B, [1])
    finals(h, 100, [1], regions=(A, C))
    scan(h, 100, 102, B, [], final=True)
    res = check(h)
    assert first(res, "lost-add")["how"] == "vanished"
    assert "non-monotonic-read" in kinds(res)


def test_an_sc_read_in_the_writing_region_must_see_the_write_a01():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 12, 14, A, [])
    finals(h, 100, [1])
    res = check(h)
    assert res["valid"] is False
    a = first(res, "read-your-writes")
    assert a["region"] == A and "A01" in a["explanation"]


def test_an_ec_read_in_the_writing_region_may_miss_it_g2():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 12, 14, A, [], consistent=False)
    finals(h, 100, [1])
    res = check(h)
    assert res["valid"] is True and kinds(res) == {"stale-read": 1}


def test_a_read_that_began_before_the_ack_may_miss_it():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 5, 14, A, [])         # concurrent with the add
    scan(h, 5, 14, B, [])
    finals(h, 100, [1])
    assert check(h, TEST_STRONG)["valid"] is True


def test_never_added_and_failed_elements_are_violations_in_both_modes():
    h = History()
    add(h, 1, 0, 10, A, type="fail", error="Validation")
    scan(h, 20, 22, A, [1, 7])
    finals(h, 100, [])
    for test in (TEST_ASYNC, TEST_STRONG):
        res = check(h, test)
        assert res["valid"] is False
        assert {"never-added", "failed-write-visible"} <= set(kinds(res))


def test_an_unacknowledged_add_is_known_once_seen_and_then_must_persist():
    h = History()
    add(h, 1, 0, None, A)          # in flight when the history ended: outcome unknown
    scan(h, 20, 22, B, [1])
    finals(h, 100, [1], regions=(A, B))
    scan(h, 100, 102, C, [], final=True)
    res = check(h)
    assert first(res, "lost-add")["region"] == C
    # ... but an unacknowledged add nobody saw is not lost.
    h2 = History()
    add(h2, 1, 0, None, A)
    finals(h2, 100, [])
    assert check(h2)["valid"] is True


def test_regions_with_no_read_after_the_element_was_known_never_read_it():
    h = History()
    add(h, 1, 50, 60, A)
    scan(h, 20, 22, B, [])
    scan(h, 70, 72, A, [1])
    res = check(h)
    assert res["regions"][B]["never_read"] == 1 and res["regions"][C]["never_read"] == 1
    assert res["regions"][A]["stable"] == 1


def test_no_reads_is_unknown():
    h = History()
    add(h, 1, 0, 10, A)
    assert check(h)["valid"] == "unknown"


def test_lag_bounds_are_the_previous_read_start_and_the_first_sighting_end():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 20, 22, B, [])         # begun 10 ms after the ack: the lower bound
    scan(h, 40, 46, B, [1])        # ended 36 ms after the ack: the upper bound
    # no SC read in C before the one that saw it: the lower bound is the add's start
    scan(h, 30, 34, C, [1])
    scan(h, 35, 37, C, [1], consistent=False)
    lag = lag_check(TEST_ASYNC, h.ops(), {})
    assert lag["valid"] is True
    ab, ac = lag["pairs"][f"{A}->{B}"], lag["pairs"][f"{A}->{C}"]
    assert ab["count"] == 1 and ab["lower_ms"]["p50"] == 10.0 and ab["upper_ms"]["p50"] == 36.0
    assert ab["estimate_ms"]["p50"] == 23.0 and ab["samples_ms"] == [23.0]
    assert ab["resolution_ms"] == 26.0
    assert ac["lower_ms"]["p50"] == -10.0 and ac["upper_ms"]["p50"] == 24.0
    assert lag["pairs"][f"{B}->{A}"]["count"] == 0


def test_lag_counts_elements_never_seen_in_a_region():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 20, 22, B, [])
    lag = lag_check(TEST_ASYNC, h.ops(), {})
    assert lag["pairs"][f"{A}->{B}"]["never_seen"] == 1
    assert lag["pairs"][f"{A}->{B}"]["estimate_ms"] == {}


def test_lag_samples_are_thinned_but_keep_the_extremes():
    h = History()
    for i in range(3000):
        t = i * 10.0
        add(h, i, t, t + 1, A)
        scan(h, t + 2, t + 3 + (i % 7), B, list(range(i + 1)))
    pair = lag_check(TEST_ASYNC, h.ops(), {})["pairs"][f"{A}->{B}"]
    assert pair["count"] == 3000 and len(pair["samples_ms"]) == 2000
    assert pair["samples_ms"][0] == min(pair["samples_ms"])
    assert pair["samples_ms"][-1] == pair["estimate_ms"]["max"]


@pytest.mark.parametrize("mode", ["async", "strong"])
def test_the_checker_set_names_promises_and_judges_both_modes(mode):
    names = set(checkers_for(mode))
    assert {"set-full", "replication-lag", "convergence", "availability", "latency"} <= names


def test_an_unknown_mode_is_bad_input():
    from suite.errors import BadInput
    with pytest.raises(BadInput):
        checkers_for("eventual")


def test_mrsc_lag_comes_from_ec_reads_async_lag_from_sc_reads():
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 12, 14, B, [1])                        # an SC read: fenced, sees it at once
    scan(h, 20, 22, B, [], consistent=False)       # B's local copy had not applied it yet
    scan(h, 50, 52, B, [1], consistent=False)
    strong = lag_check(TEST_STRONG, h.ops(), {})
    asynch = lag_check(TEST_ASYNC, h.ops(), {})
    assert strong["reads"] == "EC" and asynch["reads"] == "SC"
    assert strong["pairs"][f"{A}->{B}"]["lower_ms"]["p50"] == 10.0
    assert strong["pairs"][f"{A}->{B}"]["upper_ms"]["p50"] == 42.0
    assert asynch["pairs"][f"{A}->{B}"]["upper_ms"]["p50"] == 4.0


def test_violations_and_allowed_staleness_are_counted_apart_by_the_run_summary():
    from checkers.core import compose
    from suite.core import anomaly_counts
    h = healthy()                      # B and C missed element 1 with SC and EC reads
    ops = h.ops()
    composed = compose(checkers_for("strong")).check(TEST_STRONG, ops, {})
    results = {"checkers": {k: v for k, v in composed.items() if k != "valid"}}
    assert composed["valid"] is False
    assert anomaly_counts(results, expected=False) == {"stale-read": 2}   # SC misses (M06)
    # B's EC miss is allowed (M07) but B's SC miss already names (element 1, B).
    assert anomaly_counts(results, expected=True) == {}
    composed = compose(checkers_for("async")).check(TEST_ASYNC, ops, {})
    results = {"checkers": {k: v for k, v in composed.items() if k != "valid"}}
    assert composed["valid"] is True
    assert anomaly_counts(results, expected=False) == {}
    assert anomaly_counts(results, expected=True) == {"stale-read": 2}


# --- issue 19, class 5: every SC read begun after the acknowledgement is judged ---------

def overlapped_then_missed(region_of_reads: str) -> History:
    """Element 1 acknowledged in A at 10 ms. An SC read in `region_of_reads` begun at
    5 ms (before the ack) and still running shows it; a second SC read there, begun at
    12 ms (after the ack) and done before the first, misses it. Being the first read to
    hold the element, the earlier-begun one used to end the judged window."""
    h = History()
    add(h, 1, 0, 10, A)
    scan(h, 5, 30, region_of_reads, [1])
    scan(h, 12, 14, region_of_reads, [])
    return finals(h, 100, [1])


def test_an_sc_read_after_the_ack_missing_what_an_overlapping_read_showed_breaks_a01():
    # A01: an SC read in the writing region sees an acknowledged write at once; the read
    # begun at 12 ms is bound by it whatever an overlapping earlier read showed.
    res = check(overlapped_then_missed(A))
    assert res["valid"] is False
    bad = first(res, "read-your-writes")
    assert bad["region"] == A and bad["element"] == 1 and bad["expected"] is False
    assert bad["ops"][0] == 3  # the read begun at 12 ms (invocation index)


def test_an_sc_read_after_the_ack_missing_what_an_overlapping_read_showed_breaks_m06():
    # M06: under MRSC an SC read anywhere reflects every write acknowledged before it.
    res = check(overlapped_then_missed(B), TEST_STRONG)
    assert res["valid"] is False
    bad = first(res, "stale-read")
    assert bad["region"] == B and bad["element"] == 1 and bad["expected"] is False


def test_a_remote_async_sc_read_missing_it_after_an_overlapping_sighting_is_allowed_a03():
    # A03: a remote SC read may not reflect a write acknowledged elsewhere; the two reads
    # overlap, so A05 (monotonic reads: later reads begun after one completed) is not
    # broken either.
    res = check(overlapped_then_missed(B))
    assert res["valid"] is True
    assert "read-your-writes" not in kinds(res) and "non-monotonic-read" not in kinds(res)


# --- deletes (issue 21) --------------------------------------------------------------

def delete(h: History, e: int, start: float, end: float | None, region: str) -> History:
    return h.op("delete", K, start, end, region=region, value=e)


def deleted_history(*, b_final_holds: bool = False, b_comes_back: bool = False) -> History:
    h = History()
    add(h, 1, 0, 5, A)
    add(h, 2, 0, 5, B)
    scan(h, 10, 12, A, [1, 2])
    scan(h, 10, 12, B, [1, 2])
    delete(h, 1, 20, 25, A)
    scan(h, 30, 32, A, [2])           # the deleting region: gone at once (A01)
    scan(h, 30, 32, B, [1, 2])        # elsewhere: the delete not yet replicated (A03)
    scan(h, 40, 42, B, [2])
    scan(h, 50, 52, B, [1, 2] if b_comes_back else [2])
    finals(h, 100, [2], regions=(A, C))
    return finals(h, 100, [1, 2] if b_final_holds else [2], regions=(B,))


def test_a_deleted_element_missing_afterwards_is_neither_lost_nor_stale():
    for test in (TEST_ASYNC, TEST_STRONG):
        h = deleted_history()
        if test is TEST_STRONG:  # MRSC: B's SC read at 30 ms would be a stale read
            h = History()
            add(h, 1, 0, 5, A)
            scan(h, 10, 12, B, [1])
            delete(h, 1, 20, 25, A)
            scan(h, 30, 32, B, [])
            finals(h, 100, [])
        r = check(h, test)
        assert r["valid"] is True, r["anomalies"]
        assert "lost-add" not in r["anomaly_counts"]


def test_a_deleted_element_shown_again_is_resurrected():
    r = check(deleted_history(b_comes_back=True))
    assert r["valid"] is False and r["anomaly_counts"].get("resurrected") == 1
    a = first(r, "resurrected")
    assert a["region"] == B and a["element"] == 1 and "undone" in a["explanation"]
    r = check(deleted_history(b_final_holds=True))
    assert r["valid"] is False and first(r, "resurrected")["region"] == B


def test_an_sc_read_after_the_acknowledged_delete_must_lack_it():
    h = History()
    add(h, 1, 0, 5, A)
    delete(h, 1, 20, 25, A)
    scan(h, 30, 32, A, [1])
    assert kinds(check(h)) == {"read-your-writes": 1}
    h = History()
    add(h, 1, 0, 5, A)
    delete(h, 1, 20, 25, A)
    scan(h, 30, 32, C, [1])
    assert check(h)["valid"] is True            # async: remote staleness is allowed
    assert "stale-read" in kinds(check(h, TEST_STRONG))  # MRSC: M06


def expiring_history(extend: str | None) -> History:
    """Element 1 added in A with an expiry already past (`ttl`), then (`extend` "ok" or
    "fail") its expiry extended in A; the final reads lack it everywhere."""
    h = History()
    add(h, 1, 0, 5, A)
    h.records[-1][2]["extra"]["ttl"] = True   # invoke and completion share `extra`
    scan(h, 6, 8, A, [1])
    if extend is not None:
        h.op("extend", K, 10, 12, region=A, value=1, type=extend,
             error="ConditionalCheckFailed" if extend == "fail" else None)
    return finals(h, 100, [])


def test_an_expiring_element_may_be_gone_unless_its_extension_was_acknowledged_a12():
    assert check(expiring_history(None))["valid"] is True      # TTL deleted it
    assert check(expiring_history("fail"))["valid"] is True    # deleted before the extension
    r = check(expiring_history("ok"))                          # extended: TTL may not delete it
    assert r["valid"] is False and r["anomaly_counts"].get("lost-add") == 3
    assert first(r, "lost-add")["element"] == 1
