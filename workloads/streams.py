"""The streams workload: writes in every region, every region's DynamoDB stream read back.

Global tables replicate through change streams and applications build on them, so the
stream is a promise of its own (SEMANTICS.md A07: only applied writes appear; M13: under
MRSC every region shows a key's writes in one order). Clients in every region write single
-value items with unique values -- unconditional puts (`write`), conditional updates
(`update`, UpdateItem `SET #v = :new` if `#v = :old`) and conditional deletes (`delete`,
DeleteItem if `#v = :old`) -- and consumers in every region read that region's stream
through boto3's `dynamodbstreams` client the way the Kinesis adapter does: the table's
LatestStreamArn (DescribeTable; ListStreams as a fallback), DescribeStream (paginated) for
the shards, parents before children (ParentShardId), GetShardIterator
TRIM_HORIZON for a shard not yet read and AFTER_SEQUENCE_NUMBER after the last record
read, GetRecords until the shard is closed (no NextShardIterator) or has nothing new.

History shape (docs/CONVENTIONS.md, the `streams` workload): a `poll` (main phase) or `drain`
(after the heal) operation completes `ok` with `value` a list of records, each
{"seq", "shard", "event", "keys", "new", "old", "at"}: the sequence number (a string of
digits), the shard id, INSERT / MODIFY / REMOVE, the key attributes and the images as plain
values (None when absent), and ApproximateCreationDateTime in epoch seconds. The record's
region is the operation's. A `poll` reads from the region's shared cursor (at most
POLL_CALLS_MAX GetRecords per shard, so it ends well inside the operation timeout) and
moves it only once every call succeeded; a `drain` re-reads the whole stream from
TRIM_HORIZON to its end and waits DRAIN_PAUSE_S for anything new, again until nothing comes
(`extra["complete"]` False if its time ran out first), so the final record set of a
region is complete even if a poll's answer was lost to a timeout; every thread drains before
and after its final reads. Records are identified by (region, seq): reading one twice is not
a duplicate. Writes carry `acked_at` (the client's wall clock at the
answer) in their completion's extra, for the stream lag.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Mapping

from botocore.exceptions import ClientError

from workloads.base import Workload, WorkloadOptions, paced
from workloads.client import KEY, REGISTER_ATTR, OpView, RegionClient
from workloads.dynamo import num
from workloads.generators import FINAL, UniqueOps, pick, read

NAME = "streams"
POLL_CALLS_MAX = 4          # GetRecords calls per shard in one poll
RECORDS_PER_CALL = 1000
DRAIN_CALLS_MAX = 50        # GetRecords per shard in one step of a drain
DRAIN_PAUSE_S = 0.1         # a drain ends when nothing new came in this long
DRAIN_BUDGET = 0.6          # of the operation timeout: a drain ends in time, marked incomplete

MIX = (("write", 0.30), ("update", 0.20), ("delete", 0.08), ("read-sc", 0.12),
       ("poll", 0.30))


def _item_key(op: OpView) -> dict:
    return {KEY: {"S": str(op.key)}}


def _acked(value: Any) -> tuple[Any, dict]:
    return value, {"acked_at": round(time.time(), 6)}


def put(c: Any, table: str, op: OpView) -> Any:
    c.put_item(TableName=table, Item={**_item_key(op), REGISTER_ATTR: num(op.value)})
    return _acked(op.value)


def update(c: Any, table: str, op: OpView) -> Any:
    old, new = op.value
    c.update_item(TableName=table, Key=_item_key(op), UpdateExpression="SET #v = :new",
                  ConditionExpression="#v = :old", ExpressionAttributeNames={"#v": REGISTER_ATTR},
                  ExpressionAttributeValues={":old": num(old), ":new": num(new)})
    return _acked([old, new])


def delete(c: Any, table: str, op: OpView) -> Any:
    c.delete_item(TableName=table, Key=_item_key(op), ConditionExpression="#v = :old",
                  ExpressionAttributeNames={"#v": REGISTER_ATTR},
                  ExpressionAttributeValues={":old": num(op.value)})
    return _acked(op.value)


def get(c: Any, table: str, op: OpView) -> Any:
    resp = c.get_item(TableName=table, Key=_item_key(op), ConsistentRead=bool(op.consistent))
    item = resp.get("Item")
    return None if item is None else plain_image(item).get(REGISTER_ATTR)


def plain_value(av: Mapping[str, Any]) -> Any:
    """One DynamoDB JSON attribute value as a plain value (S, N, BOOL, NULL; else as is)."""
    if "S" in av:
        return av["S"]
    if "N" in av:
        n = av["N"]
        return int(n) if n.lstrip("-").isdigit() else float(n)
    if "BOOL" in av:
        return bool(av["BOOL"])
    if "NULL" in av:
        return None
    return dict(av)


def plain_image(item: Mapping[str, Any] | None) -> dict | None:
    return None if item is None else {k: plain_value(v) for k, v in sorted(item.items())}


def record_of(raw: Mapping[str, Any], shard: str) -> dict:
    """A GetRecords record in the history's shape (module docstring)."""
    d = raw.get("dynamodb", {})
    at = d.get("ApproximateCreationDateTime")
    if hasattr(at, "timestamp"):
        at = at.timestamp()
    return {"seq": d.get("SequenceNumber"), "shard": shard, "event": raw.get("eventName"),
            "keys": plain_image(d.get("Keys")), "new": plain_image(d.get("NewImage")),
            "old": plain_image(d.get("OldImage")), "at": at}


class StreamCursor:
    """One region's consumer position: the last sequence number read per shard, and the
    shards read to their end (closed). Shared by the region's client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arn: str | None = None
        self.last: dict[str, str] = {}
        self.closed: set[str] = set()


def stream_arn(sc: Any, ddb: Any, table: str) -> str | None:
    """The table's latest stream ARN in this region (DescribeTable; ListStreams as a
    fallback), None while it has none."""
    arn = ddb.describe_table(TableName=table).get("Table", {}).get("LatestStreamArn")
    if arn:
        return arn
    streams = sc.list_streams(TableName=table).get("Streams", [])
    return streams[0]["StreamArn"] if streams else None


def shards_in_lineage_order(sc: Any, arn: str) -> list[dict]:
    """Every shard of the stream (DescribeStream, paginated), parents before children."""
    shards: list[dict] = []
    kwargs: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = sc.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(desc.get("Shards", []))
        last = desc.get("LastEvaluatedShardId")
        if not last:
            break
        kwargs["ExclusiveStartShardId"] = last
    ids = {s["ShardId"] for s in shards}
    ordered: list[dict] = []
    placed: set[str] = set()
    pending = list(shards)
    while pending:
        progress = False
        for s in list(pending):
            parent = s.get("ParentShardId")
            if parent is None or parent not in ids or parent in placed:
                ordered.append(s)
                placed.add(s["ShardId"])
                pending.remove(s)
                progress = True
        if not progress:  # a cycle cannot happen in a real stream; read the rest as listed
            ordered.extend(pending)
            break
    return ordered


def read_shard(sc: Any, arn: str, shard: str, after: str | None,
               calls: int) -> tuple[list[dict], str | None, bool]:
    """Up to `calls` GetRecords on `shard` after sequence number `after` (None: from
    TRIM_HORIZON): (records, last sequence read, whether the shard ended)."""
    it = None
    if after is not None:
        try:
            it = sc.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                       SequenceNumber=after)["ShardIterator"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                raise
            # the records after `after` are gone (24-hour trim): go on from the oldest
            # left, as the Kinesis adapter does; what was trimmed was never read
    if it is None:
        it = sc.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out: list[dict] = []
    last = after
    for _ in range(calls):
        resp = sc.get_records(ShardIterator=it, Limit=RECORDS_PER_CALL)
        recs = resp.get("Records", [])
        out.extend(record_of(r, shard) for r in recs)
        if recs:
            last = recs[-1]["dynamodb"]["SequenceNumber"]
        it = resp.get("NextShardIterator")
        if it is None:
            return out, last, True
        if not recs:
            break
    return out, last, False


def advance(sc: Any, arn: str, last: dict[str, str], closed: set[str],
            calls: int) -> list[dict]:
    """Read every shard not yet read to its end, after its last sequence number (parents
    before children: a child waits until its listed parent is closed and read), at most
    `calls` GetRecords per shard; `last` and `closed` are updated in place."""
    out: list[dict] = []
    shards = shards_in_lineage_order(sc, arn)
    listed = {s["ShardId"] for s in shards}
    for s in shards:
        sid, parent = s["ShardId"], s.get("ParentShardId")
        if sid in closed:
            continue
        if parent is not None and parent in listed and parent not in closed:
            continue  # the parent is not read to its end: its child waits (lineage)
        recs, seq, ended = read_shard(sc, arn, sid, last.get(sid), calls)
        out.extend(recs)
        if seq is not None:
            last[sid] = seq
        if ended:
            closed.add(sid)
    return out


def poll(sc: Any, ddb: Any, table: str, cursor: StreamCursor) -> list[dict]:
    """New records of the region's stream since the cursor; the cursor moves only when
    every call succeeded (an exception leaves it, and the records are read again)."""
    with cursor.lock:
        arn = cursor.arn or stream_arn(sc, ddb, table)
        if arn is None:
            return []
        last, closed = dict(cursor.last), set(cursor.closed)
        out = advance(sc, arn, last, closed, POLL_CALLS_MAX)
        cursor.arn, cursor.last, cursor.closed = arn, last, closed
        return out


def read_all(sc: Any, ddb: Any, table: str) -> list[dict]:
    """The whole stream from TRIM_HORIZON, every shard to its current end."""
    return drain(sc, ddb, table, budget_s=0.0)[0]


def drain(sc: Any, ddb: Any, table: str, budget_s: float,
          arn: str | None = None) -> tuple[list[dict], bool]:
    """The whole stream from TRIM_HORIZON to its end, then again after DRAIN_PAUSE_S until
    nothing new came (nothing is still being applied) or `budget_s` is spent: (records,
    whether it ended quiet). Parents are read to their end before their children. `arn`:
    the stream's ARN if known (else DescribeTable / ListStreams)."""
    arn = arn or stream_arn(sc, ddb, table)
    if arn is None:
        return [], True
    deadline = time.monotonic() + budget_s
    last: dict[str, str] = {}
    closed: set[str] = set()
    out: list[dict] = []
    while True:
        more = advance(sc, arn, last, closed, DRAIN_CALLS_MAX)
        out.extend(more)
        if more:
            continue  # a child shard may have become readable: go on at once
        if budget_s <= 0 or time.monotonic() + DRAIN_PAUSE_S > deadline:
            return out, budget_s <= 0
        time.sleep(DRAIN_PAUSE_S)
        more = advance(sc, arn, last, closed, DRAIN_CALLS_MAX)
        out.extend(more)
        if not more:
            return out, True


OPS = {"write": put, "update": update, "delete": delete, "read": get}


class StreamsClient(RegionClient):
    """A RegionClient that also holds a `dynamodbstreams` client per region and the
    region's shared consumer cursor, for `poll` and `drain`."""

    def __init__(self, *args: Any, streams: Mapping[str, Any] | None = None,
                 cursors: Mapping[str, StreamCursor] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.streams = dict(streams or {})
        self.cursors = dict(cursors or {})

    def _copy(self, **changes: Any) -> "StreamsClient":
        kw = dict(connect_timeout_s=self.connect_timeout_s, read_timeout_s=self.read_timeout_s,
                  region=self.region, boto_client=self.boto_client, target=self.target,
                  shared=self.shared, pool_size=self.pool_size,
                  definite_unavailable=self.definite_unavailable, streams=self.streams,
                  cursors=self.cursors)
        return StreamsClient(self.table, self.ops, **{**kw, **changes})

    def with_target(self, target: Any) -> "StreamsClient":
        proto = super().with_target(target)
        proto.streams = {r: streams_client(target, r, proto._config()) for r in target.regions}
        proto.cursors = {r: StreamCursor() for r in target.regions}
        return proto

    def open(self, test: Any, region: str) -> "StreamsClient":
        opened = super().open(test, region)
        if region not in opened.streams:
            target = self.target if self.target is not None else test.target
            opened.streams = {**opened.streams,
                              region: streams_client(target, region, self._config())}
        if region not in opened.cursors:
            opened.cursors = {**opened.cursors, region: StreamCursor()}
        return opened

    def _complete(self, op: OpView) -> dict:
        if op.f not in ("poll", "drain"):
            return super()._complete(op)
        from workloads.dynamo import classify
        sc, ddb = self.streams[self.region], self.boto_client
        try:
            if op.f == "poll":
                recs = poll(sc, ddb, self.table, self.cursors[self.region])
            else:
                cursor = self.cursors[self.region]
                if cursor.arn is None:
                    cursor.arn = stream_arn(sc, ddb, self.table)
                recs, quiet = drain(sc, ddb, self.table, DRAIN_BUDGET * self.read_timeout_s,
                                    cursor.arn)
                return {"type": "ok", "region": self.region, "value": recs,
                        "extra": {"complete": quiet}}
        except Exception as e:  # noqa: BLE001 -- every outcome is classified, none swallowed
            outcome = classify(e, definite_unavailable=self.definite_unavailable)
            # A stream read changes nothing: whatever its outcome, it is a failed read.
            return {"type": "fail", "region": self.region, "error": outcome.error}
        return {"type": "ok", "region": self.region, "value": recs}


def streams_client(target: Any, region: str, config: Any) -> Any:
    """A boto3 `dynamodbstreams` client for `region` of `target` (same endpoint and
    credentials as its DynamoDB clients; suite.targets.base)."""
    make = getattr(target, "streams_client", None)
    if make is None:
        from gtcheck.errors import BadInput
        raise BadInput(f"the target {type(target).__name__} serves no DynamoDB Streams client")
    return make(region, config=config)


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key, kind = rng.choice(keys), pick(rng, MIX)
        if kind == "poll":
            return {"f": "poll", "key": "stream"}, False
        if kind == "read-sc":
            return read(key, kind), False
        if kind == "update" and key in last:
            return {"f": "update", "key": key, "value": [last[key], next_value]}, True
        if kind == "delete" and key in last:
            return {"f": "delete", "key": key, "value": last[key]}, False
        return {"f": "write", "key": key, "value": next_value}, True
    return choose


def final_ops(keys: tuple[str, ...]) -> Any:
    """Every client thread drains its region's stream, reads every key (SC), and drains
    again (a second chance for a drain that ran out of time on a loaded machine)."""
    from suite.generator import each_thread
    drain_op = {"f": "drain", "key": "stream", FINAL: True}
    return each_thread([drain_op]
                       + [{"f": "read", "key": k, "consistent": True, FINAL: True}
                          for k in keys] + [drain_op])


def keys_in_play(keys: tuple[str, ...], hot: int) -> tuple[str, ...]:
    """The keys the main phase writes: the first `hot` of them with `--hot-keys` (0 or at
    least --keys: all). Writes from several regions to one key within the replication lag
    are what puts last-writer-wins, and its stream records, to work (A06/A07: a dropped
    stale write must leave no record); spread over every key they met about once a quick
    run (issue 21: `stream-record-for-dropped-write` caught 2/3). The hot keys stay fixed
    instead of rotating (workloads.generators.HotKeys): an update or delete names the
    value its key last held, which a rotation would hand to another key."""
    return keys[:hot] if 0 < hot < len(keys) else keys


def workload(opts: WorkloadOptions) -> Workload:
    keys = opts.key_names()
    return Workload(
        name=NAME,
        client=StreamsClient(opts.table, OPS, connect_timeout_s=opts.connect_timeout_s,
                             read_timeout_s=opts.read_timeout_s,
                             pool_size=max(4, opts.concurrency)),
        generator=paced(opts, UniqueOps(choose_op(keys_in_play(keys, opts.hot_keys)),
                                        opts.seed)),
        final_generator=final_ops(keys),
        checkers=checker_set(opts.mode),
        table=opts.table, keys=keys, min_concurrency=len(opts.regions),
        summarize=lambda history: summarize(history, opts.mode))


def checker_set(mode: str) -> dict[str, Any]:
    """The streams checkers of `mode` (checkers.modes.checkers_for -> checkers.streams)."""
    from checkers.modes import checkers_for
    return checkers_for(mode, NAME)


def summarize(history, mode: str) -> str:
    """The stream lag per ordered pair, printed after the run."""
    from checkers.streams import lag_check, lag_summary
    lines = lag_summary(lag_check({"mode": mode}, history, {}))
    if not lines:
        return ""
    return ("stream lag (acknowledged in A -> ApproximateCreationDateTime in B):\n"
            + "\n".join(lines))
