"""The rule of checkers/stream_proof.py on hand-made histories: a stream record is proven
missing only by a later record of its item that the drain read contiguously; otherwise
the claim is "not drained" (unknown), never "missing-record" (GetRecords may return empty
pages before records that follow)."""

from __future__ import annotations

from checkers import stream_drain as sd
from checkers import stream_proof as sp
from checkers.streams import judge
from results.history import Op

A, B = "us-east-1", "us-east-2"
S0, S1 = "shardId-0", "shardId-1"


def rec(seq: int, key: str, old, new, shard: str = S0) -> dict:
    img = lambda v: None if v is None else {"pk": key, "val": v}  # noqa: E731
    return {"seq": f"{seq:021d}", "shard": shard,
            "event": "INSERT" if old is None else "MODIFY", "keys": {"pk": key},
            "new": img(new), "old": img(old), "at": 0.0}


class History:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.t = 0

    def op(self, region, f, key=None, value=None, out=None, **extra) -> None:
        i = len(self.ops)
        self.ops.append(Op(i, self.t, "invoke", i % 5, f, key, value, region,
                           True if f == "read" else None, extra=dict(extra)))
        self.t += 10
        self.ops.append(Op(i + 1, self.t, "ok", i % 5, f, key,
                           value if out is None else out, region,
                           True if f == "read" else None, extra=dict(extra)))
        self.t += 10

    def drain(self, region, pages) -> None:
        """A final drain of one shard: a listing, then pages read one after another."""
        self.op(region, "drain", "stream", out=[], final=True, step="list",
                shards=[[S0, None, False]])
        after = None
        for page in pages:
            self.op(region, "drain", "stream", out=page, final=True, step="read",
                    shard=S0, after=after, end="more" if page else "tip")
            after = page[-1]["seq"] if page else after


def test_a_write_whose_record_was_not_reached_is_not_drained_not_missing():
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(A, "write", "k", 2, acked_at=0.0)
    h.drain(A, [[rec(1, "k", None, 1)], []])   # an empty page after record 1
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] == "unknown", res
    assert "missing-record" not in res["anomaly_counts"]
    assert "not drained: 1 record(s)" in res["error"] and "write of 2" in res["error"]


def test_a_later_record_of_the_item_proves_the_record_missing():
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(A, "write", "k", 2, acked_at=0.0)
    h.op(A, "write", "k", 3, acked_at=0.0)
    h.drain(A, [[rec(1, "k", None, 1)], [], [rec(2, "k", 2, 3)]])
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] is False, res
    assert res["anomaly_counts"] == {"missing-record": 1, "broken-chain": 1}, res
    missing = next(x for x in res["anomalies"] if x["kind"] == "missing-record")
    assert "write of 2" in missing["explanation"] and missing["region"] == A


def test_a_record_of_another_item_proves_nothing():
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(A, "write", "j", 2, acked_at=0.0)
    h.drain(A, [[rec(1, "j", None, 2)]])
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] == "unknown" and "write of 1" in res["error"], res


def test_a_remote_write_needs_a_later_write_from_its_own_origin_a04():
    """Async, another region: only a later write from the same origin proves the earlier
    one arrived (A04); a record from another origin before that proof may have outranked
    it (A06: allowed, dropped-stale-write)."""
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(B, "write", "k", 2, acked_at=0.0)
    h.op(A, "mark", "k", -1, acked_at=0.0)
    h.drain(B, [[rec(1, "k", None, 2)]])      # B: its own write only, not yet A's mark
    h.drain(A, [[rec(1, "k", None, 1), rec(2, "k", 1, 2), rec(3, "k", 2, -1)]])
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] == "unknown" and "write of 1" in res["error"], res
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(B, "write", "k", 2, acked_at=0.0)
    h.op(A, "mark", "k", -1, acked_at=0.0)
    h.drain(B, [[rec(1, "k", None, 2), rec(2, "k", 2, -1)]])
    h.drain(A, [[rec(1, "k", None, 1), rec(2, "k", 1, 2), rec(3, "k", 2, -1)]])
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] is True and res["anomaly_counts"] == {"dropped-stale-write": 1}
    # strong: the same streams break M04/M15 (every region applies every write)
    res = judge({"mode": "strong"}, h.ops)
    assert res["valid"] is False and "missing-record" in res["anomaly_counts"], res


def test_a_value_read_in_a_region_was_applied_there():
    """A read of v in B proves B applied v: its record must precede the record of any
    write of the item invoked after that read."""
    h = History()
    h.op(A, "write", "k", 1, acked_at=0.0)
    h.op(B, "read", "k", out=1, final=True)
    h.op(B, "mark", "k", -2, acked_at=0.0)
    h.drain(B, [[rec(1, "k", None, -2)]])
    res = judge({"mode": "async"}, h.ops)
    assert res["valid"] is False, res
    assert any(x["kind"] == "missing-record" and "read 1" in x["explanation"]
               for x in res["anomalies"]), res


def test_coverage_is_what_was_read_contiguously_ancestors_first():
    ledger = sd.fold([
        sd.Step(sd.LIST, 0, 1, shards=(sd.Shard(S0), sd.Shard(S1, S0))),
        sd.Step(sd.READ, 2, 3, shard=S0, after=None, last=f"{2:021d}", end=sd.CLOSED),
        sd.Step(sd.READ, 4, 5, shard=S1, after=None, last=f"{3:021d}", end=sd.MORE),
    ])
    records = {n: rec(n, "k", None, n, S0 if n <= 2 else S1) for n in (1, 2, 3, 4)}
    assert [r["seq"][-1] for r in sp.covered_by_steps(ledger, records)] == ["1", "2", "3"]
    # a child read before its listed parent ended covers nothing
    early = sd.fold([
        sd.Step(sd.LIST, 0, 1, shards=(sd.Shard(S0), sd.Shard(S1, S0))),
        sd.Step(sd.READ, 4, 5, shard=S1, after=None, last=f"{3:021d}", end=sd.MORE),
    ])
    assert sp.covered_by_steps(early, records) == []
    assert sp.first_after([records[1], records[2]], lambda r: r is records[2]) == 1
    assert sp.first_after([records[1]], lambda r: False) is None
