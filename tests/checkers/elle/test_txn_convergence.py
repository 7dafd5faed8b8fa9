"""The transactional workloads' convergence after the final heal, under MRSC: a key that a
transaction which timed out (Jepsen's :info: it may take effect at any later time) could
still change during its final reads is not judged by convergence; its final reads are SC
reads that strict-serializable judges with that indeterminacy (M06). The minimal history
of the false alarm of `test-all --quick --mode strong --seed 1`, list-append x outage."""

from checkers.elle.run import convergence_check, txn_checkers
from results.history import Op

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"
MS = 1_000_000


def history(append_type="info", append_end_ms=1164):
    """An append of 5 to k0 in us-west-2 ends `append_type` at `append_end_ms`; then
    us-east-2's final read sees [] and the other regions' final reads, begun before it
    ended, see [5]: the append landed in between."""
    rows = [  # (ms, type, process, value, region, final, error)
        (164, "invoke", 5, [["append", "k0", 5]], W2, False, None),
        (append_end_ms, append_type, 5, [["append", "k0", 5]], W2, False,
         "timeout" if append_type == "info" else None),
        (1694, "invoke", 1, [["r", "k0", None]], E2, True, None),
        (1715, "invoke", 9, [["r", "k0", None]], E1, True, None),
        (1717, "invoke", 11, [["r", "k0", None]], W2, True, None),
        (1803, "ok", 1, [["r", "k0", []]], E2, True, None),
        (1827, "ok", 11, [["r", "k0", [5]]], W2, True, None),
        (1828, "ok", 9, [["r", "k0", [5]]], E1, True, None),
    ]
    rows.sort(key=lambda r: r[0])
    return [Op(index=i, time=ms * MS, type=typ, process=p, f="txn", value=v, region=r,
               extra={"final": True} if final else {}, error=err)
            for i, (ms, typ, p, v, r, final, err) in enumerate(rows)]


def test_a_timed_out_append_landing_between_final_reads_is_not_divergence_under_mrsc():
    h = history()
    strong = convergence_check(h, strong=True)
    assert strong["valid"] is True and strong["final_keys_in_flight"] == 1, strong
    # the mode's checker set passes `strong` (txn_checkers), and strict-serializable
    # accepts the same history: the append took effect between the reads (M06)
    checkers = txn_checkers("strong", "list-append")
    assert checkers["convergence"].check(None, h, {})["valid"] is True
    assert checkers["strict-serializable"].check(None, h, {})["valid"] is True


def test_divergence_is_still_found_when_no_write_could_land():
    # the append was acknowledged before the final reads began: the regions must agree
    h = history(append_type="ok", append_end_ms=1200)
    res = convergence_check(h, strong=True)
    assert res["valid"] is False and res["anomaly_counts"] == {"divergence": 1}, res
    assert res["final_keys_in_flight"] == 0
    # async keeps its own assumption (a timed-out write lands before the final wait
    # ends, docs/CONVENTIONS.md): the in-flight append does not excuse it there
    assert convergence_check(history(), strong=False)["valid"] is False
