"""The streams checker when a write lands between a region's final read and its stream's
drain (issue 21): the stream rightly shows more than the read did when every later record
is of a write that may have taken effect after the read began; else "missing-record"."""

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
    # acknowledged before the final reads began: MRSC applied it everywhere (M04, M06)
    res = judge({"mode": "strong"}, _history(STREAMS, writes=writes, final=READ_1))
    assert res["valid"] is False and res["anomaly_counts"] == {"missing-record": 3}


def test_async_a_remote_write_may_be_replicated_after_the_final_read():
    writes = [(A, "write", "k", 1, True), (B, "update", "k", [1, 2], True)]
    res = judge({"mode": "async"}, _history(STREAMS, writes=writes, final=READ_1))
    # us-east-2 wrote 2 itself and acknowledged it before its final read (A01): only
    # its read is a missing record; the others may have received 2 after their reads
    assert res["valid"] is False and res["anomaly_counts"] == {"missing-record": 1}
    assert res["anomalies"][0]["region"] == B


def test_a_read_version_the_stream_never_showed_is_still_missing():
    writes = [(A, "write", "k", 1, True), (B, "update", "k", [1, 2], True),
              (C, "update", "k", [2, 3], True)]
    ops = with_outcome(_history(STREAMS, writes=writes, final={(r, "k"): 3 for r in REGIONS}),
                       [2, 3], "info")
    res = judge({"mode": "strong"}, ops)
    assert res["valid"] is False
    assert res["anomaly_counts"].get("missing-record", 0) >= 3
