"""Issue 19, transactions: the minimal histories that got a wrong verdict, each with the
verdict Elle's definition gives (the definitions are cited beside each test)."""

from checkers.elle import check, txn


def history(*txns):
    """(process, type, micro-ops as completed) -> elle-json-like op maps, one
    transaction after another; invocations carry nil reads, as Jepsen records them."""
    ops = []
    for process, typ, mops in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in mops]
        ops.append({"index": len(ops), "process": process, "type": "invoke", "value": inv})
        ops.append({"index": len(ops), "process": process, "type": typ, "value": mops})
    return txn.pair(ops)


# 1. elle.list-append/op-int-case (Cerone, Bernardi & Gotsman's INT): a read must agree
#    with the transaction's own latest append; Elle's FaunaDB example is exactly
#    [[:append 0 6] [:r 0 nil]] -- a nil read of a committed txn is the empty list.
def test_append_then_nil_read_in_one_transaction_is_internal():
    res = check.check(history((0, "ok", [["append", "x", 1], ["r", "x", None]])),
                      "list-append")
    # (one transaction: no dependency edge, so also Elle's empty-transaction-graph)
    assert res["valid"] is False
    assert res["anomaly_types"] == ["empty-transaction-graph", "internal"]
    (case,) = res["anomalies"]["internal"]
    assert case["expected"] == ["...", 1]


# 2. elle.list-append/verify-unique-appends: every invocation's append must pick a value
#    unique per key, whatever its outcome; otherwise valid? :unknown, :duplicate-appends.
#    Before: the read of 1 was blamed on the failed writer (G1a, invalid).
def test_duplicate_append_failed_then_ok_is_refused():
    h = history((0, "fail", [["append", "x", 1]]), (1, "ok", [["append", "x", 1]]),
                (2, "ok", [["r", "x", [1]]]))
    res = check.check(h, "list-append")
    assert res["valid"] == "unknown"
    assert res["anomaly_types"] == ["duplicate-appends"]
    assert "G1a" not in res["anomalies"] and "written once per key" in res["reason"]


def test_duplicate_append_info_then_ok_is_refused():
    h = history((0, "info", [["append", "x", 1]]), (1, "ok", [["append", "x", 1]]),
                (2, "ok", [["r", "x", [1]]]))
    res = check.check(h, "list-append")
    assert (res["valid"], res["anomaly_types"]) == ("unknown", ["duplicate-appends"])


def test_duplicate_append_ok_ok_is_refused_the_same_way():
    h = history((0, "ok", [["append", "x", 1]]), (1, "ok", [["append", "x", 1]]))
    assert check.check(h, "list-append")["anomaly_types"] == ["duplicate-appends"]


# 3. Elle checks internal consistency of :ok transactions only (list-append
#    internal-cases: (t/filter h/ok?); rw-register internal-cases: ct/ok-keep): an :info
#    transaction's recorded reads are not known to be what it observed.
def test_internal_is_not_reported_on_info_transactions():
    la = check.check(history((0, "info", [["append", "x", 1], ["r", "x", [2]]]),
                             (1, "ok", [["r", "y", []]])), "list-append")
    assert "internal" not in la["anomalies"]
    rw = check.check(history((0, "info", [["w", "x", 1], ["r", "x", 2]]),
                             (1, "ok", [["r", "y", None]])), "rw-register")
    assert "internal" not in rw["anomalies"]
    # the same transactions committed are internal anomalies
    la_ok = check.check(history((0, "ok", [["append", "x", 1], ["r", "x", [2]]])),
                        "list-append")
    rw_ok = check.check(history((0, "ok", [["w", "x", 1], ["r", "x", 2]])), "rw-register")
    assert la_ok["valid"] is rw_ok["valid"] is False
    assert "internal" in la_ok["anomalies"] and "internal" in rw_ok["anomalies"]


# 4. elle.rw-register/wr-graph: a value of a key with more than one writer makes the
#    version order (and who was read) unknowable -- Elle refuses ("had value v written
#    by more than one op"). Before: T3's write of x=1 repeated T1's, and the read of 1
#    was taken for T3's, giving a G1c cycle.
def test_rw_register_value_written_twice_is_refused_not_a_cycle():
    h = history((0, "ok", [["w", "x", 1]]), (1, "ok", [["r", "x", 1], ["w", "x", 2]]),
                (2, "ok", [["r", "x", 2], ["w", "x", 1]]))
    res = check.check(h, "rw-register")
    assert res["valid"] == "unknown"
    assert res["anomaly_types"] == ["duplicate-writes"]
    assert not any(t.startswith("G") for t in res["anomalies"])
    assert "x" in res["reason"] and "written once per key" in res["reason"]
