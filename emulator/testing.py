"""Helpers for tests and demos that drive an emulator `Deployment` through boto3.

Small on purpose: boto3 clients per region with retries off (so every attempt is one
visible request), a global table set up the way the suite's AWS code does it (CreateTable,
then UpdateTable ReplicaUpdates Create one region at a time), and `wait_until`, which polls
a condition with a deadline instead of sleeping a fixed time, so tests are deterministic
and fast.
"""

from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

import boto3
from botocore.config import Config

T = TypeVar("T")
NO_RETRIES = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)


def client(endpoint: str, region: str, service: str = "dynamodb", *, config: Config = NO_RETRIES):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="x", aws_secret_access_key="x", config=config)


def clients(deployment: Any, service: str = "dynamodb") -> dict[str, Any]:
    """One boto3 client per region of `deployment` (retries off)."""
    return {r: client(url, r, service) for r, url in deployment.endpoints.items()}


def create_global_table(deployment: Any, name: str = "gtcheck", *, range_key: str | None = None,
                        mode: str = "EVENTUAL", witness: str | None = None) -> dict[str, Any]:
    """Create `name` in the first region and replicate it to the others; returns clients.

    Hash key `pk` (S), optional range key (S). EVENTUAL: one UpdateTable per added replica;
    STRONG: one call with every replica, the witness and MultiRegionConsistency.
    """
    cs = clients(deployment)
    first, *others = deployment.regions
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
        defs.append({"AttributeName": range_key, "AttributeType": "S"})
    cs[first].create_table(TableName=name, KeySchema=keys, AttributeDefinitions=defs,
                           BillingMode="PAY_PER_REQUEST",
                           StreamSpecification={"StreamEnabled": True,
                                                "StreamViewType": "NEW_AND_OLD_IMAGES"})
    if mode == "STRONG":
        kwargs: dict[str, Any] = {"ReplicaUpdates": [{"Create": {"RegionName": r}} for r in others],
                                  "MultiRegionConsistency": "STRONG"}
        if witness:
            kwargs["GlobalTableWitnessUpdates"] = [{"Create": {"RegionName": witness}}]
        cs[first].update_table(TableName=name, **kwargs)
    else:
        for r in others:
            cs[first].update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": r}}])
    return cs


def delay_links_from(deployment: Any, region: str, ms: float) -> None:
    """Add `ms` of one-way delay on every link out of `region` to the deployment's other
    regions (0 lifts it): what the region acknowledges reaches the others late."""
    for other in deployment.regions:
        if other != region:
            deployment.delay(region, other, ms)


def wait_until(fn: Callable[[], T], *, timeout_s: float = 10.0, interval_s: float = 0.005,
               what: str = "condition") -> T:
    """Poll `fn` until it returns a truthy value; that value, or AssertionError at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def stream_records(deployment: Any, region: str, table: str) -> list[dict]:
    """Every record of `table`'s DynamoDB stream in `region`, oldest first, via boto3:
    every shard in lineage order (a full shard closes and its child goes on, as DynamoDB
    Streams' shards do), each read from TRIM_HORIZON until it ends (a closed shard: no
    NextShardIterator) or, for the open one, until more pages in a row come back empty
    than a run of empty pages before records can be long (emulator/streams.py)."""
    from emulator.streams import EMPTY_RUN_MAX
    s = client(deployment.endpoints[region], region, "dynamodbstreams")
    arn = s.list_streams(TableName=table)["Streams"][0]["StreamArn"]
    shards: list[str] = []
    page: dict = {"StreamArn": arn}
    while True:
        desc = s.describe_stream(**page)["StreamDescription"]
        shards += [sh["ShardId"] for sh in desc["Shards"]]
        if not desc.get("LastEvaluatedShardId"):
            break
        page = {"StreamArn": arn, "ExclusiveStartShardId": desc["LastEvaluatedShardId"]}
    out: list[dict] = []
    for shard in shards:
        it = s.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        empty = 0
        while it:
            resp = s.get_records(ShardIterator=it, Limit=1000)
            out.extend(resp["Records"])
            it = resp.get("NextShardIterator")
            empty = 0 if resp["Records"] else empty + 1
            if empty > EMPTY_RUN_MAX and it is not None:
                break  # the open shard, read to its end
    return out


def get(c: Any, table: str, pk: str, *, consistent: bool = True, **key: str) -> dict | None:
    """GetItem by string key; the item or None."""
    k = {"pk": {"S": pk}}
    k.update({n: {"S": v} for n, v in key.items()})
    return c.get_item(TableName=table, Key=k, ConsistentRead=consistent).get("Item")


def value(item: dict | None, attr: str = "v") -> Any:
    """The plain value of `attr` in a DynamoDB JSON item (N as int when integral)."""
    if item is None or attr not in item:
        return None
    (t, v), = item[attr].items()
    if t == "N":
        return int(v) if v.lstrip("-").isdigit() else v
    return v
