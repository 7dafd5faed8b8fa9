"""The drain ledger (checkers/stream_drain.py) on hand-made steps: what it reads next, and
when it calls a region's stream read to its end -- each rule able to fail."""

from __future__ import annotations

from checkers.stream_drain import (CLOSED, LIST, MORE, READ, TIP, Ledger, Shard, Step, fold,
                                   step_of)

Q = 100_000_000  # QUIET_S in ns
S0, S1 = "shardId-0", "shardId-1"


def listing(t, *shards):
    return Step(LIST, t, t + 1, shards=tuple(shards))


def read(t, shard, after, last, end, dt=1):
    return Step(READ, t, t + dt, shard=shard, after=after, last=last, end=end)


def test_a_drain_reads_parents_first_resumes_and_waits_for_a_quiet_tip():
    led = Ledger()
    assert led.next_step(0, Q) == (LIST,)
    led = led.observe(listing(0, Shard(S0, None, True), Shard(S1, S0, False)))
    assert led.next_step(10, Q) == (READ, S0, None)          # parent first, TRIM_HORIZON
    led = led.observe(read(10, S0, None, "3", MORE))          # cut off mid-shard
    assert led.next_step(20, Q) == (READ, S0, "3")            # resumes after record 3
    led = led.observe(read(20, S0, "3", "4", CLOSED))
    assert led.next_step(30, Q) == (READ, S1, None)          # then the child
    led = led.observe(read(30, S1, None, "6", MORE))
    assert led.next_step(40, Q) == (READ, S1, "6")
    led = led.observe(read(40, S1, "6", "6", TIP))            # empty page: at the tip
    assert led.complete(Q)[0] is False and "not known quiet" in led.complete(Q)[1]
    assert led.next_step(50, Q) == ("wait", 41 + Q)           # read the tip again later
    led = led.observe(read(41 + Q, S1, "6", "6", TIP))
    assert led.complete(Q) == (True, "")
    assert led.next_step(60 + Q, Q) == ("done",)
    assert led.covered_at() == 41 + Q


def test_new_records_at_the_tip_restart_the_quiet_wait():
    led = fold([listing(0, Shard(S0)), read(1, S0, None, "2", MORE),
                read(3, S0, "2", "2", TIP), read(5, S0, "2", "5", MORE)])
    assert led.next_step(10, Q) == (READ, S0, "5")
    led = led.observe(read(10, S0, "5", "5", TIP))
    led = led.observe(read(10 + Q // 2, S0, "5", "5", TIP))
    assert led.complete(Q)[0] is False                       # only half the quiet time
    led = led.observe(read(11 + Q, S0, "5", "5", TIP))
    assert led.complete(Q)[0] is True


def test_a_read_not_contiguous_with_what_was_read_proves_nothing():
    # the read after record 3 was never recorded (its answer lost); the next one starts
    # after 7: records 4-7 may be missing from the history
    led = fold([listing(0, Shard(S0)), read(1, S0, None, "3", MORE),
                read(3, S0, "7", "7", TIP), read(5 + Q, S0, "7", "7", TIP)])
    assert led.gaps == 2
    ok, why = led.complete(Q)
    assert not ok and "read up to sequence number 3" in why
    assert led.next_step(10 + Q, Q) == (READ, S0, "3")


def test_a_listing_is_stale_once_a_shard_it_showed_open_has_closed():
    led = fold([listing(0, Shard(S0)), read(1, S0, None, "4", CLOSED)])
    assert led.stale() and led.next_step(5, Q) == (LIST,)
    assert "closed after the last listing" in led.complete(Q)[1]
    led = led.observe(listing(6, Shard(S0, None, True), Shard(S1, S0)))
    assert led.next_step(8, Q) == (READ, S1, None)
    assert "shard shardId-1 was never read" in led.complete(Q)[1]


def test_nothing_listed_is_nothing_drained():
    assert Ledger().complete(Q) == (False, "its shards were never listed")
    assert Ledger().covered_at() is None


def test_step_of_reads_the_recorded_fields():
    recs = [{"seq": "000000000000000000001"}, {"seq": "000000000000000000002"}]
    s = step_of({"step": "read", "shard": S0, "after": None}, {"end": "more"}, recs, 5, 9)
    assert (s.kind, s.shard, s.after, s.last, s.end, s.invoke_ns, s.complete_ns) == \
        (READ, S0, None, "000000000000000000002", MORE, 5, 9)
    s = step_of({"step": "list"}, {"shards": [[S0, None, True], [S1, S0, False]]}, [], 1, 2)
    assert s.shards == (Shard(S0, None, True), Shard(S1, S0, False))
    assert step_of({}, {"complete": True}, recs, 1, 2) is None   # an older whole drain


def test_the_checker_judges_what_the_drain_steps_read_contiguously():
    """checkers/stream_proof.py: the records a drain read contiguously from a shard's
    start are a prefix of it, judged whether or not its tip was read quiet (an empty page
    proves no tip on AWS). A write read in the region whose record is beyond that prefix
    is not drained (unknown); once a later record of its item is read, it is proven
    missing; a read not contiguous with what was read before proves nothing."""
    from checkers.streams import judge
    from results.history import Op
    region, key = "us-east-1", "k"

    def rec(seq, old, new):
        img = lambda v: None if v is None else {"pk": key, "val": v}  # noqa: E731
        return {"seq": f"{seq:021d}", "shard": S0, "event": "INSERT" if old is None
                else "MODIFY", "keys": {"pk": key}, "new": img(new), "old": img(old),
                "at": 0.0}
    ops: list[Op] = []

    def op(f, t0, t1, value=None, out=None, key_=None, consistent=None, **extra):
        i = len(ops)
        ops.append(Op(i, t0, "invoke", 0, f, key_, value, region, consistent,
                      extra={"final": True, **extra}))
        ops.append(Op(i + 1, t1, "ok", 0, f, key_, out if out is not None else value,
                      region, consistent, extra={"final": True, **extra}))

    def history(second_page, after=None):
        ops.clear()
        op("write", 0, 10, 1, key_=key, acked_at=0.0)
        op("write", 11, 12, 2, key_=key, acked_at=0.0)
        op("read", 13, 14, out=2, key_=key, consistent=True)
        op("mark", 15, 16, -1, key_=key, acked_at=0.0)
        op("drain", 20, 30, out=[], step="list", shards=[[S0, None, False]])
        op("drain", 40, 50, out=[rec(1, None, 1)], step="read", shard=S0, after=None,
           end="more")
        op("drain", 60, 70, out=second_page, step="read", shard=S0,
           after=after or rec(1, None, 1)["seq"], end="more" if second_page else "tip")
        return [o.replace(index=i) for i, o in enumerate(ops)]

    res = judge({"mode": "async"}, history([rec(2, 1, 2), rec(3, 2, -1)]))
    assert res["valid"] is True and res["regions_judged"] == [region], res
    # an empty page after record 1: writes 2 and the mark may follow, nothing proves
    # them missing (not drained)
    res = judge({"mode": "async"}, history([]))
    assert res["valid"] == "unknown" and "not drained: 2 record(s)" in res["error"], res
    # the mark read, write 2's record missing: 2 was applied (acknowledged here, A01; and
    # read here), and a later record of k was read: missing, twice over
    res = judge({"mode": "async"}, history([rec(2, 1, -1)]))
    assert res["valid"] is False, res
    assert res["anomaly_counts"] == {"missing-record": 2}, res  # the write, the read
    # the same page, read after a position never reached: no proof, not even a chain
    res = judge({"mode": "async"}, history([rec(3, 2, -1)], after=f"{2:021d}"))
    assert res["valid"] == "unknown" and "not drained" in res["error"], res


def test_an_empty_listing_drains_nothing():
    led = fold([listing(0)])
    assert led.complete(Q) == (False, "its stream listed no shard")
