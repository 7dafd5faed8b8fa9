"""The one-region boto3 client every workload uses, and the calls each operation makes.

A `RegionClient` is bound to one region of the target: `open(test, region)` returns a copy
holding a boto3 DynamoDB client for that region, made with boto3's retries off
(workloads.dynamo). `invoke` performs exactly one request per operation and turns the
outcome into the completion the history records: `ok` with the value read (or written),
or `fail` / `info` as `workloads.dynamo.classify` decides. Nothing is retried here: a
workload that retries (the demos, on ReplicatedWriteConflictException) does it in its
generator, so every attempt is its own operation in the history.

The operations themselves are small functions of (boto3 client, table, op) -> value, one
per (workload, f), so each workload is a table of them (`OPS`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from results.history import Op
from workloads.dynamo import (Unprocessed, classify, num, one_attempt_config, parse_num,
                              parse_num_set)

KEY = "pk"
REGISTER_ATTR = "val"
COUNTER_ATTR = "n"
SET_ATTR = "s"

OpCall = Callable[[Any, str, "OpView"], Any]


class OpView:
    """The fields an operation call needs, from an `Op` or from an op dict alike."""

    __slots__ = ("f", "key", "value", "consistent", "path", "ttl")

    def __init__(self, op: Any):
        if isinstance(op, Mapping):
            get = op.get
        else:
            extra = getattr(op, "extra", None) or {}
            get = lambda k, d=None: getattr(op, k, extra.get(k, d))  # noqa: E731
        self.f, self.key, self.value = get("f"), get("key"), get("value")
        self.consistent = get("consistent")
        self.path = get("path")  # the API a register read or delete goes through
        self.ttl = bool(get("ttl"))  # set-full: the element's item expires (TTL)


def _key(op: OpView) -> dict:
    return {KEY: {"S": str(op.key)}}


# --- register: read / write / cas ---------------------------------------------------

def register_read(c: Any, table: str, op: OpView) -> Any:
    item = read_item(c, table, op)
    return parse_num((item or {}).get(REGISTER_ATTR))


def register_write(c: Any, table: str, op: OpView) -> Any:
    if op.value is None:  # a delete is a write of "absent" (issue 21)
        return register_delete(c, table, op)
    c.put_item(TableName=table, Item={**_key(op), REGISTER_ATTR: num(op.value)})
    return op.value


# Read paths (issue 21): every API that can read one item, so a mistake on any of them
# is exercised. TransactGetItems is always a serializable (SC) read and is refused on
# MRSC tables (M14), so the workload uses it on async tables only.
READ_PATHS = ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")
DELETE_PATHS = ("DeleteItem", "BatchWriteItem", "TransactWriteItems")
# A Scan read asks for pages of this many items (`Limit`), so it follows LastEvaluatedKey
# through the pages of the run's few keys: without it a page holds the whole table (up to
# 1 MB) and a mistake in paging (a LastEvaluatedKey that skips or repeats an item) was
# never exercised (issue 21). One item a page: with two hot keys in the table, pages of
# two would hold both and the paging would still never be used.
SCAN_PAGE_ITEMS = 1


def read_item(c: Any, table: str, op: OpView) -> dict | None:
    """The item `op.key` names, read through `op.path` (GetItem when absent), SC or EC."""
    path, consistent = op.path or "GetItem", bool(op.consistent)
    if path == "GetItem":
        return c.get_item(TableName=table, Key=_key(op), ConsistentRead=consistent).get("Item")
    if path == "Query":
        resp = c.query(TableName=table, ConsistentRead=consistent,
                       KeyConditionExpression="#k = :k",
                       ExpressionAttributeNames={"#k": KEY},
                       ExpressionAttributeValues={":k": {"S": str(op.key)}})
        items = resp.get("Items", [])
        return items[0] if items else None
    if path == "Scan":
        kwargs: dict[str, Any] = dict(TableName=table, ConsistentRead=consistent,
                                      Limit=SCAN_PAGE_ITEMS,
                                      FilterExpression="#k = :k",
                                      ExpressionAttributeNames={"#k": KEY},
                                      ExpressionAttributeValues={":k": {"S": str(op.key)}})
        while True:
            resp = c.scan(**kwargs)
            if resp.get("Items"):
                return resp["Items"][0]
            if not resp.get("LastEvaluatedKey"):
                return None
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    if path == "GSI":  # workloads/gsi.py: always an EC read (a GSI refuses SC reads)
        from workloads.gsi import read_through_gsi
        return read_through_gsi(c, table, str(op.key))
    if path == "BatchGetItem":
        resp = c.batch_get_item(RequestItems={table: {"Keys": [_key(op)],
                                                      "ConsistentRead": consistent}})
        if resp.get("UnprocessedKeys"):
            raise Unprocessed("BatchGetItem left the key unprocessed")
        items = resp.get("Responses", {}).get(table, [])
        return items[0] if items else None
    if path == "TransactGetItems":
        resp = c.transact_get_items(TransactItems=[{"Get": {"TableName": table,
                                                            "Key": _key(op)}}])
        return (resp.get("Responses") or [{}])[0].get("Item")
    raise ValueError(f"unknown read path {path!r}")


def register_delete(c: Any, table: str, op: OpView) -> Any:
    """Delete the item through `op.path` (DeleteItem when absent): a write of absent.

    DeleteItem asks for the old item (ReturnValues ALL_OLD) and records `found`: whether
    the region held an item to delete. A delete that found none wrote nothing (no version,
    no stream record: nothing is replicated, emulator/README.md), so under last-writer-wins
    it is no evidence of a newer version; the batch and transactional paths cannot tell,
    and record nothing."""
    path = op.path or "DeleteItem"
    if path == "DeleteItem":
        resp = c.delete_item(TableName=table, Key=_key(op), ReturnValues="ALL_OLD")
        return None, {"found": "Attributes" in resp}
    elif path == "BatchWriteItem":
        resp = c.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": _key(op)}}]})
        if resp.get("UnprocessedItems"):
            raise Unprocessed("BatchWriteItem left the delete unprocessed")
    elif path == "TransactWriteItems":
        c.transact_write_items(TransactItems=[{"Delete": {"TableName": table,
                                                          "Key": _key(op)}}])
    else:
        raise ValueError(f"unknown delete path {path!r}")
    return None


def register_cas(c: Any, table: str, op: OpView) -> Any:
    old, new = op.value
    c.put_item(TableName=table, Item={**_key(op), REGISTER_ATTR: num(new)},
               ConditionExpression="#v = :old",
               ExpressionAttributeNames={"#v": REGISTER_ATTR},
               ExpressionAttributeValues={":old": num(old)})
    return [old, new]


# --- counter: add / read ------------------------------------------------------------

def counter_add(c: Any, table: str, op: OpView) -> Any:
    resp = c.update_item(TableName=table, Key=_key(op), UpdateExpression="ADD #n :d",
                         ExpressionAttributeNames={"#n": COUNTER_ATTR},
                         ExpressionAttributeValues={":d": num(op.value)},
                         ReturnValues="UPDATED_NEW")
    # The value after the increment, as this region saw it: the demos show it.
    return op.value, {"after": parse_num(resp.get("Attributes", {}).get(COUNTER_ATTR))}


def counter_read(c: Any, table: str, op: OpView) -> Any:
    resp = c.get_item(TableName=table, Key=_key(op), ConsistentRead=bool(op.consistent))
    v = parse_num(resp.get("Item", {}).get(COUNTER_ATTR))
    return 0 if v is None else v


# --- set: add / read ----------------------------------------------------------------

def set_add(c: Any, table: str, op: OpView) -> Any:
    c.update_item(TableName=table, Key=_key(op), UpdateExpression="ADD #s :e",
                  ExpressionAttributeNames={"#s": SET_ATTR},
                  ExpressionAttributeValues={":e": {"NS": [str(int(op.value))]}})
    return op.value


def set_read(c: Any, table: str, op: OpView) -> Any:
    resp = c.get_item(TableName=table, Key=_key(op), ConsistentRead=bool(op.consistent))
    return parse_num_set(resp.get("Item", {}).get(SET_ATTR))


OPS: Mapping[str, Mapping[str, OpCall]] = {
    "register": {"read": register_read, "write": register_write, "cas": register_cas},
    "counter": {"add": counter_add, "read": counter_read},
    "set": {"add": set_add, "read": set_read},
}


def _target_of(test: Any) -> Any:
    """The target the runner set up, whether `test` is a mapping or an object."""
    if isinstance(test, Mapping):
        return test["target"]
    return getattr(test, "target")


class RegionClient:
    """A workload client: one region, one boto3 client, one request per operation.

    `with_target(target)` makes the prototype the runner opens clients from: it creates
    one boto3 client per region up front, shared by every client opened in that region
    (boto3's low-level clients are thread-safe; the pool holds `pool_size` connections).
    So opening a client -- which the runner does inside a worker's first operation, and
    again after every crash -- costs nothing, and no operation's latency includes
    building a boto3 client (tens to hundreds of ms on a loaded machine). A connection
    that timed out is discarded by the pool, so a crashed process's successor does not
    inherit it. Without a prototype's shared clients, `open` makes a private one.
    """

    def __init__(self, table: str, ops: Mapping[str, OpCall], *,
                 connect_timeout_s: float = 1.0, read_timeout_s: float = 5.0,
                 region: str | None = None, boto_client: Any = None, target: Any = None,
                 shared: Mapping[str, Any] | None = None, pool_size: int = 10,
                 definite_unavailable: bool = False):
        self.table = table
        self.target = target
        self.ops = ops
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.region = region
        self.boto_client = boto_client
        self.shared = dict(shared or {})
        self.pool_size = pool_size
        # The target documents 503 as "nothing was proposed" (the gtcheck emulator).
        self.definite_unavailable = definite_unavailable

    def _config(self):
        return one_attempt_config(connect_timeout_s=self.connect_timeout_s,
                                  read_timeout_s=self.read_timeout_s,
                                  max_pool_connections=self.pool_size)

    def _copy(self, **changes: Any) -> "RegionClient":
        kw = dict(connect_timeout_s=self.connect_timeout_s, read_timeout_s=self.read_timeout_s,
                  region=self.region, boto_client=self.boto_client, target=self.target,
                  shared=self.shared, pool_size=self.pool_size,
                  definite_unavailable=self.definite_unavailable)
        return type(self)(self.table, self.ops, **{**kw, **changes})

    def with_target(self, target: Any) -> "RegionClient":
        """The prototype for a run on `target`, with one shared boto3 client per region."""
        proto = self._copy(target=target, region=None, boto_client=None,
                           definite_unavailable=bool(getattr(target, "definite_unavailable",
                                                             False)))
        proto.shared = {r: target.client(r, config=proto._config()) for r in target.regions}
        return proto

    def open(self, test: Any, region: str) -> "RegionClient":
        """A copy bound to `region`: its shared boto3 client, or a private one from the
        target (the one given at construction, else the test's)."""
        if region in self.shared:
            return self._copy(region=region, boto_client=self.shared[region])
        target = self.target if self.target is not None else _target_of(test)
        return self._copy(region=region, target=target, shared={},
                          boto_client=target.client(region, config=self._config()))

    def setup(self, test: Any) -> None:
        """The target creates the table before any client opens; nothing to do per client."""

    def teardown(self, test: Any) -> None:
        """The target deletes the table after the run; nothing to do per client."""

    def close(self, test: Any) -> None:
        """Close a private boto3 client; shared ones live as long as the prototype."""
        if self.boto_client is not None and self.region not in self.shared:
            self.boto_client.close()

    def invoke(self, test: Any, op: Any) -> Any:
        """One request; the completion has the invocation's shape (an Op or a dict)."""
        view = OpView(op)
        changes = self._complete(view)
        if isinstance(op, Op):
            extra = {**op.extra, **changes.pop("extra", {})}
            return op.replace(**changes, extra=extra)
        done = {**op, **changes.pop("extra", {}), **changes}
        return done

    def _complete(self, op: OpView) -> dict:
        region = self.region
        call = self.ops.get(op.f)
        if call is None:
            return {"type": "fail", "region": region, "error": f"unsupported-f:{op.f}"}
        try:
            result = call(self.boto_client, self.table, op)
        except Exception as e:  # noqa: BLE001 -- every outcome is classified, none swallowed
            outcome = classify(e, definite_unavailable=self.definite_unavailable)
            out = {"type": outcome.type, "region": region, "error": outcome.error}
            if outcome.message and outcome.type == "info":  # the diagnosis of an unknown outcome
                out["extra"] = {"message": outcome.message[:200]}
            return out
        out: dict = {"type": "ok", "region": region}
        if isinstance(result, tuple):
            result, more = result
            out["extra"] = dict(more)
        out["value"] = result
        return out
