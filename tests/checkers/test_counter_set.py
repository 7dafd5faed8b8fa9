"""Counter bounds and set checks per mode, on hand-built histories."""

from checkers.counter import CounterChecker, lost_increment_anomalies
from checkers.observe import client_pairs
from checkers.set import SetChecker, adds_by_key, lost_add_anomalies
from tests.checkers.build import History, first, kinds

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def add(h, key, s, e, v=1, **kw):
    return h.op("add", key, s, e, value=v, **kw)


def test_mrsc_sc_read_below_acknowledged_increments():
    h = History()
    add(h, "c", 0, 5, region=E1)
    add(h, "c", 6, 9, region=E1)
    h.read("c", 12, 20, 1, region=E2)
    r = CounterChecker("strong").check({}, h.ops(), {})
    a = first(r, "stale-read")
    assert r["valid"] is False and not a["expected"]
    assert a["explanation"] == ("SC read of c in us-east-2 at 0.012 s (op 4) returned 1, but "
                                "increments acknowledged before the read began make it at "
                                "least 2 (the latest, op 2 in us-east-1, at 0.009 s)")


def test_mrsc_bounds_allow_concurrent_and_crashed_increments():
    h = History()
    add(h, "c", 0, 5)
    add(h, "c", 3, None)                       # crashed, never completed: maybe
    add(h, "c", 4, 8, type="info", error="timeout")
    add(h, "c", 10, 30)                        # concurrent with the read
    add(h, "c", 1, 2, type="fail", error="ReplicatedWriteConflict")  # never happened
    for v in (1, 2, 3, 4):
        h.read("c", 12, 20, v)
    assert CounterChecker("strong").check({}, h.ops(), {})["valid"] is True
    h.read("c", 12, 20, 5)
    r = CounterChecker("strong").check({}, h.ops(), {})
    assert kinds(r) == {"counter-too-high": 1}
    assert "add up to at most 4" in first(r, "counter-too-high")["explanation"]


def test_negative_deltas():
    h = History()
    add(h, "c", 0, 5, v=5)
    add(h, "c", 10, 30, v=-3)
    h.read("c", 12, 20, 2).read("c", 12, 20, 5)
    assert CounterChecker("strong").check({}, h.ops(), {})["valid"] is True
    h.read("c", 12, 20, 1)
    assert kinds(CounterChecker("strong").check({}, h.ops(), {})) == {"stale-read": 1}


def test_async_counter_low_reads_are_not_promise_violations_high_ones_are():
    h = History()
    add(h, "c", 0, 5, region=E1)
    h.read("c", 10, 12, 0, region=E2)
    assert CounterChecker("async").check({}, h.ops(), {})["valid"] is True
    h.read("c", 10, 12, 2, region=E2)
    assert kinds(CounterChecker("async").check({}, h.ops(), {})) == {"counter-too-high": 1}


def test_mrsc_ec_counter_reads_never_decrease_in_a_region():
    h = History()
    for i in range(3):
        add(h, "c", i * 10, i * 10 + 5)
    h.read("c", 40, 41, 3, consistent=False, region=E2)
    h.read("c", 50, 51, 1, consistent=False, region=E2)
    h.read("c", 60, 61, 1, consistent=False, region=E1)
    r = CounterChecker("strong").check({}, h.ops(), {})
    assert kinds(r) == {"non-monotonic-read": 1}
    assert first(r, "non-monotonic-read")["region"] == E2


def test_lost_increments_final_value_vs_acknowledged():
    h = History()
    for i, region in enumerate([E1, E2, W2] * 5):
        add(h, "c", i, i + 3, region=region)
    for i, region in enumerate([E1, E2, W2]):
        h.read("c", 100 + i, 101 + i, 5, region=region, final=True)
    found = lost_increment_anomalies(client_pairs(h.ops()))
    assert len(found) == 1
    a = found[0]
    assert a["kind"] == "lost-increment" and a["expected"] and a["lost"] == 10
    assert a["explanation"] == ("The final value of c is 5 in every region, but 15 "
                                "acknowledged increments add up to 15: 10 lost to "
                                "last-writer-wins")


def test_set_lost_acknowledged_add_strong_and_async():
    h = History()
    add(h, "s", 0, 5, v="a", region=E1)
    add(h, "s", 1, 6, v="b", region=E2)
    for i, region in enumerate([E1, E2, W2]):
        h.read("s", 100 + i, 101 + i, ["a"], region=region, final=True)
    r = SetChecker("strong").check({}, h.ops(), {})
    a = first(r, "lost-add")
    assert r["valid"] is False and a["lost"] == 1 and a["elements"] == ["b"]
    assert "'b' (acknowledged at 0.006 s) is missing in us-east-1, us-east-2, us-west-2" in a["explanation"]
    assert r["final"]["lost"] == 1 and r["final"]["ok"] == 1
    assert SetChecker("async").check({}, h.ops(), {})["valid"] is True
    pairs = client_pairs(h.ops())
    [b] = lost_add_anomalies(pairs, adds_by_key(pairs), expected=True)
    assert b["expected"] is True


def test_set_never_added_and_failed_add_visible():
    h = History()
    add(h, "s", 0, 5, v="a")
    add(h, "s", 0, 5, v="x", type="fail", error="ReplicatedWriteConflict")
    h.read("s", 10, 11, ["a", "x", "zz"], consistent=False)
    for mode in ("async", "strong"):
        r = SetChecker(mode).check({}, h.ops(), {})
        assert kinds(r) == {"never-added": 1, "conflicted-write-visible": 1}
    assert "holds {'zz'}, never added to s" in first(r, "never-added")["explanation"]


def test_set_mrsc_sc_read_missing_acknowledged_add():
    h = History()
    add(h, "s", 0, 5, v="a")
    add(h, "s", 0, 30, v="b")      # concurrent: may be missing
    h.read("s", 10, 11, [], region=E2)
    r = SetChecker("strong").check({}, h.ops(), {})
    assert "lacks 1 element(s)" in first(r, "stale-read")["explanation"]
    h2 = History()
    add(h2, "s", 0, 5, v="a")
    add(h2, "s", 0, 30, v="b")
    h2.read("s", 10, 11, ["a"], region=E2)
    assert SetChecker("strong").check({}, h2.ops(), {})["valid"] is True


def test_set_mrsc_ec_reads_grow():
    h = History()
    add(h, "s", 0, 5, v="a")
    h.read("s", 10, 11, ["a"], consistent=False).read("s", 20, 21, [], consistent=False)
    assert kinds(SetChecker("strong").check({}, h.ops(), {})) == {"non-monotonic-read": 1}


# --- issue 19, class 9: an async SC read of 0 after the region's own increment ----------

def test_async_sc_read_of_zero_after_own_acknowledged_increment_is_a_violation():
    # A01: E1's SC read begun after its own increment was acknowledged; a concurrent
    # increment in E2 may carry a later timestamp and replace E1's version by
    # last-writer-wins (A06, A14), but that version is E2's copy plus 1: no version after
    # E1's own holds less than 1 (A05), so 0 is no allowed loss.
    h = History()
    add(h, "c", 0, 5, region=E1)
    add(h, "c", 0, 50, region=E2)   # concurrent remote writer: may overwrite, with >= 1
    h.read("c", 10, 12, 0, region=E1)
    res = CounterChecker("async").check({}, h.ops(), {})
    assert res["valid"] is False, res
    bad = first(res, "read-your-writes")
    assert bad["region"] == E1 and "at least 1" in bad["explanation"]
    # a remote overwrite down to 1 is allowed (A14: the increment is lost, not undone)
    h2 = History()
    add(h2, "c", 0, 5, region=E1)
    add(h2, "c", 0, 50, region=E2)
    h2.read("c", 10, 12, 1, region=E1)
    assert CounterChecker("async").check({}, h2.ops(), {})["valid"] is True


def test_async_sc_read_of_zero_after_an_earlier_read_saw_a_value_is_non_monotonic():
    # A05: E2 saw 1 (a version some add wrote); a later SC read there of 0 would need the
    # initial version back, which no last-writer-wins overwrite brings (A06)
    h = History()
    add(h, "c", 0, 5, region=E1)
    add(h, "c", 0, 50, region=W2)
    h.read("c", 10, 12, 1, region=E2)
    h.read("c", 20, 22, 0, region=E2)
    res = CounterChecker("async").check({}, h.ops(), {})
    assert res["valid"] is False and kinds(res) == {"non-monotonic-read": 1}, res


# --- issue 19, class 10: an element seen, then missing from the only final read ---------

def test_async_set_element_seen_then_missing_from_the_only_final_read_is_lost():
    # E2 read "a" (added and acknowledged in E1). After the final heal every region holds
    # the same, newest version (A06, A08), so the one final read, in W2, shows E2's copy
    # too: without "a" it needs a version newer than E2's from a region other than E2
    # lacking "a". The only other write is E1's add of "a" itself, which holds it: a
    # violation (A05 for E2's copy), whichever regions recorded final reads.
    h = History()
    add(h, "s", 0, 5, v="a", region=E1)
    h.read("s", 10, 12, ["a"], region=E2)
    h.read("s", 100, 101, [], region=W2, final=True)
    r = SetChecker("async").check({}, h.ops(), {})
    assert r["valid"] is False, r
    bad = first(r, "lost-add")
    assert bad["region"] == W2 and bad["expected"] is False and bad["elements"] == ["a"]
    assert "A06, A08" in bad["explanation"]
    # a concurrent remote add of another element may have won (A14): allowed
    h2 = History()
    add(h2, "s", 0, 5, v="a", region=E1)
    add(h2, "s", 0, 50, v="b", region=W2)
    h2.read("s", 10, 12, ["a"], region=E2)
    h2.read("s", 100, 101, ["b"], region=W2, final=True)
    assert SetChecker("async").check({}, h2.ops(), {})["valid"] is True
