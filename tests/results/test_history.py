"""The history record: writer (append + flush per op), validating reader, pair, faults."""

from __future__ import annotations

import json
import threading

import pytest

from results.history import FaultPeriod, HistoryWriter, Op, fault_periods, pair, \
    parse_jsonl, read_jsonl, validate
from suite.errors import BadInput


def op(type_, process, f, t=0, **kw):
    return Op(index=-1, time=t, type=type_, process=process, f=f, **kw)


def test_every_record_is_on_disk_before_record_returns(tmp_path):
    path = tmp_path / "h.jsonl"
    w = HistoryWriter(path)
    first = w.record(op("invoke", 0, "write", 5, key="k1", value=3, region="us-east-1",
                        consistent=True, extra={"attempt": 2}))
    # Read through a separate handle while the writer is still open.
    assert json.loads(path.read_text()) == {
        "index": 0, "time": 5, "type": "invoke", "process": 0, "f": "write", "key": "k1",
        "value": 3, "region": "us-east-1", "consistent": True, "attempt": 2}
    w.record(op("ok", 0, "write", 9, key="k1", value=3))
    assert len(path.read_text().splitlines()) == 2
    w.close()
    ops = read_jsonl(path)
    assert ops[0] == first and ops[0].extra == {"attempt": 2}
    assert [o.index for o in ops] == [0, 1]


def test_concurrent_writers_get_unique_consecutive_indices(tmp_path):
    w = HistoryWriter(tmp_path / "h.jsonl")

    def record_many(p):
        for i in range(200):
            w.record(op("invoke", p, "read"))
            w.record(op("ok", p, "read", value=i))

    threads = [threading.Thread(target=record_many, args=(p,)) for p in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    ops = read_jsonl(tmp_path / "h.jsonl")
    assert [o.index for o in ops] == list(range(1600))


@pytest.mark.parametrize("lines,message", [
    (['{"type":"invoke","process":0,"f":"r"}', '{"type":"invoke","process":0,"f":"r"}'],
     "h.jsonl:2: process 0 invokes 'r' while its 'r' is still in flight (double invoke)"),
    (['{"type":"ok","process":0,"f":"r"}'],
     "h.jsonl:1: ok completion of 'r' by process 0 without an invocation"),
    (['{"type":"invoke","process":0,"f":"r"}', "", '{"type":"ok","process":0,"f":"w"}'],
     "h.jsonl:3: completion f 'w' does not match the invocation's 'r' (process 0)"),
    (['{"type":"invoke","process":0,"f":"r"}', '{"type":"info","process":0,"f":"r"}',
      '{"type":"invoke","process":0,"f":"r"}'], "h.jsonl:3: process 0 invokes after an info"),
    (['{"type":"invoke","process":0,"f":"r"}', '{"type":"ok","process":0,'],
     "h.jsonl:2: not valid JSON"),
    (['[1, 2]'], "h.jsonl:1: expected a JSON object"),
    (['{"type":"invoke","process":"p1","f":"r"}'], "h.jsonl:1: process must be an integer"),
    (['{"type":"invoke","process":0,"f":"r","time":"soon"}'],
     "h.jsonl:1: time must be an integer"),
])
def test_malformed_histories_name_the_line(tmp_path, lines, message):
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInput) as e:
        read_jsonl(path)
    assert message in str(e.value)


def test_nemesis_info_does_not_retire_and_unchecked_reads_pass():
    ops = [op("invoke", "nemesis", "isolate"), op("info", "nemesis", "isolate"),
           op("invoke", "nemesis", "heal"), op("ok", "nemesis", "heal")]
    validate(ops)
    bad = ['{"type":"ok","process":0,"f":"r"}']
    assert len(parse_jsonl(bad, check=False)) == 1
    with pytest.raises(BadInput, match="cannot read"):
        read_jsonl("/nonexistent/h.jsonl")


def test_pair_matches_invocations_with_completions():
    ops = [op("invoke", 0, "write", 1, value=1), op("invoke", 1, "read", 2),
           op("ok", 1, "read", 3, value=1), op("info", 0, "write", 4),
           op("invoke", 2, "read", 5)]
    pairs = pair(ops)
    assert [(p.invoke.process, p.type) for p in pairs] == [(0, "info"), (1, "ok"), (2, "info")]
    assert pairs[1].value == 1 and pairs[1].start == 2 and pairs[1].end == 3
    assert pairs[0].end is None and pairs[2].complete is None
    assert pairs[0].value == 1  # an info write keeps the invocation's value


def test_fault_periods_from_nemesis_operations():
    ops = [op("invoke", "nemesis", "isolate", 10, value={"region": "us-east-2"}),
           op("ok", "nemesis", "isolate", 12, value={"region": "us-east-2"}),
           op("invoke", "nemesis", "pause-replication", 20, value={"region": "us-west-2"}),
           op("ok", "nemesis", "pause-replication", 21, value={"region": "us-west-2"}),
           op("invoke", "nemesis", "resume-replication", 30, value={"region": "us-west-2"}),
           op("ok", "nemesis", "resume-replication", 31),
           op("invoke", "nemesis", "stop", 35, value={"region": "us-east-1"}),
           op("fail", "nemesis", "stop", 36),  # did not take effect: no period
           op("invoke", "nemesis", "heal", 40), op("ok", "nemesis", "heal", 41),
           op("invoke", "nemesis", "cut", 50, value={"a": "x", "b": "y"}),
           op("ok", "nemesis", "cut", 51, value={"a": "x", "b": "y"})]
    periods = fault_periods(ops)
    assert periods == [
        FaultPeriod("isolate", {"region": "us-east-2"}, 12, 40),
        FaultPeriod("pause-replication", {"region": "us-west-2"}, 21, 30),
        FaultPeriod("cut", {"a": "x", "b": "y"}, 51, None)]
    assert periods[0].covers(12) and not periods[0].covers(40)
    assert periods[2].covers(10**12)
    assert periods[0].describe() == "isolate region=us-east-2"


def test_a_fault_whose_start_is_unknown_is_possibly_in_force_from_its_invocation():
    ops = [op("invoke", "nemesis", "fis-pause-replication", 10, value={"region": "us-east-2"}),
           op("info", "nemesis", "fis-pause-replication", 90, value={"region": "us-east-2"}),
           op("invoke", "nemesis", "heal", 200), op("ok", "nemesis", "heal", 201)]
    assert fault_periods(ops) == []  # not certainly in force: no violation is blamed on it
    assert fault_periods(ops, possible=True) == [
        FaultPeriod("fis-pause-replication", {"region": "us-east-2"}, 10, 201)]


def test_a_fault_is_possibly_in_force_from_its_injection_until_its_heal_is_answered():
    """test-all --quick --mode strong --seed 9, register x outage, at load 35: the stop of
    us-west-2 was invoked at 0.304 s and answered ok at 0.607 s; the region refused
    connections from 0.324 s. Certainly in force from the `ok` (what convicts), possibly
    from the invocation (what excuses: availability), and until the heal or end action
    was answered, not only asked."""
    ops = [op("invoke", "nemesis", "stop", 304, value={"region": "us-west-2"}),
           op("ok", "nemesis", "stop", 607, value={"region": "us-west-2"}),
           op("invoke", "nemesis", "start", 616, value={"region": "us-west-2"}),
           op("ok", "nemesis", "start", 626, value={"region": "us-west-2"}),
           op("invoke", "nemesis", "isolate", 700, value={"region": "us-east-1"}),
           op("ok", "nemesis", "isolate", 705, value={"region": "us-east-1"}),
           op("invoke", "nemesis", "heal", 800)]
    assert fault_periods(ops) == [
        FaultPeriod("stop", {"region": "us-west-2"}, 607, 616),
        FaultPeriod("isolate", {"region": "us-east-1"}, 705, 800)]
    assert fault_periods(ops, possible=True) == [
        FaultPeriod("stop", {"region": "us-west-2"}, 304, 626),
        FaultPeriod("isolate", {"region": "us-east-1"}, 700, None)]  # heal not answered


# --- class 7 (issue 11): indices and times are checked, pairing is by file position ----

def _line(**kw):
    return json.dumps(kw)


@pytest.mark.parametrize("lines,message", [
    ([_line(index=0, time=0, type="invoke", process=0, f="write", value=1),
      _line(index=0, time=5, type="ok", process=0, f="write", value=1)],
     "h.jsonl:2: index 0 does not rise (the line before had 0)"),
    ([_line(index=5, time=0, type="invoke", process=0, f="write", value=1),
      _line(index=7, time=1, type="invoke", process=1, f="read"),
      _line(index=6, time=5, type="ok", process=0, f="write", value=1)],
     "h.jsonl:3: index 6 does not rise (the line before had 7)"),
    ([_line(index=0, time=-3, type="invoke", process=0, f="read")],
     "h.jsonl:1: time -3 is negative"),
    ([_line(index=0, time=10, type="invoke", process=0, f="read"),
      _line(index=1, time=9, type="ok", process=0, f="read", value=1)],
     "h.jsonl:2: completion time 9 is earlier than its invocation's 10"),
    ([_line(index=0, time=0, type="invoke", process=0, f="read"),
      _line(index=True, time=1, type="ok", process=0, f="read")],
     "h.jsonl:2: index must be an integer"),
    ([_line(index=0, time=1.5, type="invoke", process=0, f="read")],
     "h.jsonl:1: time must be an integer"),
])
def test_malformed_indices_and_times_are_rejected_naming_the_line(tmp_path, lines, message):
    test_malformed_histories_name_the_line(tmp_path, lines, message)


def test_indices_may_be_absent_then_lines_are_numbered_in_order():
    lines = [_line(type="invoke", process=0, f="write", value=1),
             _line(type="invoke", process=1, f="read"),
             _line(type="ok", process=1, f="read", value=None),
             _line(type="ok", process=0, f="write", value=1)]
    ops = parse_jsonl(lines)
    assert [o.index for o in ops] == [0, 1, 2, 3]
    # gaps are fine as long as indices rise; a missing one follows the previous
    ops = parse_jsonl([_line(index=10, type="invoke", process=0, f="read"),
                       _line(type="ok", process=0, f="read", value=2)])
    assert [o.index for o in ops] == [10, 11]


def test_pairing_is_by_position_per_process_not_by_index():
    # process 0 writes 1 then writes 2; indices rise but with gaps, and the times of
    # different processes interleave: each completion pairs with the invocation before it
    ops = parse_jsonl([
        _line(index=3, time=0, type="invoke", process=0, f="write", value=1),
        _line(index=8, time=1, type="invoke", process=1, f="read"),
        _line(index=9, time=2, type="ok", process=0, f="write", value=1),
        _line(index=20, time=3, type="invoke", process=0, f="write", value=2),
        _line(index=21, time=4, type="ok", process=0, f="write", value=2),
        _line(index=30, time=5, type="ok", process=1, f="read", value=2)])
    pairs = pair(ops)
    assert [(p.invoke.index, p.complete.index) for p in pairs] == [(3, 9), (8, 30), (20, 21)]


def test_a_million_op_shaped_line_takes_the_fast_path_and_keeps_extras():
    # the fast path (common fields only) and the general one give equal ops
    plain = {"index": 0, "time": 1, "type": "invoke", "process": 0, "f": "write",
             "key": "k", "value": [1, 2], "region": "us-east-1", "consistent": True}
    extra = {**plain, "attempt": 2}
    a, = parse_jsonl([json.dumps(plain)], check=False)
    b, = parse_jsonl([json.dumps(extra)], check=False)
    assert a == Op.from_dict(plain) and a.extra == {}
    assert b.extra == {"attempt": 2} and b.replace(extra={}) == a


def _untimed_lines(with_time: bool = False) -> list[str]:
    """Write 1 then 2 in one region, acknowledged one after the other, then an SC read of
    1 there: stale (M06) in real-time order, which only the file's order gives here."""
    ops = [("invoke", 0, "write", 1), ("ok", 0, "write", 1), ("invoke", 1, "write", 2),
           ("ok", 1, "write", 2), ("invoke", 0, "read", None), ("ok", 0, "read", 1)]
    return [json.dumps({"index": i, **({"time": 1000 + i} if with_time else {}),
                        "type": t, "process": p, "f": f, "key": "k", "value": v,
                        "region": "us-east-1", "consistent": True})
            for i, (t, p, f, v) in enumerate(ops)]


def test_a_file_without_times_takes_its_order_as_real_time(tmp_path):
    # Jepsen/Knossos: a history is a sequence and :time optional; read as time 0
    # throughout, every op was concurrent with every other, and the strong SC-read
    # checker found nothing stale in this history (the sc-reads verdict was VALID)
    from checkers.modes import checkers_for
    ops = parse_jsonl(_untimed_lines())
    assert [op.time for op in ops] == [op.index for op in ops] == list(range(6))
    sc = checkers_for("strong", "register")["sc-reads"]
    res = sc.check({"mode": "strong"}, ops, {})
    assert res["valid"] is False and res["anomaly_counts"] == {"stale-read": 1}, res
    # a file with times keeps them
    timed = parse_jsonl(_untimed_lines(with_time=True))
    assert [op.time for op in timed] == [1000 + i for i in range(6)]
