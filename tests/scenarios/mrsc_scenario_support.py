"""Shared set-up of the MRSC scenario tests (tests/scenarios/test_M*.py).

An embedded emulator `Deployment` in strong mode, boto3 clients exactly as a user makes
them, and the MRSC table set-up the AWS docs describe: CreateTable in one region, then one
UpdateTable with ReplicaUpdates Create, GlobalTableWitnessUpdates Create (when there is a
witness) and MultiRegionConsistency STRONG.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import Iterator

from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import testing
from emulator.deployment import Deployment

US = ("us-east-1", "us-east-2", "us-west-2")


@contextlib.contextmanager
def strong_deployment(*, witness: bool = False, scale: float = 0.0,
                      regions: tuple[str, ...] | None = None,
                      **kw) -> Iterator[Deployment]:
    regions = regions or (US[:2] if witness else US)
    d = Deployment(list(regions), mode="strong", witness="us-west-2" if witness else None,
                   latency_scale=scale, **kw)
    with d:
        yield d


@contextlib.contextmanager
def strong_table(**kw) -> Iterator[Deployment]:
    """A `strong_deployment(**kw)` with the MRSC table "mrsc" created and ACTIVE: the set-up
    most MRSC scenarios open with."""
    with strong_deployment(**kw) as d:
        create_strong_table(d)
        yield d


def client(d: Deployment, region: str, *, attempts: int = 1, mode: str = "standard",
           read_timeout: float = 10.0):
    """A boto3 DynamoDB client for one region; SDK retries off unless `attempts` > 1."""
    return testing.client(d.endpoints[region], region, config=Config(
        retries={"total_max_attempts": attempts, "mode": mode}, connect_timeout=2,
        read_timeout=read_timeout))


def create_strong_table(d: Deployment, name: str = "mrsc") -> dict:
    """CreateTable in the first region (streams on), then one UpdateTable to MRSC with
    every other region and the witness (emulator.testing.create_global_table)."""
    testing.create_global_table(d, name, mode="STRONG", witness=d.witness)
    return wait_active(d, name, d.regions[0])


def wait_active(d: Deployment, name: str, region: str, timeout_s: float = 10.0) -> dict:
    ddb = client(d, region)
    deadline = time.monotonic() + timeout_s
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE" and all(
                r["ReplicaStatus"] == "ACTIVE" for r in table.get("Replicas", [])):
            return table
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} not ACTIVE: {table}")
        time.sleep(0.02)


def key(k: str) -> dict:
    return {"pk": {"S": k}}


def put(ddb, k: str, n: int, table: str = "mrsc") -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": k}, "n": {"N": str(n)}})


def read_n(ddb, k: str, *, consistent: bool, table: str = "mrsc") -> int | None:
    item = ddb.get_item(TableName=table, Key=key(k), ConsistentRead=consistent).get("Item")
    return None if item is None else int(item["n"]["N"])


def increment(ddb, k: str, table: str = "mrsc") -> None:
    ddb.update_item(TableName=table, Key=key(k), UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})


def error_code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def retry_until(fn, *, timeout_s: float = 10.0, codes=("ServiceUnavailable",
                                                       "InternalServerError")):
    """Call `fn` until it stops failing with one of `codes` (a region catching up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return fn()
        except ClientError as e:
            if error_code(e) not in codes or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)
