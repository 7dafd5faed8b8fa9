"""DynamoDB Streams for each region: ListStreams, DescribeStream, GetShardIterator, GetRecords.

Served on the region's endpoint under the `DynamoDBStreams_20120810` target prefix, so
`boto3.client("dynamodbstreams", endpoint_url=<region endpoint>)` works. Each table replica
has one shard holding exactly the writes applied in that region, in apply order (A07): a
replicated write dropped by last-writer-wins is absent, so two regions can show different
sequences for one item under async replication. Shard iterators are opaque tokens naming the
table, region, position and issue time, and expire after 15 minutes as the real ones do
(ExpiredIteratorException); a position behind the trim horizon is TrimmedDataAccessException.
Records honour the table's StreamViewType (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE,
NEW_AND_OLD_IMAGES; a global table's is NEW_AND_OLD_IMAGES).

Shard lineage: the region's records are cut into shards of SHARD_RECORDS consecutive
sequence numbers. When a shard is full it closes (DescribeStream gives its
EndingSequenceNumber, and GetRecords at its end returns no NextShardIterator) and its child
opens (ParentShardId = the closed one), so a consumer must follow the lineage as the
Kinesis adapter does. DynamoDB closes shards by time (about every four hours) and may split
them; closing by count keeps the same contract observable in a short run.

Empty pages: GetRecords (API Reference) "If there are no stream records available in the
portion of the shard that the iterator points to, GetRecords returns an empty list. Note
that it might take multiple calls to get to a portion of the shard that contains stream
records." So an empty page does not mean the consumer is at the shard's tip. Here, when
records follow an iterator's position, GetRecords starts with probability
`stream_empty_page_rate` (EMPTY_PAGE_RATE by default; Deployment's `stream_empty_pages`,
`gtcheck emulator serve --stream-empty-pages`) a run of 1 to EMPTY_RUN_MAX empty pages,
each with a NextShardIterator at the same position, drawn from a generator seeded by the
deployment's seed and the region; the iterator carries how many are left, and once a run
is over the records come (at most one run per iterator chain and position).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from typing import Any, Callable

from emulator import attrs
from emulator.cluster import Cluster, GlobalTable
from emulator.errors import DynamoError, validation
from emulator.store import StreamRecord, TableReplica

RECORDS_PER_CALL_MAX = 1000
SHARD_RECORDS = 32  # sequence numbers per shard; a full shard closes and its child opens
SHARDS_PER_PAGE_MAX = 100  # DescribeStream's Limit
ITERATOR_LIFETIME_S = 15 * 60  # a shard iterator expires 15 minutes after it was issued
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
EMPTY_PAGE_RATE = 0.05  # chance that records after an iterator start behind empty pages
EMPTY_RUN_MAX = 3       # empty pages in one such run, at most


def view_type(t: GlobalTable) -> str:
    """The table's StreamViewType (a global table without an explicit one: both images)."""
    v = (t.stream_spec or {}).get("StreamViewType")
    return v if v in VIEW_TYPES else "NEW_AND_OLD_IMAGES"


def _seq(n: int) -> str:
    return f"{n:021d}"


class StreamsService:
    def __init__(self, cluster: Cluster, region: str) -> None:
        self.cluster = cluster
        self.region = region
        self.empty_page_rate = float(cluster.engine_settings.get("stream_empty_page_rate",
                                                                  EMPTY_PAGE_RATE))
        self._rng = random.Random(f"{getattr(cluster, 'seed', 0)}:streams:{region}")
        self._rng_lock = threading.Lock()
        self.ops: dict[str, Callable[[dict], dict]] = {
            "ListStreams": self.list_streams, "DescribeStream": self.describe_stream,
            "GetShardIterator": self.get_shard_iterator, "GetRecords": self.get_records,
        }

    def handle(self, operation: str, req: Any) -> dict:
        fn = self.ops.get(operation)
        if fn is None:
            raise DynamoError("UnknownOperationException", f"Unknown operation: {operation}")
        if not isinstance(req, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        return fn(req)

    def _tables(self) -> list[GlobalTable]:
        return sorted(self.cluster.regions[self.region].tables.values(), key=lambda t: t.name)

    def _by_arn(self, arn: Any) -> tuple[GlobalTable, TableReplica]:
        if not isinstance(arn, str):
            raise validation("1 validation error detected: Value null at 'streamArn' failed to "
                             "satisfy constraint: Member must not be null")
        for t in self._tables():
            if t.stream_arn(self.region) == arn:
                return t, t.replicas[self.region]
        raise DynamoError("ResourceNotFoundException", f"Requested resource not found: Stream: "
                          f"{arn} not found")

    def list_streams(self, req: dict) -> dict:
        name = req.get("TableName")
        out = [{"StreamArn": t.stream_arn(self.region), "TableName": t.name,
                "StreamLabel": t.stream_label}
               for t in self._tables() if name is None or t.name == name]
        return {"Streams": out}

    def describe_stream(self, req: dict) -> dict:
        t, rep = self._by_arn(req.get("StreamArn"))
        with rep.lock:
            trimmed, last = rep.stream_trimmed, rep.stream_trimmed + len(rep.stream)
        n = SHARD_RECORDS
        first = trimmed // n
        keys = [{"AttributeName": t.schema.hash, "KeyType": "HASH"}]
        if t.schema.range:
            keys.append({"AttributeName": t.schema.range, "KeyType": "RANGE"})
        return {"StreamDescription": {
            "StreamArn": t.stream_arn(self.region), "StreamLabel": t.stream_label,
            "StreamStatus": "ENABLED", "StreamViewType": view_type(t),
            "CreationRequestDateTime": t.created, "TableName": t.name, "KeySchema": keys,
            **self._shard_page(t, req, first, last)}}

    def _shard_page(self, t: GlobalTable, req: dict, first: int, last: int) -> dict:
        """One page of shards: after ExclusiveStartShardId, at most Limit (100)."""
        limit = req.get("Limit", SHARDS_PER_PAGE_MAX)
        if not isinstance(limit, int) or not 1 <= limit <= SHARDS_PER_PAGE_MAX:
            raise validation("1 validation error detected: Value at 'limit' failed to satisfy "
                             "constraint: Member must have value between 1 and 100")
        start = first
        after = req.get("ExclusiveStartShardId")
        if after is not None:
            i = _shard_index(t, after)
            if i is None:
                raise validation(f"Invalid ExclusiveStartShardId {after!r}")
            start = max(first, i + 1)
        end = min(last // SHARD_RECORDS, start + limit - 1)
        out: dict = {"Shards": [self._shard_json(t, i, last) for i in range(start, end + 1)]}
        if end < last // SHARD_RECORDS:
            out["LastEvaluatedShardId"] = _shard_id(t, end)
        return out

    def _shard_json(self, t: GlobalTable, i: int, last: int) -> dict:
        n = SHARD_RECORDS
        rng = {"StartingSequenceNumber": _seq(i * n + 1)}
        if last >= (i + 1) * n:  # full: closed
            rng["EndingSequenceNumber"] = _seq((i + 1) * n)
        out = {"ShardId": _shard_id(t, i), "SequenceNumberRange": rng}
        if i > 0:
            out["ParentShardId"] = _shard_id(t, i - 1)
        return out

    def get_shard_iterator(self, req: dict) -> dict:
        t, rep = self._by_arn(req.get("StreamArn"))
        with rep.lock:
            trimmed, last = rep.stream_trimmed, rep.stream_trimmed + len(rep.stream)
        n = SHARD_RECORDS
        i = _shard_index(t, req.get("ShardId"))
        if i is None or not trimmed // n <= i <= last // n:
            raise DynamoError("ResourceNotFoundException",
                              f"Requested resource not found: Shard: {req.get('ShardId')} not found")
        lo, hi = i * n, (i + 1) * n
        kind = req.get("ShardIteratorType")
        if kind == "TRIM_HORIZON":
            pos = max(lo, trimmed)
        elif kind == "LATEST":
            pos = max(lo, min(last, hi))
        elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            s = req.get("SequenceNumber")
            if not isinstance(s, str) or not s.isdigit():
                raise validation("Invalid SequenceNumber")
            num = int(s)
            pos = num - 1 if kind == "AT_SEQUENCE_NUMBER" else num
            if not lo < num <= hi:  # a sequence number of this shard's range, no other's
                raise validation(f"Invalid SequenceNumber for the shard {req.get('ShardId')}")
            if pos < trimmed:
                raise DynamoError("TrimmedDataAccessException", "The requested sequence number is "
                                  "beyond the trim horizon")
        else:
            raise validation(f"1 validation error detected: Value '{kind}' at "
                             "'shardIteratorType' failed to satisfy constraint: Member must "
                             "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                             "AT_SEQUENCE_NUMBER, TRIM_HORIZON]")
        return {"ShardIterator": _token(t, self.region, pos, i)}

    def get_records(self, req: dict) -> dict:
        token = req.get("ShardIterator")
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
            table, region, pos, label = data["t"], data["r"], int(data["p"]), data["l"]
            issued, shard = float(data["i"]), int(data["s"])
            empty_left = data.get("e")
            empty_left = None if empty_left is None else int(empty_left)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeError):
            raise validation("Invalid ShardIterator") from None
        if region != self.region:
            raise validation("Invalid ShardIterator: it belongs to another region")
        if time.time() - issued > ITERATOR_LIFETIME_S:
            raise DynamoError("ExpiredIteratorException", "Iterator expired. The iterator was "
                              "created more than 15 minutes ago")
        t = self.cluster.regions[self.region].tables.get(table)
        if t is None or t.stream_label != label:
            raise DynamoError("ResourceNotFoundException", "Requested resource not found: the "
                              "stream of this iterator no longer exists")
        limit = req.get("Limit", RECORDS_PER_CALL_MAX)
        if not isinstance(limit, int) or not 1 <= limit <= RECORDS_PER_CALL_MAX:
            raise validation("1 validation error detected: Value at 'limit' failed to satisfy "
                             "constraint: Member must have value between 1 and 1000")
        rep = t.replicas[self.region]
        if pos < rep.stream_trimmed:
            raise DynamoError("TrimmedDataAccessException", "The iterator points beyond the trim "
                              "horizon")
        hi = (shard + 1) * SHARD_RECORDS
        with rep.lock:
            recs = list(rep.stream_since(pos, max(0, min(limit, hi - pos))))
            last = rep.stream_trimmed + len(rep.stream)
        if recs:  # records follow: maybe empty pages before them (module docstring)
            left = self._empty_pages(empty_left)
            if left is not None:
                return {"Records": [], "NextShardIterator": _token(t, self.region, pos, shard,
                                                                   empty_left=left)}
        view = view_type(t)
        out = [record_json(r, self.region, view) for r in recs]
        nxt = pos + len(recs)
        if nxt >= hi and last >= hi:  # the shard is closed and read to its end
            return {"Records": out}
        return {"Records": out, "NextShardIterator": _token(t, self.region, nxt, shard)}


    def _empty_pages(self, left: int | None) -> int | None:
        """None: serve the records; else serve an empty page, with that many more empty
        pages to come after it (`left`: what the iterator says is left of its run)."""
        if left is not None:
            return None if left <= 0 else left - 1
        if self.empty_page_rate <= 0:
            return None
        with self._rng_lock:
            if self._rng.random() >= self.empty_page_rate:
                return None
            return self._rng.randint(1, EMPTY_RUN_MAX) - 1


def _shard_id(t: GlobalTable, i: int) -> str:
    return f"shardId-{int(t.created * 1000):020d}-{i:08x}"


def _shard_index(t: GlobalTable, shard_id: Any) -> int | None:
    prefix = f"shardId-{int(t.created * 1000):020d}-"
    if not isinstance(shard_id, str) or not shard_id.startswith(prefix):
        return None
    try:
        return int(shard_id[len(prefix):], 16)
    except ValueError:
        return None


def _token(t: GlobalTable, region: str, pos: int, shard: int,
           empty_left: int | None = None) -> str:
    body = {"t": t.name, "r": region, "p": pos, "l": t.stream_label, "s": shard,
            "i": round(time.time(), 3)}
    if empty_left is not None:  # within a run of empty pages: how many more
        body["e"] = empty_left
    raw = json.dumps(body).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def record_json(r: StreamRecord, region: str, view: str = "NEW_AND_OLD_IMAGES") -> dict:
    """The GetRecords form of `r` under StreamViewType `view` (images it does not carry are
    left out, as DynamoDB does)."""
    body: dict[str, Any] = {"ApproximateCreationDateTime": r.applied_wall_s, "Keys": r.keys,
                            "SequenceNumber": _seq(r.sequence), "StreamViewType": view}
    size = attrs.item_size(r.keys)
    if r.new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = r.new
        size += attrs.item_size(r.new)
    if r.old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = r.old
        size += attrs.item_size(r.old)
    body["SizeBytes"] = size
    return {"eventID": f"{r.sequence:08x}{region}", "eventName": r.event, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": body}
