"""A10 (no relay) judged by the async register's `no-relay` checker (checkers/relay.py)
on hand-built histories: a write crossing a cut link is a violation; reads during the cut
that show older values, reads after the heal, absent values and writes from before the
cut are not."""

from checkers.core import merge_valid
from checkers.modes import checker_for
from checkers.relay import cut_reads, relayed_writes
from tests.checkers.build import History, kinds

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"
CUT = {"a": E1, "b": E2}


def no_relay(h: History) -> dict:
    return checker_for("async", "register", linearizability=False).checkers[
        "no-relay"].check({}, h.ops(), {})


def test_a_write_read_across_the_cut_link_breaks_a10():
    h = (History().nemesis("cut", CUT, 100)
         .write("k", 110, 115, 7, region=E1)
         .read("k", 150, 152, 7, region=W2)          # the third region may see it
         .read("k", 160, 162, 7, region=E2)          # the cut region may not
         .nemesis("heal", None, 300))
    r = no_relay(h)
    assert r["valid"] is False
    assert r["anomaly_counts"] == {"relayed-write": 1} and r["cut_reads"] == 1
    (a,) = [a for a in r["anomalies"] if a["kind"] == "relayed-write"]
    assert a["region"] == E2 and not a["expected"] and "relayed" in a["explanation"]
    # the whole async register verdict is invalid for it
    whole = checker_for("async", "register", linearizability=False).check({}, h.ops(), {})
    assert whole["valid"] is False and whole["no-relay"]["valid"] is False


def test_what_a10_allows_is_not_a_relay():
    base = History().write("k", 0, 5, 1, region=E1)            # before the cut: replicated
    h = (base.nemesis("cut", CUT, 100)
         .write("k", 110, 115, 7, region=E1)
         .read("k", 150, 152, 7, region=W2)
         .read("k", 160, 162, 1, region=E2)                    # older: evidence A10 held
         .write("k", 170, 175, None, region=E1)                # a delete ...
         .read("k", 180, 182, None, region=E2, process=99)     # absent names no write
         .nemesis("heal", None, 300)
         .read("k", 310, 312, 7, region=E2))                   # after the heal: fine
    r = no_relay(h)
    assert r["valid"] is True and kinds(r) == {"no-relay": 1}
    assert relayed_writes(h.ops()) == [] and r["cut_reads"] == 2
    assert r["relay_chances"] == 2 and r.get("judged") is not False


def test_without_a_cut_link_a10_is_not_judged_and_is_no_evidence():
    """VALID needs evidence: a run with no cut link has no instance of A10."""
    h = History().write("k", 0, 5, 1, region=E1).read("k", 10, 12, 1, region=E2)
    r = no_relay(h)
    assert r["valid"] == "unknown" and r["judged"] is False
    assert r["reason"].startswith("not judged: no link was cut")
    assert r["cut_reads"] == 0 == cut_reads(h.ops()) and r["anomaly_counts"] == {}
    # left out of the composed verdict: it neither holds the run back nor stands for it
    whole = checker_for("async", "register", linearizability=False).check({}, h.ops(), {})
    assert whole["no-relay"]["judged"] is False
    others = [v["valid"] for k, v in whole.items() if k not in ("valid", "no-relay")]
    assert whole["valid"] == merge_valid(others)


def test_a_cut_link_with_no_read_at_its_far_end_is_not_judged():
    h = (History().nemesis("cut", CUT, 100)
         .write("k", 110, 115, 7, region=E1)
         .read("k", 150, 152, 7, region=W2)          # the third region only
         .read("j", 160, 162, None, region=E2)       # a key nobody wrote during the cut
         .nemesis("heal", None, 300)
         .read("k", 310, 312, 7, region=E2))         # after the heal
    r = no_relay(h)
    assert r["valid"] == "unknown" and r["judged"] is False, r
    assert "no read could have shown a relay" in r["reason"]
    assert r["cut_reads"] == 1 and r["relay_chances"] == 0


def test_a_relayed_write_is_a_violation_even_where_nothing_else_was_judged():
    from checkers.core import merge_results
    h = (History().nemesis("cut", CUT, 100)
         .write("k", 110, 115, 7, region=E1)
         .read("k", 160, 162, 7, region=E2)
         .nemesis("heal", None, 300))
    r = no_relay(h)
    assert r["valid"] is False and r["relay_chances"] == 1
    assert merge_results([r, {"valid": "unknown", "judged": False}]) is False


def test_a_one_way_cut_forbids_the_relay_in_its_direction_only():
    h = (History().nemesis("cut-oneway", CUT, 100)               # us-east-1 -> us-east-2
         .write("k", 110, 115, 7, region=E1)
         .write("j", 110, 115, 8, region=E2)
         .read("k", 160, 162, 7, region=E2)                      # crossed the cut way
         .read("j", 160, 162, 8, region=E1, process=98)          # the open way: fine
         .nemesis("heal", None, 300))
    found = relayed_writes(h.ops())
    assert [(a["region"], a["key"]) for a in found] == [(E2, "k")]
    assert cut_reads(h.ops()) == 1 and no_relay(h)["valid"] is False
