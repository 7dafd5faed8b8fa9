"""Each bug switch (emulator/bugs.py), seen through boto3: on, its claim visibly breaks;
off, the same steps show the claim holding. Every test forces the condition the mistake
needs (a delayed link, a cut, a lagging copy) so it is deterministic."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.bugs import CATALOGUE, Bugs, parse_bugs
from emulator.testing import clients, create_global_table, delay_links_from, get, value, wait_until
from suite.errors import BadInput

US = ["us-east-1", "us-east-2", "us-west-2"]
A, B, C = US


def put(c, k, v, table="tbl"):
    c.put_item(TableName=table, Item={"pk": {"S": k}, "v": {"N": str(v)}})


def add(c, k, table="tbl"):
    c.update_item(TableName=table, Key={"pk": {"S": k}}, UpdateExpression="ADD v :one",
                  ExpressionAttributeValues={":one": {"N": "1"}})


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def async_table(bugs, **kw):
    d = Deployment(US, latency_scale=0.0, seed=3, bugs=bugs, **kw).start()
    return d, create_global_table(d, "tbl")


def strong_table(bugs, **settings):
    d = Deployment(US, mode="strong", latency_scale=0.0, seed=3, bugs=bugs).start()
    d.cluster.engine_settings.update(settings)
    cs = create_global_table(d, "tbl", mode="STRONG")
    return d, cs


def leader_and_others(d):
    (t,) = d.cluster.tables_everywhere()
    leader = t.engine.preferred
    return leader, [r for r in US if r != leader]


def settle(d, region):
    """After a link change, wait until `region`'s journal node hears its leader again."""
    (t,) = d.cluster.tables_everywhere()
    wait_until(lambda: t.engine.nodes[region].can_reach_leader(), what="leader contact")


# ---- the catalogue --------------------------------------------------------------------

def test_catalogue_names_parse_and_unknown_is_bad_input():
    assert len(CATALOGUE) >= 10
    assert parse_bugs("relay, relay,none") == ("relay",)
    assert parse_bugs(None) == () and parse_bugs("none") == ()
    with pytest.raises(BadInput, match="unknown emulator bug 'nope'"):
        parse_bugs("relay,nope")
    for bug in CATALOGUE.values():
        assert bug.mode in ("async", "strong") and bug.claim and bug.summary


def test_catalogue_where_names_code_that_exists():
    """Each switch's `where` ("path Class.method" or "path function") names a file of the
    project and a definition in it, so a reader sent there finds the planted mistake."""
    root = Path(__file__).resolve().parents[2]
    for bug in CATALOGUE.values():
        path, _, name = bug.where.partition(" ")
        source = (root / path).read_text()
        *owner, func = name.split(".")
        assert re.search(rf"^\s*def {re.escape(func)}\(", source, re.M), (bug.name, bug.where)
        for cls in owner:
            assert re.search(rf"^class {re.escape(cls)}\b", source, re.M), (bug.name, bug.where)


def test_one_in_n_is_seeded():
    a, b = Bugs(["relay"], seed=7), Bugs(["relay"], seed=7)
    assert [a.one_in(5) for _ in range(50)] == [b.one_in(5) for _ in range(50)]


# ---- async (MREC) -----------------------------------------------------------------------

@pytest.mark.parametrize("bug", [False, True])
def test_lww_arrival_order_diverges(bug):
    d, cs = async_table(["lww-arrival-order"] if bug else [])
    try:
        delay_links_from(d, A, 300)          # A's older write reaches B after B's newer one
        put(cs[A], "k", 1)
        put(cs[B], "k", 2)
        wait_until(lambda: value(get(cs[A], "tbl", "k")) == 2 or None, what="B's write at A")
        delay_links_from(d, A, 0)
        assert d.quiesce(10)
        time.sleep(0.35)                     # the delayed record is in the scheduler, not a backlog
        finals = {r: value(get(cs[r], "tbl", "k")) for r in US}
        if bug:
            assert finals[B] == 1 and finals[A] == 2  # A06 broken: no common winner
        else:
            assert finals == {A: 2, B: 2, C: 2}
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_relay_reaches_a_cut_region(bug):
    d, cs = async_table(["relay"] if bug else [])
    try:
        d.cut(A, B)
        put(cs[A], "k", 7)
        wait_until(lambda: value(get(cs[C], "tbl", "k")) == 7 or None, what="A's write at C")
        assert d.quiesce(10)
        time.sleep(0.1)
        seen_in_b = value(get(cs[B], "tbl", "k"))
        assert seen_in_b == (7 if bug else None)   # A10: no relay while A-B is cut
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_replicator_drops_records(bug):
    d, cs = async_table(["replicator-drops-records"] if bug else [])
    try:
        for i in range(120):
            put(cs[A], f"k{i}", i)
        assert d.quiesce(10)
        time.sleep(0.1)
        missing = sum(1 for r in (B, C) for i in range(120)
                      if value(get(cs[r], "tbl", f"k{i}")) != i)
        if bug:
            assert missing > 0      # A02/A08: acknowledged writes never reach a region
        else:
            assert missing == 0
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_backlog_discarded_on_heal(bug):
    d, cs = async_table(["backlog-discarded-on-heal"] if bug else [])
    try:
        d.cut(A, B)
        put(cs[A], "k", 5)
        wait_until(lambda: value(get(cs[C], "tbl", "k")) == 5 or None, what="A's write at C")
        d.heal()
        assert d.quiesce(10)
        time.sleep(0.1)
        assert value(get(cs[B], "tbl", "k")) == (None if bug else 5)  # A09: converge after heal
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_ec_read_goes_back(bug):
    d, cs = async_table(["ec-read-goes-back"] if bug else [], copy_lag_ms=2000)
    try:
        put(cs[A], "k", 1)
        time.sleep(0.01)
        put(cs[A], "k", 2)        # leader and first follower now hold 2; the last copy lags
        reads = [value(get(cs[A], "tbl", "k", consistent=False)) for _ in range(40)]
        went_back = any(x == 2 and y in (1, None) for i, x in enumerate(reads)
                        for y in reads[i + 1:])
        assert went_back == bug   # A05: reads of one item never go back in time
    finally:
        d.stop()


# ---- MRSC -----------------------------------------------------------------------------

@pytest.mark.parametrize("bug", [False, True])
def test_sc_read_no_fence_is_stale(bug):
    d, cs = strong_table(["sc-read-no-fence"] if bug else [])
    try:
        leader, (x, y) = leader_and_others(d)
        put(cs[x], "k", 1)
        for other in (leader, x):
            d.delay(y, other, 400)   # y learns new entries 400 ms late
        settle(d, y)
        put(cs[x], "k", 2)           # acknowledged (x + leader)
        seen = value(get(cs[y], "tbl", "k"))
        assert seen == (1 if bug else 2)   # M06: an SC read reflects every acknowledged write
    finally:
        d.stop()


def _conflicting_increments(d, cs):
    """x increments while y, 400 ms behind, increments from the old version: y's entry
    conflicts. Returns (y's outcome, final value)."""
    leader, (x, y) = leader_and_others(d)
    add(cs[x], "k")
    wait_until(lambda: value(get(cs[y], "tbl", "k", consistent=False)) == 1 or None,
               what="first increment in y")
    for other in (leader, x):
        d.delay(y, other, 400)
    settle(d, y)
    add(cs[x], "k")                   # k = 2, y does not know yet
    try:
        add(cs[y], "k")               # built from k = 1
        outcome = "ok"
    except ClientError as e:
        outcome = code(e)
    for other in (leader, x):
        d.delay(y, other, 0)
    final = wait_until(lambda: value(get(cs[x], "tbl", "k")), what="a final read")
    return outcome, final


@pytest.mark.parametrize("bug", [False, True])
def test_ack_before_commit_acknowledges_a_skipped_write(bug):
    d, cs = strong_table(["ack-before-commit"] if bug else [])
    try:
        outcome, final = _conflicting_increments(d, cs)
        if bug:
            assert (outcome, final) == ("ok", 2)   # 3 increments acknowledged, value 2
        else:
            assert (outcome, final) == ("ReplicatedWriteConflictException", 2)
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_conflict_check_skipped_loses_an_increment(bug):
    d, cs = strong_table(["conflict-check-skipped"] if bug else [])
    try:
        outcome, final = _conflicting_increments(d, cs)
        if bug:
            assert (outcome, final) == ("ok", 2)   # M08 broken: both applied, one lost
        else:
            assert (outcome, final) == ("ReplicatedWriteConflictException", 2)
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_duplicate_entry_reexecuted_rolls_a_counter_back(bug):
    d, cs = strong_table(["duplicate-entry-reexecuted"] if bug else [])
    try:
        leader, (x, y) = leader_and_others(d)
        for other in (leader, x):
            d.delay(y, other, 150)    # y's writes take ~300 ms: re-proposed every 100 ms
        settle(d, y)
        acked = {"x": 0, "y": 0}
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    add(cs[x], "k")
                    acked["x"] += 1
                except ClientError as e:  # lost to one of y's entries: definitely not applied
                    assert code(e) == "ReplicatedWriteConflictException"
        t = threading.Thread(target=hammer)
        t.start()
        try:
            for _ in range(3):
                try:
                    add(cs[y], "k")
                    acked["y"] += 1
                except ClientError as e:
                    assert code(e) == "ReplicatedWriteConflictException"
        finally:
            stop.set()
            t.join()
        final = value(get(cs[x], "tbl", "k"))
        total = acked["x"] + acked["y"]
        if bug:
            assert final < total     # M09 broken: a duplicate wrote an old item back
        else:
            assert final == total
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_server_retry_unknown_answers_definitely_for_a_write_that_commits(bug):
    d, cs = strong_table(["server-retry-unknown"] if bug else [])
    try:
        leader, (x, y) = leader_and_others(d)
        put(cs[x], "k", 1)
        for other in (leader, x):
            d.delay(y, other, 500)    # y's entry reaches the leader at 0.5 s, y learns at 1 s
        settle(d, y)
        answer = {}

        def write():
            try:
                put(cs[y], "k", 2)
                answer["code"] = "ok"
            except ClientError as e:
                answer["code"] = code(e)
        (tbl,) = d.cluster.tables_everywhere()
        journal = tbl.engine.durable[leader]
        before = journal.last_index
        t = threading.Thread(target=write)
        t.start()
        # y loses its quorum with its entry in flight: isolated once the entry is in the
        # leader's journal (0.5 s after y sent it) and before y can learn it committed
        # (0.5 s later). Polled, not a fixed sleep from the thread's start: on a loaded
        # machine the request may leave y late, and y was then isolated before it
        # proposed anything (a definite 503 either way, and the write never committed).
        wait_until(lambda: journal.last_index > before, timeout_s=30.0,
                   what="y's entry in the leader's journal")
        d.isolate(y)
        t.join()
        d.heal()
        final = wait_until(lambda: value(get(cs[x], "tbl", "k")), what="a final read")
        assert final == 2             # the first entry committed
        # The claim: 503 means nothing was proposed; the answer must leave it unknown.
        assert answer["code"] == ("ServiceUnavailable" if bug else "InternalServerError")
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_sc_read_while_recovering_serves_stale_data(bug):
    d, cs = strong_table(["sc-read-while-recovering"] if bug else [])
    try:
        leader, (x, y) = leader_and_others(d)
        put(cs[x], "k", 1)
        wait_until(lambda: value(get(cs[y], "tbl", "k", consistent=False)) == 1 or None,
                   what="first write in y")
        d.isolate(y)
        put(cs[x], "k", 2)
        try:
            seen = value(get(cs[y], "tbl", "k"))
        except ClientError as e:
            seen = code(e)
        assert seen == (1 if bug else "ServiceUnavailable")  # M10: no SC reads when cut off
    finally:
        d.stop()


def test_serve_rejects_an_unknown_bug_and_the_state_names_the_switches_on(tmp_path):
    from click.testing import CliRunner
    from suite.cli import main
    r = CliRunner().invoke(main, ["emulator", "serve", "--bug", "nope",
                                  "--state-file", str(tmp_path / "s.json")])
    assert r.exit_code == 3 and "unknown emulator bug 'nope'" in r.output
    with Deployment(["us-east-1"], latency_scale=0.0, bugs="relay,ec-read-goes-back") as d:
        assert d.state()["bugs"] == ["relay", "ec-read-goes-back"]
    with Deployment(["us-east-1"], latency_scale=0.0) as d:
        assert d.state()["bugs"] == [] and not d.cluster.bugs


# ---- issue 21: deletes, one-way delays, read paths --------------------------------------

@pytest.mark.parametrize("bug", [False, True])
def test_delete_not_replicated_resurrects_elsewhere(bug):
    d, cs = async_table(["delete-not-replicated"] if bug else [])
    try:
        put(cs[A], "k", 1)
        wait_until(lambda: all(value(get(cs[r], "tbl", "k")) == 1 for r in US), what="put")
        cs[A].delete_item(TableName="tbl", Key={"pk": {"S": "k"}})
        assert d.quiesce(10)
        time.sleep(0.2)
        assert get(cs[A], "tbl", "k") is None
        elsewhere = {r: value(get(cs[r], "tbl", "k")) for r in (B, C)}
        assert elsewhere == ({B: 1, C: 1} if bug else {B: None, C: None})  # A06, A12
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_restamp_on_ack_timeout_needs_a_slow_way_back(bug):
    d, cs = async_table(["restamp-on-ack-timeout"] if bug else [])
    try:
        d.delay_oneway(A, B, 200)    # A's records reach B in 200 ms ...
        d.delay_oneway(B, A, 1000)   # ... but B's acknowledgements take 1 s back
        put(cs[A], "k", 1)
        wait_until(lambda: value(get(cs[B], "tbl", "k")) == 1, what="1 at B")
        put(cs[B], "k", 2)           # B's own later write, acknowledged in B
        time.sleep(0.8)              # past A's ack timeout (2 x 200 ms) and a resend
        seen = value(get(cs[B], "tbl", "k"))
        assert seen == (1 if bug else 2)  # A01/A06: B's SC read must keep its own write
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_query_sc_unfenced_is_stale_where_getitem_is_not(bug):
    d, cs = strong_table(["query-sc-unfenced"] if bug else [])
    try:
        leader, (x, y) = leader_and_others(d)
        put(cs[x], "k", 1)
        for other in (leader, x):
            d.delay(y, other, 400)   # y learns new entries 400 ms late
        settle(d, y)
        put(cs[x], "k", 2)           # acknowledged (x + leader)
        resp = cs[y].query(TableName="tbl", ConsistentRead=True,
                           KeyConditionExpression="pk = :k",
                           ExpressionAttributeValues={":k": {"S": "k"}})
        assert value(resp["Items"][0]) == (1 if bug else 2)   # M06
        assert value(get(cs[y], "tbl", "k")) == 2              # GetItem fences either way
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_scan_page_skips_item_loses_an_item_at_a_page_boundary(bug):
    d, cs = async_table(["scan-page-skips-item"] if bug else [])
    try:
        for i in range(4):
            put(cs[A], f"k{i}", i)
        seen, kwargs = [], dict(TableName="tbl", ConsistentRead=True, Limit=2)
        while True:
            resp = cs[A].scan(**kwargs)
            seen += [it["pk"]["S"] for it in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        # A01: every item written in this region is in its own SC scan, once
        assert sorted(seen) == (["k0", "k1", "k3"] if bug else ["k0", "k1", "k2", "k3"])
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_transaction_partial_on_cancel_keeps_the_items_before_the_failed_one(bug):
    d, cs = async_table(["transaction-partial-on-cancel"] if bug else [])
    try:
        put(cs[A], "from", 1)
        put(cs[A], "to", 0)
        amount = {":a": {"N": "5"}}
        with pytest.raises(ClientError) as e:
            cs[A].transact_write_items(TransactItems=[
                {"Update": {"TableName": "tbl", "Key": {"pk": {"S": "to"}},
                            "UpdateExpression": "SET v = v + :a",
                            "ExpressionAttributeValues": amount}},
                {"Update": {"TableName": "tbl", "Key": {"pk": {"S": "from"}},
                            "UpdateExpression": "SET v = v - :a", "ConditionExpression": "v >= :a",
                            "ExpressionAttributeValues": amount}}])
        assert code(e.value) == "TransactionCanceledException"
        reasons = [r["Code"] for r in e.value.response["CancellationReasons"]]
        assert reasons == ["None", "ConditionalCheckFailed"]
        # A11: a cancelled transaction wrote nothing in its own region
        assert value(get(cs[A], "tbl", "to")) == (5 if bug else 0)
        assert value(get(cs[A], "tbl", "from")) == 1
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_ttl_delete_without_recheck_deletes_an_extended_item(bug):
    # latency scale 10: the sweeper sweeps every second and deletes a found item up to
    # 2 s later, a window wide enough to extend the item in between on a loaded machine
    d = Deployment(US, latency_scale=10.0, seed=3,
                   bugs=["ttl-delete-without-recheck"] if bug else []).start()
    try:
        (c,) = [create_global_table(d, "tbl")[A]]
        c.update_time_to_live(TableName="tbl", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "exp"})
        c.put_item(TableName="tbl", Item={"pk": {"S": "k"},
                                          "exp": {"N": str(int(time.time()) - 3600)}})
        sweeper = d.cluster.ttl
        wait_until(lambda: sweeper.pending(), timeout_s=10, what="the sweep finds k expired")
        c.update_item(TableName="tbl", Key={"pk": {"S": "k"}}, UpdateExpression="SET exp = :t",
                      ConditionExpression="attribute_exists(pk)",
                      ExpressionAttributeValues={":t": {"N": str(int(time.time()) + 3600)}})
        time.sleep(3.5)  # past the next sweep (1 s) and the found item's delay (<= 2 s)
        # A12: TTL deletes only an item whose expiry has passed when it is deleted
        assert (get(c, "tbl", "k") is None) == bug
        if not bug:  # the extended item left the pending deletes at the next sweep
            assert sweeper.pending() == 0
    finally:
        d.stop()


@pytest.mark.parametrize("bug", [False, True])
def test_local_stamp_below_current_is_dropped_elsewhere(bug):
    d, cs = async_table(["local-stamp-below-current"] if bug else [])
    try:
        d.skew_clock(A, -500)        # A's clock half a second behind
        put(cs[B], "k", 1)
        wait_until(lambda: value(get(cs[A], "tbl", "k")) == 1, what="1 at A")
        put(cs[A], "k", 2)           # acknowledged in A, over B's version
        assert d.quiesce(10)
        time.sleep(0.2)
        finals = {r: value(get(cs[r], "tbl", "k")) for r in US}
        # A06: a write is stamped above the version it replaces, so every region takes it
        assert finals == ({A: 2, B: 1, C: 1} if bug else {A: 2, B: 2, C: 2})
    finally:
        d.stop()
