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


# --- issue 19, classes 6-8: totals and rejected transfers in strong mode, nil balances --

def run_history(mode, reads, transfer_type="fail"):
    """A gtcheck bank run: the set-up of a=10, b=10 in us-east-1 (acknowledged at 20),
    one transfer of 3 from a to b there (answered `transfer_type`), then the reads
    `[(region, balances, final)]` one after another from 40 on. In strong mode the
    workload's single-item form (`consistent` False on init and reads, M14)."""
    from results.history import Op
    single = mode == "strong"
    ops, t = [], 10

    def pair_of(p, f, value, region, typ="ok", result=None, final=False, error=None):
        nonlocal t
        extra = {"final": True} if final else {}
        ops.append(Op(index=len(ops), time=t, type="invoke", process=p, f=f, value=value,
                      region=region, consistent=not single, extra=extra))
        ops.append(Op(index=len(ops), time=t + 5, type=typ, process=p, f=f,
                      value=value if result is None else result, region=region,
                      consistent=not single, extra=extra, error=error))
        t += 10
    pair_of(0, "init", {"a": 10, "b": 10}, "us-east-1")
    move = {"from": "a", "to": "b", "amount": 3}
    pair_of(0, "transfer", move, "us-east-1", typ=transfer_type,
            error="Validation" if transfer_type == "fail" else None)
    for i, (region, balances, final) in enumerate(reads):
        pair_of(10 + i, "read", {"a": None, "b": None}, region, result=balances,
                final=final)
    return ops


def bank_of(mode, ops):
    from checkers.elle.run import bank_checkers
    return bank_checkers(mode, ["us-east-1", "us-west-2"])["bank"].check(None, ops, {})


FINALS = [("us-east-1", {"a": 10, "b": 10}, True), ("us-west-2", {"a": 10, "b": 10}, True)]


def test_strong_bank_checks_totals_class_6():
    # M14: MRSC rejects transfers, so no money moves; M06: each SC GetItem reflects every
    # write acknowledged before it. A read of 17 after the set-up is a wrong total
    # (Jepsen's :wrong-total), not an allowed torn transfer.
    ops = run_history("strong", [("us-west-2", {"a": 7, "b": 10}, False)] + FINALS)
    res = bank_of("strong", ops)
    assert res["valid"] is False and res["mode"] == "strong", res
    assert res["anomaly_counts"].get("wrong-total") == 1
    assert "torn-transfer" not in res["anomaly_counts"]
    assert res["totals_conserved"] is False
    good = bank_of("strong", run_history("strong", FINALS))
    assert good["valid"] is True and good["reads_judged"] == 2, good


def test_strong_bank_rejected_transfer_visible_class_7():
    # The transfer failed (ValidationException, M14; Jepsen: :fail did not happen), yet a
    # later SC read shows its effect with the total intact: INVALID, blaming it.
    ops = run_history("strong", [("us-west-2", {"a": 7, "b": 13}, False)] + FINALS)
    res = bank_of("strong", ops)
    assert res["valid"] is False, res
    bad = [a for a in res["anomalies"] if a["kind"] == "failed-transfer-visible"]
    assert len(bad) == 1 and bad[0]["expected"] is False
    assert bad[0]["ops"] == [5, 3]  # the read's completion, the rejected transfer's
    assert "rejected transfer op 2" in bad[0]["explanation"]


def test_strong_bank_read_an_accepted_transfer_may_have_touched_is_not_judged():
    # an accepted (ok) transfer is M14's violation, reported by `transactions-rejected`;
    # the separate GetItems may see it on one account only, so such a read is left
    # unjudged
    ops = run_history("strong", [("us-west-2", {"a": 7, "b": 10}, False)],
                      transfer_type="ok")
    res = bank_of("strong", ops)
    assert res["reads_not_judged"] == 1 and res["reads_judged"] == 0
    assert res["valid"] == "unknown" and res["reason"]


def test_strong_bank_judges_reads_after_a_transfer_that_timed_out():
    # issue 21: a transfer whose answer was lost (:info) left every later read unjudged
    # and a strong bank x outage run unknown. MRSC rejects every transaction (M14), so it
    # took no effect: later reads are judged, and one showing its effect is invalid
    # (had the transfer been applied, MRSC would have accepted a transaction).
    ok = bank_of("strong", run_history("strong", FINALS, transfer_type="info"))
    assert ok["valid"] is True and ok["reads_judged"] == 2, ok
    ops = run_history("strong", [("us-west-2", {"a": 7, "b": 13}, False)] + FINALS,
                      transfer_type="info")
    res = bank_of("strong", ops)
    assert res["valid"] is False and res["reads_judged"] == 3, res
    bad = [a for a in res["anomalies"] if a["kind"] == "failed-transfer-visible"]
    assert len(bad) == 1 and "rejected transfer op 2" in bad[0]["explanation"]


def test_nil_balance_in_the_writing_region_is_jepsens_nil_balance_class_8():
    # Jepsen's bank checker (jepsen.tests.bank/check-op): a read with a nil balance is
    # :nil-balance. In the writing region after the set-up (A01, A11) it is a violation.
    ops = run_history("async", [("us-east-1", {"a": 10, "b": None}, False)] + FINALS,
                      transfer_type="fail")
    res = bank_of("async", ops)
    assert res["valid"] is False and res["anomaly_counts"].get("nil-balance") == 1, res
    # strong mode: every SC read after the set-up must hold every account (M06)
    ops = run_history("strong", [("us-west-2", {"a": 10, "b": None}, False)] + FINALS)
    res = bank_of("strong", ops)
    assert res["valid"] is False and res["anomaly_counts"].get("nil-balance") == 1, res


def test_async_remote_nil_balance_allowed_until_seen_then_a05():
    # A03: a remote region may not have the set-up yet (allowed, reported); once a read
    # there showed the account, a later read without it went back in time (A05).
    early = [("us-west-2", {"a": 10, "b": None}, False)]
    res = bank_of("async", run_history("async", early + FINALS))
    assert res["valid"] is True, res
    assert res["anomaly_counts"] == {"set-up-not-replicated": 1}
    back = [("us-west-2", {"a": 10, "b": 10}, False), ("us-west-2", {"a": 10, "b": None},
                                                        False)]
    res = bank_of("async", run_history("async", back + FINALS))
    assert res["valid"] is False and res["anomaly_counts"].get("nil-balance") == 1, res
    # a final read after the heal must hold every account (A08)
    last = [("us-east-1", {"a": 10, "b": 10}, True), ("us-west-2", {"a": 10, "b": None},
                                                       True)]
    res = bank_of("async", run_history("async", last))
    assert res["valid"] is False and res["anomaly_counts"].get("nil-balance") == 1, res


def test_check_reads_is_jepsens_check_op_with_nil_balance():
    # jepsen.tests.bank/check-op is a cond: :nil-balance before :wrong-total before
    # :negative-value, one error per read
    res = check_reads([(1, {"a": 10, "b": 10}), (3, {"a": 10, "b": None}),
                       (5, {"a": None, "b": -1})])
    assert res["valid"] is False and res["error-count"] == 2
    assert [(e["op"], e["nils"]) for e in res["errors"]["nil-balance"]] == \
        [(3, ["b"]), (5, ["a"])]


def test_check_model_bank_edn_reports_nil_balance(tmp_path):
    from click.testing import CliRunner

    from suite.cli import main
    path = tmp_path / "bank-nil.edn"
    path.write_text(
        "{:type :invoke, :f :read, :process 0, :time 1, :index 0}\n"
        "{:type :ok, :f :read, :process 0, :time 2, :value {0 10, 1 10}, :index 1}\n"
        "{:type :invoke, :f :read, :process 0, :time 3, :index 2}\n"
        "{:type :ok, :f :read, :process 0, :time 4, :value {0 10, 1 nil}, :index 3}\n")
    r = CliRunner().invoke(main, ["check", "--model", "bank", "--format", "edn", "--json",
                                  str(path)])
    assert r.exit_code == 1, r.output
    import json
    errors = json.loads(r.output)["result"]["errors"]
    assert errors["nil-balance"][0]["nils"] == ["1"] and errors["nil-balance"][0]["op"] == 3


def test_check_model_bank_on_a_run_file_reports_nil_balance(tmp_path):
    from click.testing import CliRunner

    from results.history import HistoryWriter
    from suite.cli import main
    ops = run_history("async", [("us-east-1", {"a": 10, "b": None}, False)] + FINALS)
    path = tmp_path / "history.jsonl"
    with HistoryWriter(path) as w:
        for op in ops:
            w.record(op)
    r = CliRunner().invoke(main, ["check", "--model", "bank", "--json", str(path)])
    assert r.exit_code == 1, r.output
    import json
    assert json.loads(r.output)["result"]["anomaly_counts"]["nil-balance"] == 1


def unacknowledged_set_up(reads, init_type="info", mode="strong"):
    """A run whose every set-up attempt timed out (`info`) or failed, so no transfer was
    sent (test-all --quick --mode strong, bank x outage, seeds 6 and 7: the writing
    region stopped through the whole 1 s run), then the reads `[(region, balances,
    final)]`."""
    from results.history import Op
    ops = [Op(index=0, time=10, type="invoke", process=0, f="init", value={"a": 10, "b": 10},
              region="us-east-1", consistent=mode != "strong"),
           Op(index=1, time=15, type=init_type, process=0, f="init",
              value={"a": 10, "b": 10}, region="us-east-1", consistent=mode != "strong",
              error="timeout" if init_type == "info" else "ServiceUnavailable")]
    t = 20
    for i, (region, balances, final) in enumerate(reads):
        extra = {"final": True} if final else {}
        for typ, value in (("invoke", {"a": None, "b": None}), ("ok", balances)):
            ops.append(Op(index=len(ops), time=t, type=typ, process=10 + i, f="read",
                          value=value, region=region, consistent=mode != "strong",
                          extra=extra))
            t += 5
    return ops


def test_a_set_up_that_timed_out_is_judged_by_what_the_reads_show():
    # the set-up may have happened (Jepsen's :info): reads showing its balances, or
    # nothing yet, are what it allows; the regions agree at the end
    early = [("us-west-2", {"a": None, "b": 10}, False)]
    res = bank_of("strong", unacknowledged_set_up(early + FINALS))
    assert res["valid"] is True and res["set_up"] == "unacknowledged", res
    assert res["reads_judged"] == 3
    # a balance no operation wrote: money moved though no transfer was ever sent
    res = bank_of("strong", unacknowledged_set_up(
        [("us-west-2", {"a": 7, "b": 10}, False)] + FINALS))
    assert res["valid"] is False and res["anomaly_counts"] == {"unwritten-balance": 1}
    # the regions end apart
    res = bank_of("strong", unacknowledged_set_up(
        [FINALS[0], ("us-west-2", {"a": None, "b": None}, True)]))
    assert res["valid"] is False and res["anomaly_counts"] == {"divergence": 1}
    # nothing to judge: every read empty
    nothing = unacknowledged_set_up([("us-east-1", {"a": None, "b": None}, True)])
    assert bank_of("strong", nothing)["valid"] == "unknown"
    # every attempt definitely failed (Jepsen's :fail): async's all-or-nothing
    # TransactWriteItems wrote nothing, so a balance read is unwritten; a strong set-up's
    # PutItems before the one that failed did happen (test-all --quick --mode strong
    # --seed 8, bank x pause-replication: reads of k0 and k1 after a failed set-up)
    failed = bank_of("async", unacknowledged_set_up(FINALS, init_type="fail", mode="async"))
    assert failed["valid"] is False
    assert failed["anomaly_counts"] == {"unwritten-balance": 2}, failed
    partial = [("us-east-1", {"a": 10, "b": None}, True),
               ("us-west-2", {"a": 10, "b": None}, True)]
    assert bank_of("strong", unacknowledged_set_up(partial, init_type="fail"))["valid"] is True
    wrong = [("us-east-1", {"a": 9, "b": None}, True), ("us-west-2", {"a": 9, "b": None}, True)]
    assert bank_of("strong", unacknowledged_set_up(wrong, init_type="fail"))["valid"] is False
    empty = unacknowledged_set_up([("us-east-1", {"a": None, "b": None}, True)], "fail")
    assert bank_of("strong", empty)["valid"] == "unknown"


def test_a_set_up_that_timed_out_may_land_between_the_final_reads():
    """Jepsen's :info: an operation that timed out may take effect at any later time. A
    set-up attempt that timed out can land between two regions' final reads (test-all
    --quick --mode strong --seed 4, bank x isolate: k7 absent in us-east-2's final read,
    10 in the others', its PutItem landing at 2.87 s): not divergence. Under MRSC an SC
    read begun after another had shown the account must show it too (M06)."""
    before = [("us-west-2", {"a": 10, "b": None}, True), ("us-east-1", {"a": 10, "b": 10}, True)]
    res = bank_of("strong", unacknowledged_set_up(before))
    assert res["valid"] is True, res
    # the absent read begun after the present one had completed: went back (M06)
    after = [("us-east-1", {"a": 10, "b": 10}, True), ("us-west-2", {"a": 10, "b": None}, True)]
    res = bank_of("strong", unacknowledged_set_up(after))
    assert res["valid"] is False and res["anomaly_counts"] == {"divergence": 1}, res
    # async: another region may not have the late write yet (A02): allowed
    assert bank_of("async", unacknowledged_set_up(after, mode="async"))["valid"] is True
    # every attempt definitely failed (:fail): nothing can land late, the split stands
    res = bank_of("strong", unacknowledged_set_up(before, init_type="fail"))
    assert res["valid"] is False and res["anomaly_counts"] == {"divergence": 1}, res
    # a split no late set-up explains (a balance other than the set-up's) is divergence
    odd = [("us-west-2", {"a": 10, "b": None}, True), ("us-east-1", {"a": 10, "b": 9}, True)]
    assert bank_of("strong", unacknowledged_set_up(odd))["valid"] is False


def test_retried_set_up_attempts_are_one_write_per_account_for_elle():
    """Two set-up attempts that timed out, then one acknowledged (test-all --quick --mode
    strong --seed 6, bank x outage): each account's balance is one write from the first
    attempt's invocation, done by the acknowledged one's end -- not three writes of one
    value, which Elle cannot order (duplicate-writes: unknown)."""
    from checkers.elle.bank import single_item_txns
    from checkers.elle.run import bank_checkers
    from results.history import Op
    ops = []
    for i, (t, typ) in enumerate(((10, "info"), (30, "info"), (50, "ok"))):
        for kind in ("invoke", typ):
            ops.append(Op(index=len(ops), time=t if kind == "invoke" else t + 5, type=kind,
                          process=i, f="init", value={"a": 10, "b": 10}, region="us-east-1",
                          consistent=False, error="timeout" if kind == "info" else None))
    for kind, t, value in (("invoke", 60, {"a": None, "b": None}), ("ok", 65, {"a": 10, "b": 10})):
        ops.append(Op(index=len(ops), time=t, type=kind, process=9, f="read", value=value,
                      region="us-west-2", consistent=False))
    writes = [t for t in single_item_txns(ops) if t.mops[0][0] == "w"]
    assert [(t.mops, t.type, t.invoke_time, t.complete_time) for t in writes] == [
        ([("w", "a", 10)], "ok", 10, 55), ([("w", "b", 10)], "ok", 10, 55)]
    res = bank_checkers("strong", ["us-east-1", "us-west-2"])["strict-serializable"].check(
        None, ops, {})
    assert res["valid"] is True, res
    # a read begun after the acknowledged attempt that misses an account still fails
    ops[-1] = ops[-1].replace(value={"a": 10, "b": None})
    res = bank_checkers("strong", ["us-east-1", "us-west-2"])["strict-serializable"].check(
        None, ops, {})
    assert res["valid"] is False, res
