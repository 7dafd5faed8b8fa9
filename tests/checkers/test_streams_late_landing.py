"""The streams checker when a write lands between a region's final read and its stream's
drain (issue 21): the stream rightly shows more than the read did. What a region's read
returned must have a record there (A07); a stream that goes on past the read is no
violation of the stream's own claims -- a stale final read is the read checkers' verdict
(linearizability, sc-reads, read-your-writes), not a missing record. And a version read
but never recorded is "missing" only when a later record of the item proves the drain
got past it (checkers/stream_proof.py): without one it is "not drained", unknown."""

from __future__ import annotations

from checkers.streams import judge
from tests.workloads.test_streams_e2e import REGIONS, _history, rec

A, B, C = REGIONS
CHAIN = [rec(1, "INSERT", "k", None, 1), rec(2, "MODIFY", "k", 1, 2)]
STREAMS = {r: CHAIN for r in REGIONS}
READ_1 = {(r, "k"): 1 for r in REGIONS}  # every final read saw 1, before 2 landed


def with_outcome(ops, value, kind):
    """The history with the completion of the write of `value` made `kind`."""
    out = []
    for op in ops:
        if op.type == "ok" and op.f in ("write", "update") and op.value == value:
            op = op.replace(type=kind, error="timeout")
        out.append(op)
    return out


def test_mrsc_a_write_whose_client_gave_up_may_land_after_the_final_read():
    writes = [(A, "write", "k", 1, True), (B, "update", "k", [1, 2], True)]
    ops = with_outcome(_history(STREAMS, writes=writes, final=READ_1), [1, 2], "info")
    res = judge({"mode": "strong"}, ops)
    assert res["valid"] is True, res
    # acknowledged before the final reads began: the reads of 1 were stale (M06), which
    # the read checkers judge; every version read has its record, so the stream holds
    res = judge({"mode": "strong"}, _history(STREAMS, writes=writes, final=READ_1))
    assert res["valid"] is True and res["anomaly_counts"] == {}, res


def test_async_a_remote_write_may_be_replicated_after_the_final_read():
    writes = [(A, "write", "k", 1, True), (B, "update", "k", [1, 2], True)]
    res = judge({"mode": "async"}, _history(STREAMS, writes=writes, final=READ_1))
    # the others may have received 2 after their reads; us-east-2's own read of 1 after
    # acknowledging 2 is read-your-writes' violation (A01), not its stream's
    assert res["valid"] is True and res["anomaly_counts"] == {}, res


def test_a_read_version_the_stream_never_showed_is_still_missing():
    writes = [(A, "write", "k", 1, True), (B, "update", "k", [1, 2], True),
              (C, "update", "k", [2, 3], True)]
    ops = with_outcome(_history(STREAMS, writes=writes, final={(r, "k"): 3 for r in REGIONS}),
                       [2, 3], "info")
    res = judge({"mode": "strong"}, ops)
    # 3 was read everywhere (applied, so recorded: A07) but no stream shows it; no record
    # of k written after those reads proves the drains got past where it would be
    assert res["valid"] == "unknown" and res["anomaly_counts"] == {}, res
    assert len(res["not_drained"]) == 3
    assert all("read 3 of k" in why and "no record of k written after that read" in why
               for why in res["not_drained"])
