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
moves it only once every call succeeded. After the heal one client thread per region
makes its final reads and then drains its region's stream in steps (`StreamDrain`), each
a recorded operation: `{"f": "drain", "step": "list"}` (DescribeStream; the completion's
`shards` is [[id, parent, closed], ...]) or `{"f": "drain", "step": "read", "shard",
"after"}` (one GetRecords after sequence number `after`, None for TRIM_HORIZON; the
completion's `end` is "closed", "tip" or "more"). The steps resume where the last one
stopped (checkers/stream_drain.py, issue 21: a drain that re-read the whole stream within
0.6 s ran out of time at load 25-45). Before the drain, after every region's final reads,
each region in turn writes one final mark per key (`{"f": "mark"}`, a put of its own
negative value) that every region reads back (`{"f": "mark-read"}`) before the next
region's turn; the drain goes on until it has read every mark (`final_ops`): GetRecords
may return empty pages before records that follow, so no empty page says the drain is
done, while the marks, by the per-item order of stream records, come after every
earlier write of their key (checkers/stream_proof.py). Records are identified by
(region, seq): reading one twice is not a duplicate. Writes carry `acked_at` (the client's wall clock at the
answer) in their completion's extra, for the stream lag.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from botocore.exceptions import ClientError

from results.history import Op

from checkers.stream_drain import (CLOSED, MORE, QUIET_S, READ, TIP, Ledger, step_of)
from suite.generator import PENDING, Generator, gen_op
from workloads.base import Workload, WorkloadOptions, paced
from workloads.client import KEY, REGISTER_ATTR, OpView, RegionClient
from workloads.dynamo import classify, num
from workloads.generators import (FINAL, FINAL_READ_ATTEMPTS, FINAL_READ_GAP_S, UniqueOps,
                                  _field, pick, read)

NAME = "streams"
POLL_CALLS_MAX = 4          # GetRecords calls per shard in one poll
RECORDS_PER_CALL = 1000
DRAIN_CALLS_MAX = 50        # GetRecords per shard in one pass of `read_all`
# The final drain's budget (`StreamDrain`): a step is one GetRecords, so the drain makes
# progress whatever the load; it gives up after DRAIN_BUDGET_TIMEOUTS operation timeouts
# (10 s in the quick battery), DRAIN_STEPS_MAX steps, or as many failures in a row as a
# final read gets attempts (workloads.generators.UntilAnswered), FAIL_GAP_S apart.
DRAIN_BUDGET_TIMEOUTS = 10.0
DRAIN_STEPS_MAX = 1000
DRAIN_FAILS_MAX = FINAL_READ_ATTEMPTS
FAIL_GAP_S = FINAL_READ_GAP_S
ITERATOR_REUSE_S = 14 * 60  # a shard iterator expires 15 minutes after it was issued

# The final marks (`final_ops`): after the final reads, each region in turn puts one mark
# per key in play, and every region SC-reads it (f "mark-read", MARK_SEEN_GAP_S apart, at
# most MARK_SEEN_ATTEMPTS times) before the next region's turn.
MARK, MARK_READ = "mark", "mark-read"
MARK_SEEN_ATTEMPTS = 150
MARK_SEEN_GAP_S = 0.02
# How long the drain reads empty tips again for marks not read yet: far longer than the
# emulator's runs of empty pages (at most 3, read QUIET_S apart); a stream bug that loses
# a mark's record would otherwise hold the drain for its whole budget.
MARK_PATIENCE_S = 1.0

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
               calls: int, patient: bool = False) -> tuple[list[dict], str | None, bool]:
    """Up to `calls` GetRecords on `shard` after sequence number `after` (None: from
    TRIM_HORIZON): (records, last sequence read, whether the shard ended). It stops at
    the first empty page unless `patient`: GetRecords may return empty pages before
    records that follow (emulator/streams.py), so a caller that must reach the end reads
    on through them."""
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
        if not recs and not patient:
            break
    return out, last, False


def advance(sc: Any, arn: str, last: dict[str, str], closed: set[str],
            calls: int, patient: bool = False) -> list[dict]:
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
        recs, seq, ended = read_shard(sc, arn, sid, last.get(sid), calls, patient)
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
    """The whole stream from TRIM_HORIZON, every shard to its current end (parents before
    children), for a caller with no time limit (suite/conform.py, tests): each pass reads
    on through empty pages (`read_shard`'s `patient`), up to DRAIN_CALLS_MAX a shard."""
    arn = stream_arn(sc, ddb, table)
    if arn is None:
        return []
    last: dict[str, str] = {}
    closed: set[str] = set()
    out: list[dict] = []
    while True:
        more = advance(sc, arn, last, closed, DRAIN_CALLS_MAX, patient=True)
        if not more:
            return out
        out.extend(more)


class NoStream(RuntimeError):
    """The table has no stream in the region (DescribeTable's LatestStreamArn, ListStreams):
    a drain step fails with it (error "unknown:NoStream"); nothing read, nothing drained."""


class DrainState:
    """A region's drain client state, shared by its threads: the stream's ARN once known,
    and the NextShardIterator each read returned, by (shard, position reached), so the
    next read of that shard goes on with it as a consumer must (GetRecords: "the next
    position in the shard from which to start sequentially reading"); a shard iterator
    lives 15 minutes (GetShardIterator), so one older than ITERATOR_REUSE_S is not used.
    Only an optimisation: every step names its shard and position itself."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arn: str | None = None
        self.iterators: dict[tuple[str, str | None], tuple[str, float]] = {}

    def take(self, shard: str, after: str | None) -> str | None:
        with self.lock:
            it = self.iterators.pop((shard, after), None)
        if it is None or time.monotonic() - it[1] > ITERATOR_REUSE_S:
            return None
        return it[0]

    def keep(self, shard: str, position: str | None, iterator: str) -> None:
        with self.lock:
            self.iterators[(shard, position)] = (iterator, time.monotonic())


def list_step(sc: Any, ddb: Any, table: str, state: DrainState) -> tuple[list, dict]:
    """A drain's listing step: every shard of the region's stream, parents first, each
    [id, parent, closed] (DescribeStream: a shard with an EndingSequenceNumber is
    closed)."""
    if state.arn is None:
        state.arn = stream_arn(sc, ddb, table)
    if state.arn is None:
        raise NoStream(f"the table {table} has no stream in this region")
    shards = shards_in_lineage_order(sc, state.arn)
    return [], {"shards": [[s["ShardId"], s.get("ParentShardId"),
                            "EndingSequenceNumber" in s.get("SequenceNumberRange", {})]
                           for s in shards]}


def _iterator(sc: Any, arn: str, shard: str, after: str | None) -> str:
    if after is None:
        return sc.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return sc.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                 ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                 SequenceNumber=after)["ShardIterator"]


def read_step(sc: Any, ddb: Any, table: str, state: DrainState, shard: str,
              after: str | None) -> tuple[list[dict], dict]:
    """A drain's read step: one GetRecords on `shard` right after sequence number `after`
    (None: TRIM_HORIZON), with the iterator the previous read of that position returned
    or a fresh one (and a fresh one again if that had expired): (records, {"end": ...}),
    end "closed" (no NextShardIterator: the shard is read to its end), "tip" (no record:
    nothing more yet) or "more". A position trimmed away (TrimmedDataAccessException) is
    an error: what was trimmed was never read, so the drain cannot be complete."""
    if state.arn is None:
        state.arn = stream_arn(sc, ddb, table)
    if state.arn is None:
        raise NoStream(f"the table {table} has no stream in this region")
    it = state.take(shard, after)
    if it is not None:
        try:
            resp = sc.get_records(ShardIterator=it, Limit=RECORDS_PER_CALL)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            it = None
    if it is None:
        resp = sc.get_records(ShardIterator=_iterator(sc, state.arn, shard, after),
                              Limit=RECORDS_PER_CALL)
    recs = [record_of(r, shard) for r in resp.get("Records", [])]
    nxt = resp.get("NextShardIterator")
    position = recs[-1]["seq"] if recs else after
    if nxt is None:
        return recs, {"end": CLOSED}
    state.keep(shard, position, nxt)
    return recs, {"end": MORE if recs else TIP}


@dataclass(frozen=True)
class StreamDrain(Generator):
    """One client thread's drain of its region's stream after the heal: steps (a listing,
    or one GetRecords) chosen by the drain ledger (checkers/stream_drain.py) from this
    thread's recorded completions, so each step resumes where the last one stopped,
    whatever failed or timed out between; a failed step is tried again after
    FAIL_GAP_S. Given `marks` (the final marks' values, `final_ops`), it ends once it has
    read every one of them (what the checker needs is then read), and until then reads
    tips that look quiet again, QUIET_S apart (an empty page proves no tip), for at most
    MARK_PATIENCE_S of empty pages at one position; without
    marks, when the ledger says the stream is read to its end or quiet; or when its
    budget is spent (`budget_s` after its first step, `steps_max` steps,
    `fails_max` failures in a row) -- then the checker finds it incomplete and says
    "unknown" with the reason. In a quiet round (suite/quiet.py: the final generator run
    after a heal in the main phase) it stops after its first step: a quiet round judges
    convergence, and only the final drain is judged by the streams checker."""

    budget_s: float
    steps_max: int = DRAIN_STEPS_MAX
    fails_max: int = DRAIN_FAILS_MAX
    ledger: Ledger = field(default_factory=Ledger)
    marks: frozenset = frozenset()    # final mark values to read before it ends
    seen: frozenset = frozenset()     # those read contiguously so far
    started_ns: int | None = None
    steps: int = 0
    fails: int = 0
    waiting: tuple | None = None      # (step, shard, after, invoke ns) in flight
    pause_s: float = 0.0
    done: bool = False

    def op(self, test, ctx):
        if self.done:
            return None
        if self.waiting is not None:
            return PENDING
        started = ctx.time if self.started_ns is None else self.started_ns
        if self.steps >= self.steps_max or \
                ctx.time - started > int(self.budget_s * 1e9):
            return None
        if self.pause_s > 0:
            return self._sleep(test, ctx, started, self.pause_s)
        if self.marks and self.marks <= self.seen:
            return None
        nxt = self.ledger.next_step(ctx.time, int(QUIET_S * 1e9))
        if nxt[0] == "done" and not self.marks <= self.seen:
            # An empty page proves no tip (GetRecords, checkers/stream_proof.py): marks
            # known written but not read yet may still come; read the tips again, until
            # they stayed empty MARK_PATIENCE_S (a mark whose record never comes leaves
            # its claims "not drained", whatever the drain does).
            if self.ledger.complete(int(MARK_PATIENCE_S * 1e9))[0]:
                return None
            nxt = self.ledger.reread_tip()
        if nxt[0] == "done":
            return None
        if nxt[0] == "wait":  # until an empty tip can be read again, QUIET_S later
            return self._sleep(test, ctx, started, max(0.001, (nxt[1] - ctx.time) / 1e9))
        op = {"f": "drain", "key": "stream", "step": nxt[0]}
        if nxt[0] == READ:
            op.update(shard=nxt[1], after=nxt[2])
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], dataclasses.replace(
            self, started_ns=started, waiting=(nxt[0], op.get("shard"), op.get("after"),
                                               res[0].get("time", ctx.time)))

    def _sleep(self, test, ctx, started, seconds):
        res = gen_op({"type": "sleep", "value": seconds}, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], dataclasses.replace(self, pause_s=0.0, started_ns=started)

    def update(self, test, ctx, event):
        kind = _field(event, "type")
        if self.waiting is None or kind not in ("ok", "fail", "info") \
                or _field(event, "f") != "drain":
            return self
        steps = self.steps + 1
        if _field(event, "quiet"):  # a quiet round's drain (class docstring)
            return dataclasses.replace(self, waiting=None, steps=steps, done=True)
        if kind != "ok":
            fails = self.fails + 1
            return dataclasses.replace(self, waiting=None, steps=steps, fails=fails,
                                       done=fails >= self.fails_max, pause_s=FAIL_GAP_S)
        step_kind, shard, after, invoke_ns = self.waiting
        step = step_of({"step": step_kind, "shard": shard, "after": after},
                       {"shards": _field(event, "shards"), "end": _field(event, "end")},
                       _field(event, "value"), invoke_ns, _field(event, "time", ctx.time))
        ledger = self.ledger if step is None else self.ledger.observe(step)
        records = _field(event, "value") or []
        seen = self.seen
        if step is not None and step.kind == READ and ledger.gaps == self.ledger.gaps:
            seen = seen | {_val_of(r) for r in records} & self.marks
        idle = bool(self.marks) and not records and not self.marks <= seen and \
            ledger.next_step(_field(event, "time", ctx.time), int(QUIET_S * 1e9))[0] == "done"
        return dataclasses.replace(self, waiting=None, steps=steps, fails=0, ledger=ledger,
                                   seen=seen, pause_s=QUIET_S if idle else 0.0)


def _val_of(record: Mapping[str, Any]) -> Any:
    new = record.get("new") if isinstance(record, Mapping) else None
    return new.get(REGISTER_ATTR) if isinstance(new, Mapping) else None


# A final mark is a put (its own value); a mark read an SC GetItem that waits for one.
OPS = {"write": put, "update": update, "delete": delete, "read": get, MARK: put,
       MARK_READ: get}


class StreamsClient(RegionClient):
    """A RegionClient that also holds a `dynamodbstreams` client per region, the region's
    shared consumer cursor (`poll`) and its drain state (`drain` steps)."""

    def __init__(self, *args: Any, streams: Mapping[str, Any] | None = None,
                 cursors: Mapping[str, StreamCursor] | None = None,
                 drains: dict[str, DrainState] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.streams = dict(streams or {})
        self.cursors = dict(cursors or {})
        self.drains = {} if drains is None else drains  # region -> DrainState, shared

    def _copy(self, **changes: Any) -> "StreamsClient":
        kw = dict(connect_timeout_s=self.connect_timeout_s, read_timeout_s=self.read_timeout_s,
                  region=self.region, boto_client=self.boto_client, target=self.target,
                  shared=self.shared, pool_size=self.pool_size,
                  definite_unavailable=self.definite_unavailable, streams=self.streams,
                  cursors=self.cursors, drains=self.drains)
        return StreamsClient(self.table, self.ops, **{**kw, **changes})

    def with_target(self, target: Any) -> "StreamsClient":
        proto = super().with_target(target)
        proto.streams = {r: streams_client(target, r, proto._config()) for r in target.regions}
        proto.cursors = {r: StreamCursor() for r in target.regions}
        proto.drains = {r: DrainState() for r in target.regions}
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

    def invoke(self, test: Any, op: Any) -> Any:
        """As RegionClient's, and a drain step reads its `step`, `shard` and `after`."""
        if OpView(op).f != "drain":
            return super().invoke(test, op)
        get = op.get if isinstance(op, Mapping) else (
            lambda k: getattr(op, "extra", {}).get(k))
        changes = self._drain_step(get("step"), get("shard"), get("after"))
        if isinstance(op, Op):
            return op.replace(**changes, extra={**op.extra, **changes.pop("extra", {})})
        return {**op, **changes.pop("extra", {}), **changes}

    def _drain_step(self, step: Any, shard: Any, after: Any) -> dict:
        sc, ddb = self.streams[self.region], self.boto_client
        state = self.drains.setdefault(self.region, DrainState())
        try:
            if step == "list":
                recs, extra = list_step(sc, ddb, self.table, state)
            elif step == READ and isinstance(shard, str):
                recs, extra = read_step(sc, ddb, self.table, state, shard, after)
            else:
                return {"type": "fail", "region": self.region, "error": "bad-drain-step"}
        except Exception as e:  # noqa: BLE001 -- every outcome is classified, none swallowed
            # A stream read changes nothing: whatever its outcome, it is a failed read.
            return {"type": "fail", "region": self.region, "error": classify(
                e, definite_unavailable=self.definite_unavailable).error}
        return {"type": "ok", "region": self.region, "value": recs, "extra": extra}

    def _complete(self, op: OpView) -> dict:
        if op.f != "poll":
            return super()._complete(op)
        sc, ddb = self.streams[self.region], self.boto_client
        try:
            recs = poll(sc, ddb, self.table, self.cursors[self.region])
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


def mark_value(region_index: int, key_index: int, keys_marked: int) -> int:
    """The value of region `region_index`'s final mark of its `key_index`-th key: negative,
    so no main-phase write (values from 1 up, UniqueOps) ever has it."""
    return -(1 + region_index * keys_marked + key_index)


@dataclass(frozen=True)
class UntilSeen(Generator):
    """SC reads of `key` (f "mark-read") until one returns `value`, MARK_SEEN_GAP_S
    apart, at most MARK_SEEN_ATTEMPTS: a region's turn of final marks is over only when
    every region holds them."""

    key: str
    value: int
    attempt: int = 1
    waiting: bool = False
    pause: bool = False
    done: bool = False

    def op(self, test, ctx):
        if self.done:
            return None
        if self.waiting:
            return PENDING
        op = {"type": "sleep", "value": MARK_SEEN_GAP_S} if self.pause else \
            {"f": MARK_READ, "key": self.key, "consistent": True}
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], dataclasses.replace(self, pause=False, waiting=not self.pause)

    def update(self, test, ctx, event):
        kind = _field(event, "type")
        if not self.waiting or kind not in ("ok", "fail", "info") \
                or _field(event, "f") != MARK_READ:
            return self
        seen = kind == "ok" and _field(event, "value") == self.value
        done = seen or self.attempt >= MARK_SEEN_ATTEMPTS
        return dataclasses.replace(self, waiting=False, done=done, pause=not done,
                                   attempt=self.attempt + 1)


@dataclass(frozen=True)
class FinalPhase(Generator):
    """The final phase's generator (`final`), and what a quiet round runs instead
    (`quiet_round`, suite/quiet.py): the quiet round reads, but writes no marks."""

    final: Any
    quiet_round: Any

    def op(self, test, ctx):
        return gen_op(self.final, test, ctx)

    def update(self, test, ctx, event):
        from suite.generator import gen_update
        return gen_update(self.final, test, ctx, event)


def final_ops(keys: tuple[str, ...], regions: tuple[str, ...] = ("r",),
              budget_s: float = DRAIN_BUDGET_TIMEOUTS * 5.0,
              marked: tuple[str, ...] | None = None) -> Any:
    """One client thread per region (threads 0..len(regions)-1: thread t is in region t
    mod len(regions)) reads every key (SC, each retried until answered,
    workloads.generators.UntilAnswered). Once every region's reads are over, each region
    in turn puts one final mark per key of `marked` (default: every key; f "mark", its
    own value, `mark_value`) and every region SC-reads each of them until it holds it
    (`UntilSeen`), so no mark is dropped by last-writer-wins anywhere (each is newer
    than every write before it). Then each thread drains its region's stream
    (`StreamDrain`) until it has read every mark: by the per-item order of stream records
    every earlier write of a key applied in the region has its record before the marks
    (checkers/stream_proof.py), so the streams checker can prove a record missing
    instead of guessing from empty pages. A quiet round (suite/quiet.py) runs the reads
    and one drain step only (`FinalPhase.quiet_round`): it writes nothing."""
    from suite.generator import each_thread, on_threads, phases
    from workloads.generators import UntilAnswered
    n = len(regions)
    marked = tuple(keys if marked is None else marked)
    reads = [UntilAnswered({"f": "read", "key": k, "consistent": True, FINAL: True})
             for k in keys]
    mine = lambda t: isinstance(t, int) and t < n  # noqa: E731
    marks = frozenset(mark_value(i, j, len(marked)) for i in range(n)
                      for j in range(len(marked)))
    turns = []
    for i in range(n):
        puts = [{"f": MARK, "key": k, "value": mark_value(i, j, len(marked))}
                for j, k in enumerate(marked)]
        seen = [UntilSeen(k, mark_value(i, j, len(marked))) for j, k in enumerate(marked)]
        turns += [on_threads(lambda t, i=i: t == i, puts), each_thread(seen)]
    final = on_threads(mine, phases(each_thread(reads), *turns,
                                    each_thread([StreamDrain(budget_s, marks=marks)])))
    quiet = on_threads(mine, each_thread(reads + [StreamDrain(budget_s)]))
    return FinalPhase(final, quiet)


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
        final_generator=final_ops(keys, tuple(opts.regions),
                                  DRAIN_BUDGET_TIMEOUTS * opts.read_timeout_s,
                                  keys_in_play(keys, opts.hot_keys)),
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
