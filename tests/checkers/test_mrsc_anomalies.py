"""MRSC extras and async expected anomalies on hand-built histories."""

from checkers import mrsc
from checkers.anomalies import ExpectedAnomalies
from tests.checkers.build import History, first, kinds

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def test_stale_sc_read_is_an_mrsc_violation_and_an_async_expected_anomaly():
    h = (History().write("k7", 11000, 11500, 4, region=E2)
         .write("k7", 12000, 12100, 5, region=E1).read("k7", 12310, 12320, 4, region=E2))
    r = mrsc.sc_reads_check({}, h.ops(), {})
    a = first(r, "stale-read")
    assert r["valid"] is False and not a["expected"]
    assert a["explanation"] == ("SC read of k7 in us-east-2 at 12.310 s (op 4) returned 4, "
                                "but write 5 was acknowledged in us-east-1 at 12.100 s "
                                "(op 2) before the read began")
    e = ExpectedAnomalies("register", linearizability=False).check({}, h.ops(), {})
    assert e["valid"] is True and kinds(e) == {"stale-read": 1}
    assert first(e, "stale-read")["expected"] is True


def test_concurrent_write_does_not_make_a_read_stale():
    h = (History().write("k", 0, 50, 4, region=E2).write("k", 10, 20, 5, region=E1)
         .read("k", 30, 31, 4, region=E2))
    assert mrsc.sc_reads_check({}, h.ops(), {})["valid"] is True


def test_mrsc_ec_reads_written_values_and_monotonic():
    h = (History().write("k", 0, 5, 1).write("k", 10, 15, 2)
         .read("k", 20, 21, 2, consistent=False, region=E2)
         .read("k", 30, 31, 1, consistent=False, region=E2)
         .read("k", 40, 41, 3, consistent=False, region=W2))
    r = mrsc.ec_reads_check({}, h.ops(), {})
    assert kinds(r) == {"non-monotonic-read": 1, "unwritten-value": 1}
    assert first(r, "non-monotonic-read")["explanation"].startswith(
        "EC reads of k in us-east-2 went back in time")
    # an EC read lagging behind an SC read is allowed (M07)
    h2 = (History().write("k", 0, 5, 1).write("k", 10, 15, 2).read("k", 20, 21, 2)
          .read("k", 30, 31, 1, consistent=False))
    assert mrsc.ec_reads_check({}, h2.ops(), {})["valid"] is True


def test_conflicted_write_never_visible():
    h = (History().write("k", 0, 5, 1, region=E1)
         .write("k", 1, 6, 2, region=E2, type="fail", error="ReplicatedWriteConflict")
         .read("k", 10, 12, 2, region=W2))
    r = mrsc.failed_writes_check({}, h.ops(), {})
    a = first(r, "conflicted-write-visible")
    assert r["valid"] is False and r["conflicted_writes"] == 1
    assert a["explanation"] == ("SC read of k in us-west-2 at 0.010 s (op 4) returned 2, but "
                                "the write of 2 (op 1 in us-east-2) failed with "
                                "ReplicatedWriteConflict, so it never happened")


def test_sc_register_ops_excludes_ec_reads():
    h = (History().write("k", 0, 5, 1).read("k", 10, 12, 1, consistent=False)
         .read("k", 20, 22, 1))
    ops = mrsc.sc_register_ops(h.ops())
    assert [(o.f, o.type) for o in ops] == [("write", "invoke"), ("write", "ok"),
                                            ("read", "invoke"), ("read", "ok")]
    assert all(o.consistent is not False for o in ops)


def test_no_relay_under_a_cut_link():
    h = (History().nemesis("cut", {"a": E1, "b": E2}, 0)
         .write("k", 0, 5, 1, region=E2)
         .write("k", 10, 15, 2, region=E1)            # reaches us-west-2 but not us-east-2
         .read("k", 60, 62, 2, region=W2)
         .read("k", 80, 82, 1, region=E2))
    e = ExpectedAnomalies("register", linearizability=False).check({}, h.ops(), {})
    a = first(e, "no-relay")
    assert kinds(e) == {"no-relay": 1} and a["expected"] and a["region"] == E2
    assert a["explanation"] == (
        "During the cut between us-east-1 and us-east-2, SC read of k in us-east-2 at "
        "0.080 s (op 8) returned 1, though write 2 from us-east-1 (op 4, acknowledged at "
        "0.015 s) had already reached us-west-2 (read there by 0.062 s): async replicators "
        "do not relay")
    # without the third region's sighting it is an ordinary stale read
    h2 = (History().nemesis("cut", {"a": E1, "b": E2}, 0).write("k", 0, 5, 1, region=E2)
          .write("k", 10, 15, 2, region=E1).read("k", 80, 82, 1, region=E2))
    assert kinds(ExpectedAnomalies("register", linearizability=False)
                 .check({}, h2.ops(), {})) == {"stale-read": 1}


def test_same_region_staleness_is_left_to_read_your_writes():
    h = History().write("k", 0, 5, 1, region=E2).read("k", 10, 11, None, region=E2)
    e = ExpectedAnomalies("register", linearizability=False).check({}, h.ops(), {})
    assert kinds(e) == {}


def test_expected_counter_and_set_anomalies():
    h = History()
    for i, region in enumerate([E1, E2, W2] * 2):
        h.op("add", "c", i, i + 3, value=1, region=region)
    h.read("c", 20, 21, 1, region=E2)
    for i, region in enumerate([E1, E2, W2]):
        h.read("c", 100 + i, 101 + i, 2, region=region, final=True)
    e = ExpectedAnomalies("counter").check({}, h.ops(), {})
    # counted per increment lost: 6 acknowledged, 2 in the final value
    assert e["valid"] is True and kinds(e) == {"stale-read": 1, "lost-increment": 4}
    s = History().op("add", "s", 0, 5, value="a").read("s", 10, 11, [], region=E2)
    s.read("s", 20, 21, ["a"], final=True)
    e = ExpectedAnomalies("set").check({}, s.ops(), {})
    assert e["valid"] is True and kinds(e) == {"stale-read": 1}


def test_linearizability_promised_in_mrsc_expected_in_async():
    # us-west-2 reads 1 after 2 was read elsewhere: no single order explains both reads
    h = (History().write("k", 0, 5, 1).write("k", 10, 50, 2, region=E2)
         .read("k", 20, 21, 2, region=E2).read("k", 30, 31, 1, region=W2)
         .read("k", 32, 33, 1, region=W2, consistent=False))
    strong = mrsc.Linearizable().check({}, h.ops(), {})
    assert strong["valid"] is False
    a = first(strong, "nonlinearizable")
    assert a["key"] == "k" and a["region"] == W2 and not a["expected"]
    assert a["explanation"].startswith("On k in us-west-2 at 0.030 s: read")
    assert "cannot be linearized" in a["explanation"]
    assert strong["linearizability"]["counterexample"]["op"] in a["ops"]
    assert strong["counterexample"] == strong["linearizability"]["counterexample"]
    e = ExpectedAnomalies("register").check({}, h.ops(), {})
    assert e["valid"] is True and first(e, "nonlinearizable")["expected"] is True
    assert e["linearizability"]["valid"] is False
    # the EC read of the stale value is excluded from the search
    ok = History().write("k", 0, 5, 1).write("k", 10, 15, 2).read("k", 20, 21, 1,
                                                                  consistent=False)
    assert mrsc.Linearizable().check({}, ok.ops(), {})["valid"] is True


def test_no_ec_reads_breaks_no_ec_promise():
    h = History().write("k", 0, 5, 1).read("k", 10, 12, 1)
    r = mrsc.ec_reads_check({}, h.ops(), {})
    assert r["valid"] is True and r["reads"] == 0
