"""Issue 11, classes 1-6: the minimal histories that the per-mode checkers let through,
each with the verdict its definition gives (violation, or anomaly the mode allows).

E1/E2/W2 = us-east-1/us-east-2/us-west-2; times in ms; "final" reads come after the
final heal. Under async, what may be lost is only what a write from another region could
have overwritten by last-writer-wins (A06, A14); anything else lost breaks A01 or A05."""

import pytest

from checkers.modes import anomaly_summary, checker_for
from tests.checkers.build import History

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"
TEST = {"regions": [E1, E2, W2]}


def judge(mode: str, workload: str, h: History) -> dict:
    return checker_for(mode, workload).check(TEST, h.ops(), {})


def violations(r: dict) -> dict[str, int]:
    return {k: row["violations"] for k, row in anomaly_summary(r).items()
            if row["violations"]}


def allowed(r: dict) -> dict[str, int]:
    return {k: row["expected"] for k, row in anomaly_summary(r).items() if row["expected"]}


def finals(h: History, key: str, value, at: float = 1000) -> History:
    for i, region in enumerate((E1, E2, W2)):
        h.read(key, at + 10 * i, at + 10 * i + 5, value, region=region, final=True)
    return h


def add(h: History, key, start, end, value, region=E1, **kw) -> History:
    return h.op("add", key, start, end, value=value, region=region, **kw)


# --- class 1: async counter and set shortfalls ----------------------------------------

def test_counter_read_your_writes_in_region():
    h = add(History(), "c", 0, 10, 1).read("c", 20, 30, 0)
    r = judge("async", "counter", h)
    assert r["valid"] is False and violations(r) == {"read-your-writes": 1}
    assert r["counter"]["valid"] is False


def test_counter_read_going_back_in_one_region():
    # the add crashed (info): only the reads say what the region held
    h = add(History(), "c", 0, None, 1).read("c", 20, 30, 1).read("c", 40, 50, 0)
    r = judge("async", "counter", h)
    assert r["valid"] is False and violations(r) == {"non-monotonic-read": 1}


def test_counter_going_back_written_elsewhere_is_a_violation_too():
    # E2's add wrote the only version holding 1: nothing can replace it by LWW in E1
    h = add(History(), "c", 0, 10, 1, region=E2).read("c", 20, 30, 1).read("c", 40, 50, 0)
    assert violations(judge("async", "counter", h)) == {"non-monotonic-read": 1}


def test_counter_only_increment_missing_from_every_final_read():
    h = finals(add(History(), "c", 0, 10, 1), "c", 0)
    r = judge("async", "counter", h)
    assert r["valid"] is False and violations(r) == {"lost-increment": 1}
    assert "lost-increment" not in allowed(r)


def test_counter_three_sequential_increments_final_one():
    h = History()
    for i in range(3):
        add(h, "c", 20 * i, 20 * i + 10, 1)
    r = judge("async", "counter", finals(h, "c", 1))
    assert violations(r) == {"lost-increment": 2}  # two increments lost, counted as two
    assert allowed(r) == {}


def test_counter_concurrent_writers_in_two_regions_lose_increments_allowed():
    h = add(add(History(), "c", 0, 10, 1), "c", 0, 10, 1, region=E2)
    r = judge("async", "counter", finals(h, "c", 1))
    assert r["valid"] is True and allowed(r) == {"lost-increment": 1}


def test_counter_remote_write_after_replication_lag_may_overwrite():
    # E2's add began after E1's was acknowledged, but E1's may not have reached E2 yet:
    # E2's version (1, later timestamp) wins everywhere. Allowed (A14).
    h = add(add(History(), "c", 0, 10, 1), "c", 20, 30, 1, region=E2)
    r = judge("async", "counter", finals(h, "c", 1, at=100))
    assert r["valid"] is True and allowed(r) == {"lost-increment": 1}


def test_set_read_your_writes_in_region():
    h = add(History(), "s", 0, 10, "a").read("s", 20, 30, [])
    r = judge("async", "set", h)
    assert r["valid"] is False and violations(r) == {"read-your-writes": 1}


def test_set_element_read_then_gone_in_one_region():
    h = add(History(), "s", 0, 10, "a", region=E2).read("s", 20, 30, ["a"])
    h.read("s", 40, 50, [])
    r = judge("async", "set", h)
    assert r["valid"] is False and violations(r) == {"non-monotonic-read": 1}


def test_set_only_add_missing_from_every_final_read():
    r = judge("async", "set", finals(add(History(), "s", 0, 10, "a"), "s", []))
    assert r["valid"] is False and violations(r) == {"lost-add": 1}
    assert allowed(r) == {}


def test_set_last_add_missing_from_all_finals():
    h = add(add(History(), "s", 0, 10, "a"), "s", 0, 10, "b", region=E2)
    add(h, "s", 20, 30, "c", region=W2)  # invoked after every other add was acknowledged
    r = judge("async", "set", finals(h, "s", ["a", "b"], at=100))
    assert violations(r) == {"lost-add": 1}
    assert r["set"]["anomalies"][0]["elements"] == ["c"]


def test_set_concurrent_adds_in_two_regions_lost_allowed_and_counted_per_element():
    h = add(add(History(), "s", 0, 10, "a"), "s", 0, 10, "b", region=E2)
    add(h, "s", 0, 10, "c", region=E2)
    r = judge("async", "set", finals(h, "s", ["a"], at=100))
    assert r["valid"] is True and allowed(r) == {"lost-add": 2}


# --- class 2: a set element read before any add of it was invoked ---------------------

@pytest.mark.parametrize("mode", ["async", "strong"])
def test_set_element_read_before_its_add_began(mode):
    h = History().read("s", 0, 5, ["a"], region=E2)
    add(h, "s", 10, 20, "a")
    r = judge(mode, "set", h)
    assert r["valid"] is False and violations(r)["read-before-write"] == 1
    if mode == "strong":  # and no linearization either
        assert violations(r) == {"read-before-write": 1, "nonlinearizable": 1}


# --- class 3: cas --------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["async", "strong"])
def test_cas_comparing_a_value_never_written(mode):
    h = History().write("k", 0, 10, 100, region=E2)
    h.op("cas", "k", 20, 30, value=[101, 103], region=E2)
    r = judge(mode, "register", h)
    assert r["valid"] is False
    assert "unwritten-value" in violations(r)


def test_cas_old_value_read_again_is_a_region_going_back():
    h = History().write("k", 0, 10, 101, region=E2)
    h.op("cas", "k", 20, 30, value=[101, 103], region=E2)
    h.read("k", 40, 50, 101, region=E2)
    r = judge("async", "register", h)
    # the cas was this region's own acknowledged write: read-your-writes names it first
    assert r["valid"] is False and violations(r) == {"read-your-writes": 1, "no-lww-order": 1}


def test_cas_old_value_read_again_while_its_write_overlapped_the_cas():
    # write 101 (E1) overlaps the cas, so no write order proves 101 older than 103; the
    # cas itself says E2 held 101 just before 103, and 101 was written once
    h = History().write("k", 0, 30, 101)
    h.op("cas", "k", 20, 25, value=[101, 103], region=E2)
    h.read("k", 40, 50, 101, region=E2)
    r = judge("async", "register", h)
    assert r["valid"] is False and violations(r) == {"non-monotonic-read": 1, "no-lww-order": 1}
    assert r["monotonic-reads"]["valid"] is False


# --- class 4: EC read newer than a later SC read in the same region --------------------

def test_ec_read_newer_than_later_sc_read_in_region():
    h = History().write("k", 0, 10, 1, region=E2).write("k", 20, 30, 2, region=E2)
    h.read("k", 40, 50, 2, consistent=False).read("k", 60, 70, 1)
    r = judge("async", "register", h)
    assert r["valid"] is False and violations(r) == {"non-monotonic-read": 1, "no-lww-order": 1}


def test_sc_read_newer_than_later_ec_read_is_allowed():
    # copies lag their leader (G2): an EC read may be older than an earlier SC read
    h = History().write("k", 0, 10, 1, region=E2).write("k", 20, 30, 2, region=E2)
    h.read("k", 40, 50, 2).read("k", 60, 70, 1, consistent=False)
    r = judge("async", "register", h)
    assert r["monotonic-reads"]["valid"] is True


# --- class 5: counter values no combination of increments makes -----------------------

@pytest.mark.parametrize("mode", ["async", "strong"])
def test_counter_value_no_combination_makes(mode):
    h = add(add(History(), "c", 0, 10, 2), "c", 0, 10, 2, region=E2)
    h.read("c", 20, 30, 3, region=W2, consistent=False)
    r = judge(mode, "counter", h)
    assert r["valid"] is False and violations(r) == {"impossible-counter-value": 1}


def test_counter_combinations_of_ok_and_info_increments_pass():
    h = add(add(History(), "c", 0, 10, 2), "c", 0, None, 3, region=E2)
    h.read("c", 20, 30, 5, region=E2).read("c", 20, 30, 2, region=W2, consistent=False)
    r = judge("async", "counter", h)
    assert r["counter"]["valid"] is True


# --- class 6: MRSC counter and set SC reads are linearizability-checked ---------------

def test_strong_counter_nonlinearizable_reads():
    h = add(add(History(), "c", 0, 100, 1), "c", 0, 100, 1, region=E2)
    h.read("c", 20, 30, 2, region=W2).read("c", 40, 50, 1)
    r = judge("strong", "counter", h)
    assert r["valid"] is False and r["linearizability"]["valid"] is False
    cx = r["linearizability"]["counterexample"]  # where the report looks for it
    assert cx["key"] == "c" and isinstance(cx["op"], int)
    assert violations(r) == {"nonlinearizable": 1}


def test_strong_counter_linearizable_reads_pass():
    h = add(add(History(), "c", 0, 100, 1), "c", 0, 100, 1, region=E2)
    h.read("c", 20, 30, 1, region=W2).read("c", 40, 50, 2)
    r = judge("strong", "counter", finals(h, "c", 2))
    assert r["valid"] is True, violations(r)


def test_strong_set_reads_going_back():
    h = add(add(History(), "s", 0, 100, "a"), "s", 0, 100, "b", region=E2)
    h.read("s", 20, 30, ["a", "b"], region=W2).read("s", 40, 50, ["a"])
    r = judge("strong", "set", h)
    assert r["valid"] is False and violations(r) == {"nonlinearizable": 1}


def test_strong_set_incomparable_concurrent_reads():
    h = add(add(History(), "s", 0, 100, "a"), "s", 0, 100, "b", region=E2)
    h.read("s", 20, 30, ["a"], region=W2).read("s", 20, 30, ["b"])
    r = judge("strong", "set", h)
    assert r["valid"] is False and violations(r) == {"nonlinearizable": 1}


def test_strong_set_linearizable_reads_pass():
    h = add(add(History(), "s", 0, 100, "a"), "s", 0, 100, "b", region=E2)
    h.read("s", 20, 30, ["b"], region=W2).read("s", 40, 50, ["a", "b"])
    assert judge("strong", "set", finals(h, "s", ["a", "b"]))["valid"] is True


def test_strong_set_read_contradicting_the_adds_order():
    # a was acknowledged before b began, so no state holds b without a; the read began
    # before a was acknowledged, so it is not a stale read: only linearizability sees it
    h = History().read("s", 0, 100, ["b"], region=W2)
    add(add(h, "s", 0, 10, "a"), "s", 20, 30, "b", region=E2)
    r = judge("strong", "set", finals(h, "s", ["a", "b"]))
    assert r["valid"] is False and violations(r) == {"nonlinearizable": 1}
    cx = r["linearizability"]["counterexample"]
    assert cx["key"] == "s" and "cannot be linearized" in cx["explanation"]


def test_strong_set_crashed_add_seen_later_is_fine():
    h = add(History(), "s", 0, None, "a").read("s", 5, 8, [], region=E2)
    h.read("s", 50, 60, ["a"], region=W2)
    assert judge("strong", "set", finals(h, "s", ["a"]))["valid"] is True


# --- found by the oracle: version orders that disagree across regions -----------------

def test_regions_disagreeing_on_the_order_of_two_versions():
    # E2 wrote 3 and then read 4; E1 wrote 4 and then read 3. Each region alone moved
    # forward, but timestamps are one order (A06): 3 < 4 and 4 < 3 cannot both hold.
    h = History().write("k", 6, 12, 3, region=E2).write("k", 8, 11, 4, region=E1)
    h.read("k", 15, 17, 4, region=E2).read("k", 16, 22, 3, region=E1)
    r = judge("async", "register", h)
    assert r["valid"] is False and violations(r) == {"version-order": 1, "no-lww-order": 1}
    assert r["monotonic-reads"]["valid"] is False
    a = r["monotonic-reads"]["anomalies"][0]
    assert set(a["values"]) == {3, 4} and "us-east-1, us-east-2" in a["explanation"]


def test_regions_agreeing_on_the_order_pass():
    h = History().write("k", 6, 12, 3, region=E2).write("k", 8, 11, 4, region=E1)
    h.read("k", 15, 17, 4, region=E2).read("k", 16, 22, 4, region=E1)
    assert judge("async", "register", h)["monotonic-reads"]["valid"] is True


def test_read_inside_a_cas_returning_an_older_third_value():
    # E2 wrote 3, then during its cas 3 -> 4 read 1, written (elsewhere) before the cas
    # began: cas first means 1 came after 4; cas later means 3 came back after 1
    h = History().write("k", 1, 6.7, 1, region=W2).write("k", 2.5, 6.5, 3, region=E2)
    h.op("cas", "k", 7.8, 19.5, value=[3, 4], region=E2).read("k", 9, 10, 1, region=E2)
    r = judge("async", "register", h)
    assert r["valid"] is False and violations(r) == {"non-monotonic-read": 1, "no-lww-order": 1}
