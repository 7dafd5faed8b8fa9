"""The resumable final drain of the streams workload, through boto3 over HTTP against the
emulator (issue 21: at load 25-45 a drain that re-read the whole stream within 0.6 of the
1 s operation timeout never finished, and every async unknown of the quick battery was a
streams row "never drained").

- `StreamDrain` driven step by step with the real `StreamsClient`: steps cut off (a
  failure, an answer lost after the read was made, records arriving between steps, a
  shard read in several pages) resume without losing or repeating a record, and the
  checker covers every record read (checkers/stream_proof.py) from the history alone.
- `gtcheck run --workload streams` through the CLI with every GetRecords slowed down:
  every region's stream is still drained and judged.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import emulator.streams as emu_streams
import workloads.streams as ws
from checkers.stream_drain import QUIET_S, fold
from checkers.streams import _coverage, analyse
from emulator import Deployment
from emulator.testing import clients, create_global_table
from results.history import Op
from suite.cli import main
from suite.generator import simulate
from suite.runner import op_from_dict

REGION = "us-east-1"


def _put(c, v: int) -> None:
    c.put_item(TableName="tab", Item={"pk": {"S": f"k{v % 3}"}, "val": {"N": str(v)}})


def _history(ops: list[dict]) -> list[Op]:
    return [op_from_dict({**op, "final": True}).replace(index=i) for i, op in enumerate(ops)]


@contextmanager
def _region_with_records(n: int):
    """One region's table with `n` records in its stream: (DynamoDB client, the workload's
    StreamsClient for that region)."""
    with Deployment([REGION], latency_scale=0.1) as d:
        c = create_global_table(d, "tab")[REGION]
        for v in range(1, n + 1):
            _put(c, v)
        yield c, ws.StreamsClient("tab", ws.OPS, region=REGION, boto_client=c,
                                  streams={REGION: clients(d, "dynamodbstreams")[REGION]})


def test_a_drain_cut_off_mid_shard_resumes_without_losing_or_repeating_a_record(
        monkeypatch):
    monkeypatch.setattr(emu_streams, "SHARD_RECORDS", 4)   # many shards, lineage to follow
    monkeypatch.setattr(ws, "RECORDS_PER_CALL", 3)         # a shard takes two pages
    with _region_with_records(10) as (c, client):
        written = [10]
        steps = [0]

        def complete(test, ctx, op):
            steps[0] += 1
            n = steps[0]
            if n in (4, 9, 15):  # records arrive between steps, also into a read shard
                for v in range(written[0] + 1, written[0] + 4):
                    _put(c, v)
                written[0] += 3
            at = op["time"] + 5_000_000
            if n % 5 == 0:   # a failure: nothing was read
                return {**op, "type": "fail", "error": "timeout", "time": at}
            done = client.invoke(None, op)
            if n % 7 == 0:   # the read was made but its answer was lost (Jepsen's :info)
                return {**op, "type": "info", "error": "timeout", "time": at}
            return {**done, "time": at}

        ops = simulate(ws.StreamDrain(budget_s=60.0), concurrency=1, nemesis=False,
                       complete=complete)
    done = [op for op in ops if op["type"] != "invoke"]
    assert {"fail", "info"} <= {op["type"] for op in done}
    ok_reads = [op for op in done if op["type"] == "ok" and op.get("step") == "read"]
    got = [int(r["seq"]) for op in ok_reads for r in op["value"]]
    assert got == list(range(1, written[0] + 1))   # each record once, in order, none lost
    assert [r["new"]["val"] for op in ok_reads for r in op["value"]] == got
    assert {op.get("end") for op in ok_reads} == {"closed", "more", "tip"}
    assert len({op["shard"] for op in ok_reads}) >= written[0] // 4
    # every record read is covered (read contiguously) by the checker's own reading of
    # the history (checkers/stream_proof.py), in stream order
    a = analyse({"mode": "async"}, _history(ops))
    assert [int(r["seq"]) for r in _coverage(a, REGION)] == got
    assert sorted(a.records[REGION]) == got


def test_a_drain_that_runs_out_of_budget_is_not_drained(monkeypatch):
    monkeypatch.setattr(emu_streams, "SHARD_RECORDS", 4)
    with _region_with_records(20) as (c, client):
        def complete(test, ctx, op):
            return {**client.invoke(None, op), "time": op["time"] + 5_000_000}

        ops = simulate(ws.StreamDrain(budget_s=60.0, steps_max=3), concurrency=1,
                       nemesis=False, complete=complete)
    assert len([op for op in ops if op["type"] == "ok"]) == 3
    a = analyse({"mode": "async"}, _history(ops))
    assert len(_coverage(a, REGION)) < 20
    done, why = fold(a.steps[REGION]).complete(int(QUIET_S * 1e9))
    assert not done and ("not to its end" in why or "never read" in why), why


def test_a_drain_waits_for_its_marks_through_empty_pages_then_gives_up(monkeypatch):
    """With final marks to read, a drain reads empty tips again (an empty page proves no
    tip) and ends as soon as it has every mark; a mark whose record never comes holds it
    MARK_PATIENCE_S of empty pages at one position, not its whole budget."""
    monkeypatch.setattr(emu_streams, "EMPTY_PAGE_RATE", 0.0)
    with _region_with_records(5) as (c, client):
        def complete(test, ctx, op):
            return {**client.invoke(None, op), "time": op["time"] + 5_000_000}

        ops = simulate(ws.StreamDrain(budget_s=60.0, marks=frozenset({4, 5})),
                       concurrency=1, nemesis=False, complete=complete)
        reads = [op for op in ops if op["type"] == "ok" and op.get("step") == "read"]
        assert [r["new"]["val"] for op in reads for r in op["value"]] == [1, 2, 3, 4, 5]
        assert reads[-1]["value"]  # done on the page that held the last mark

        ops = simulate(ws.StreamDrain(budget_s=60.0, marks=frozenset({-7})),
                       concurrency=1, nemesis=False, complete=complete)
    tips = [op for op in ops if op["type"] == "ok" and op.get("end") == "tip"]
    span_s = (tips[-1]["time"] - tips[0]["time"]) / 1e9
    assert ws.MARK_PATIENCE_S <= span_s + 0.01 and span_s < 3 * ws.MARK_PATIENCE_S, span_s
    assert len(tips) >= ws.MARK_PATIENCE_S / ws.QUIET_S


@pytest.mark.slow
def test_every_stream_is_drained_through_the_cli_when_getrecords_is_slow(tmp_path,
                                                                          monkeypatch):
    """Every GetRecords takes 100 ms more (the emulator runs in this process) and shards
    hold 2 records, so a region's final drain needs at least 6 GetRecords (2 closed
    shards and a tip read twice): 0.6 s or more, the whole budget the old whole-stream
    drain had (0.6 of the 1 s operation timeout; with this test it left the verdict
    unknown). The steps still read every shard of every region."""
    monkeypatch.setattr(emu_streams, "SHARD_RECORDS", 2)
    real = emu_streams.StreamsService.get_records

    def slow_get_records(self, req):
        import time
        time.sleep(0.1)
        return real(self, req)
    monkeypatch.setattr(emu_streams.StreamsService, "get_records", slow_get_records)
    store = tmp_path / "store"
    result = CliRunner().invoke(main, [
        "run", "--workload", "streams", "--mode", "async", "--nemesis", "isolate",
        "--time-limit", "1.5", "--nemesis-interval", "0.3", "--latency-scale", "0.1",
        "--rate", "200", "--keys", "4", "--op-timeout", "1", "--seed", "5",
        "--store", str(store)])
    assert "run directory:" in result.output, result.output
    run_dir = Path(result.output.split("run directory:")[1].split()[0])
    results = json.loads((run_dir / "results.json").read_text())
    s = results["checkers"]["streams"]
    assert s["valid"] is True, json.dumps(s)[:2000]
    assert set(s["regions_judged"]) == {"us-east-1", "us-east-2", "us-west-2"}
    history = [json.loads(line) for line in (run_dir / "history.jsonl").open()]
    for region in s["regions_judged"]:
        reads = [op for op in history if op["f"] == "drain" and op["type"] == "ok"
                 and op.get("step") == "read" and op.get("final")
                 and op["region"] == region]
        assert len(reads) >= 6, (region, len(reads), s["records"])
        assert sum(op.get("end") == "closed" for op in reads) >= 2


def test_iterator_types_as_dynamodb_streams_documents_them(monkeypatch):
    """GetShardIterator (API reference): TRIM_HORIZON starts at the oldest record,
    AT_SEQUENCE_NUMBER at the record, AFTER_SEQUENCE_NUMBER right after it, LATEST just
    after the most recent record; a sequence number of another shard is refused; a closed
    shard read to its end gives no NextShardIterator, an open one at its tip an empty page
    and one; an iterator expires 15 minutes after it was issued (ExpiredIteratorException,
    test_streams_e2e.py::test_trimmed_and_expired_iterators)."""
    from botocore.exceptions import ClientError
    monkeypatch.setattr(emu_streams, "SHARD_RECORDS", 4)
    with Deployment([REGION], latency_scale=0.1) as d:
        c = create_global_table(d, "tab")[REGION]
        sc = clients(d, "dynamodbstreams")[REGION]
        for v in range(1, 7):
            _put(c, v)
        arn = c.describe_table(TableName="tab")["Table"]["LatestStreamArn"]
        closed, open_ = [s["ShardId"] for s in
                         sc.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]]

        def vals(shard, kind, seq=None):
            kw = {"SequenceNumber": f"{seq:021d}"} if seq is not None else {}
            it = sc.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind,
                                       **kw)["ShardIterator"]
            resp = sc.get_records(ShardIterator=it)
            return ([int(r["dynamodb"]["NewImage"]["val"]["N"]) for r in resp["Records"]],
                    resp.get("NextShardIterator"))
        assert vals(closed, "TRIM_HORIZON") == ([1, 2, 3, 4], None)
        assert vals(closed, "AT_SEQUENCE_NUMBER", 2)[0] == [2, 3, 4]
        assert vals(closed, "AFTER_SEQUENCE_NUMBER", 2)[0] == [3, 4]
        assert vals(closed, "AFTER_SEQUENCE_NUMBER", 4) == ([], None)
        assert vals(closed, "LATEST") == ([], None)
        got, nxt = vals(open_, "LATEST")
        assert got == [] and nxt is not None
        _put(c, 7)
        assert [int(r["dynamodb"]["NewImage"]["val"]["N"])
                for r in sc.get_records(ShardIterator=nxt)["Records"]] == [7]
        assert vals(open_, "AFTER_SEQUENCE_NUMBER", 5)[0] == [6, 7]
        for shard, seq in ((open_, 4), (closed, 5)):   # another shard's sequence number
            for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
                with pytest.raises(ClientError) as e:
                    vals(shard, kind, seq)
                assert e.value.response["Error"]["Code"] == "ValidationException"


def test_one_thread_per_region_drains_after_its_reads_and_a_quiet_round_lists_only():
    """The final phase: threads 0-2 (one per region) read every key; then each region in
    turn puts its final marks (one per key, its own negative values) and every region
    reads them until it holds them; then each drains. The other threads do nothing. A
    quiet round (suite/quiet.py) runs the reads and a drain that stops after its first
    step, and writes no mark: only the final drain is judged."""
    from suite.quiet import quiet_round_ops
    keys, regions = ("k0", "k1"), ("us-east-1", "us-east-2", "us-west-2")
    final = ws.final_ops(keys, regions, budget_s=10.0)
    ops = [op for op in simulate(final, concurrency=6, nemesis=False)
           if op["type"] == "invoke"]
    assert {op["process"] for op in ops} == {0, 1, 2}
    for p in (0, 1, 2):
        mine = [op["f"] for op in ops if op["process"] == p]
        assert mine[:2] == ["read", "read"] and mine[-1] == "drain", mine
        assert set(mine[2:]) == {"mark", "mark-read", "drain"}, mine
        marks = [op for op in ops if op["process"] == p and op["f"] == "mark"]
        assert [(m["key"], m["value"]) for m in marks] == \
            [(k, ws.mark_value(p, j, len(keys))) for j, k in enumerate(keys)]
    # every region's turn (its marks, then every region's reads of them) ends before the
    # next region's marks begin, and every final read before the first mark
    order = [(op["f"], op["process"], op.get("key")) for op in ops]
    first_mark = next(i for i, o in enumerate(order) if o[0] == "mark")
    assert all(o[0] == "read" for o in order[:first_mark])
    turns = [i for i, o in enumerate(order) if o[0] == "mark"]
    assert [order[i][1] for i in turns] == [0, 0, 1, 1, 2, 2]
    assert all(order[i][0] != "mark-read" for i in range(turns[2], turns[3])), order
    quiet = [op for op in simulate(quiet_round_ops(final, 1), concurrency=6, nemesis=False)
             if op["type"] == "invoke" and op["f"] == "drain"]
    assert len(quiet) == 3 and all(op.get("step") == "list" and op.get("quiet")
                                   for op in quiet), quiet
    quiet_fs = {op["f"] for op in simulate(quiet_round_ops(final, 1), concurrency=6,
                                           nemesis=False)}
    assert quiet_fs == {"read", "drain"}, quiet_fs
