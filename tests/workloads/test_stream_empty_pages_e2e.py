"""GetRecords' empty pages before records (emulator/streams.py), through boto3 over HTTP:
the emulator serves them as AWS documents it may, the streams drain reads on through them
to its final marks (workloads/streams.py), and the streams checker's verdict stays true:
valid on an emulator without bugs, a planted stream bug still caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import emulator.streams as streams_mod
from emulator import Deployment
from emulator.testing import clients, create_global_table
from results.history import read_jsonl
from suite.cli import main

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def test_empty_pages_come_before_records_and_lose_none():
    """Every call that has records to serve starts a run of 1..EMPTY_RUN_MAX empty pages
    (rate 1), each with a NextShardIterator at the same position; the records follow."""
    with Deployment(["us-east-1"], latency_scale=0, seed=3, stream_empty_pages=1.0) as d:
        ddb = create_global_table(d, "tab")["us-east-1"]
        sc = clients(d, "dynamodbstreams")["us-east-1"]
        for v in range(1, 4):
            ddb.put_item(TableName="tab", Item={"pk": {"S": "k"}, "val": {"N": str(v)}})
        arn = sc.list_streams(TableName="tab")["Streams"][0]["StreamArn"]
        shard = sc.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = sc.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        empties, got = 0, []
        for _ in range(streams_mod.EMPTY_RUN_MAX + 1):
            resp = sc.get_records(ShardIterator=it)
            it = resp["NextShardIterator"]
            if resp["Records"]:
                got = [r["dynamodb"]["NewImage"]["val"]["N"] for r in resp["Records"]]
                break
            empties += 1
        assert 1 <= empties <= streams_mod.EMPTY_RUN_MAX and got == ["1", "2", "3"]
        # at the tip there is nothing to serve: an ordinary empty page
        assert sc.get_records(ShardIterator=it)["Records"] == []
    with pytest.raises(Exception, match="between 0 and 1"):
        Deployment(["us-east-1"], stream_empty_pages=2.0)


def _run(tmp_path: Path, *extra: str) -> tuple[dict, list]:
    r = CliRunner().invoke(main, [
        "run", "--workload", "streams", "--mode", "async", "--nemesis", "isolate",
        "--time-limit", "3", "--nemesis-interval", "0.5", "--latency-scale", "0.2",
        "--rate", "120", "--keys", "3", "--seed", "5", "--store", str(tmp_path), *extra])
    assert "run directory:" in r.output, r.output
    run_dir = Path(r.output.split("run directory:")[1].split()[0])
    return (json.loads((run_dir / "results.json").read_text()),
            read_jsonl(run_dir / "history.jsonl"))


def _went_on_past_an_empty_page(history) -> bool:
    """A final drain read an empty page ("tip") at a position and later records right
    after that same position, in one region."""
    empty, full = set(), set()
    invokes = {}
    for op in history:
        if op.f != "drain" or op.process == "nemesis":
            continue
        if op.type == "invoke":
            invokes[op.process] = op
        elif op.type == "ok" and op.extra.get("end") in ("tip", "more", "closed"):
            inv = invokes.get(op.process)
            if inv is None or inv.extra.get("step") != "read":
                continue
            at = (op.region, inv.extra.get("shard"), inv.extra.get("after"))
            (full if op.value else empty).add(at)
    return bool(empty & full)


@pytest.mark.slow
def test_a_bug_free_run_is_valid_and_judged_with_empty_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(streams_mod, "EMPTY_PAGE_RATE", 0.5)  # the emulator runs in process
    results, history = _run(tmp_path)
    s = results["checkers"]["streams"]
    assert results["valid"] is True and s["valid"] is True, json.dumps(s)[:2000]
    assert set(s["regions_judged"]) == set(REGIONS) and "not_drained" not in s
    assert _went_on_past_an_empty_page(history)
    marks = [op for op in history if op.f == "mark" and op.type == "ok"]
    assert {op.region for op in marks} == set(REGIONS)
    # every mark is read in every region's drain: each is newer than all before it
    drained = {(op.region, r["new"]["val"]) for op in history
               if op.f == "drain" and op.type == "ok" for r in op.value or []
               if r.get("new")}
    assert {(r, m.value) for r in REGIONS for m in marks} <= drained


@pytest.mark.slow
def test_a_stream_bug_is_still_caught_with_empty_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(streams_mod, "EMPTY_PAGE_RATE", 0.5)
    results, history = _run(tmp_path, "--emulator-bug", "replicated-write-no-record")
    s = results["checkers"]["streams"]
    assert results["valid"] is False and s["valid"] is False, json.dumps(s)[:2000]
    assert {"broken-chain", "missing-record"} & set(s["anomaly_counts"]), s["anomaly_counts"]
    assert _went_on_past_an_empty_page(history)
