"""The bank checker's pieces: Jepsen's read rule and naming the torn transfer."""

from checkers.elle.bank import check_reads, torn_transfer

INITIAL = {"a": 10, "b": 10, "c": 10}
MOVES = [{"from": "a", "to": "b", "amount": 3},   # a 7, b 13
         {"from": "b", "to": "c", "amount": 5},   # b 8, c 15
         {"from": "c", "to": "a", "amount": 1}]   # c 14, a 8
STARTS = [0, 10, 20]


def test_wrong_total_and_negative_balances_as_jepsen():
    res = check_reads([(1, {"a": 10, "b": 10}), (3, {"a": 12, "b": 9}),
                       (5, {"a": 21, "b": -1})])
    assert res["total"] == 20 and res["error-count"] == 2
    assert [e["op"] for e in res["errors"]["wrong-total"]] == [3]
    assert [e["op"] for e in res["errors"]["negative-value"]] == [5]


def test_names_the_transfer_seen_on_one_account_only():
    # the second transfer reached c (15) but not b (13: after the first only)
    assert torn_transfer({"a": 7, "b": 13, "c": 15}, 100, INITIAL, MOVES, STARTS) == 1
    # the first transfer reached b but not a
    assert torn_transfer({"a": 10, "b": 13, "c": 10}, 100, INITIAL, MOVES, STARTS) == 0
    # a consistent state names nothing
    assert torn_transfer({"a": 7, "b": 8, "c": 15}, 100, INITIAL, MOVES, STARTS) is None


def test_a_transfer_begun_after_the_read_is_never_blamed():
    # a = 8 only after the third transfer, which began at 20: a read ending at 15 cannot
    # have seen it, so no prefix explains a = 8 and nothing is named
    assert torn_transfer({"a": 8, "b": 8, "c": 15}, 15, INITIAL, MOVES, STARTS) is None
    assert torn_transfer({"a": 8, "b": 8, "c": 15}, 25, INITIAL, MOVES, STARTS) == 2


# --- strong (MRSC) mode: the single-item form, checked strict serializable (M06, M14) ---

def strong_bank_history(late_read):
    """init (one PutItem per account) acknowledged, then an SC read in another region
    that began after it: it must see both balances (M06). A transfer is rejected (M14)."""
    from results.history import Op

    def op(i, t, typ, p, f, value, region, error=None):
        return Op(index=i, time=t, type=typ, process=p, f=f, value=value, region=region,
                  error=error, consistent=False)
    return [op(0, 10, "invoke", 0, "init", {"a": 10, "b": 10}, "us-east-1"),
            op(1, 20, "ok", 0, "init", {"a": 10, "b": 10}, "us-east-1"),
            op(2, 30, "invoke", 0, "transfer", {"from": "a", "to": "b", "amount": 3},
               "us-east-1"),
            op(3, 31, "fail", 0, "transfer", {"from": "a", "to": "b", "amount": 3},
               "us-east-1", error="Validation"),
            op(4, 40, "invoke", 1, "read", {"a": None, "b": None}, "us-west-2"),
            op(5, 50, "ok", 1, "read", late_read, "us-west-2")]


def test_strong_bank_reads_are_checked_strict_serializable():
    from checkers.elle.run import bank_checkers
    checkers = bank_checkers("strong", ["us-east-1", "us-west-2"])
    good = strong_bank_history({"a": 10, "b": 10})
    res = checkers["strict-serializable"].check(None, good, {})
    assert res["valid"] is True and res["txns"] == 4, res
    assert checkers["transactions-rejected"].check(None, good, {})["valid"] is True
    # the SC read began after the set-up was acknowledged, yet missed account b
    stale = strong_bank_history({"a": 10, "b": None})
    res = checkers["strict-serializable"].check(None, stale, {})
    assert res["valid"] is False, res
    assert res["anomaly_types"] == ["G-single-item-realtime"], res["anomaly_types"]
    assert "read the initial empty state of key b" in res["anomalies"][0]["explanation"]


def test_strong_bank_single_item_txns():
    from checkers.elle.bank import single_item_txns
    txns = single_item_txns(strong_bank_history({"a": 10, "b": None}))
    assert [(t.type, t.mops) for t in txns] == [
        ("ok", [("w", "a", 10)]), ("ok", [("w", "b", 10)]),
        ("ok", [("r", "a", 10)]), ("ok", [("r", "b", None)])]
    # a failed init may have done some of its PutItems: indeterminate, not "did not happen"
    h = strong_bank_history({"a": 10, "b": 10})
    from dataclasses import replace
    h[1] = replace(h[1], type="fail")
    assert {t.type for t in single_item_txns(h) if t.mops[0][0] == "w"} == {"info"}
