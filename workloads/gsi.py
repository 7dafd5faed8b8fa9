"""Reads through a global secondary index for the register workload (`--gsi-reads`).

On a global table a GSI is maintained in each region from that region's replica and its
reads are eventually consistent in both replication modes (emulator/indexes.py,
checkers/gsi_reads.py). To see what that means for an application, the register workload
can send part of its EC reads through a GSI: `GSI_NAME`, keyed on the table's own
partition key (`pk`) and projecting every attribute, so a Query on it names one item as a
table read does. The index is added after the target made the table (UpdateTable
`GlobalSecondaryIndexUpdates` Create, from the first region; AWS adds it to every
replica), and every region's client waits in `setup` until its own DescribeTable shows the
index ACTIVE, so no read meets an index still backfilling. The reads are recorded as EC
reads with `path` "GSI"; the register workload's checkers judge the table's promises
without them and `gsi-reads` judges them beside (checkers/gsi_reads.py).
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from checkers.gsi_reads import GSI_PATH
from workloads.client import KEY, RegionClient

GSI_NAME = "gtcheck-by-pk"
ACTIVE_TIMEOUT_S = 900.0  # AWS backfills an empty table's new GSI in minutes
POLL_S = (0.05, 0.2, 1.0, 5.0)


def read_through_gsi(c: Any, table: str, key: str) -> dict | None:
    """The item `key` as the region's GSI holds it (a Query on the index, EC)."""
    resp = c.query(TableName=table, IndexName=GSI_NAME, KeyConditionExpression="#k = :k",
                   ExpressionAttributeNames={"#k": KEY},
                   ExpressionAttributeValues={":k": {"S": key}})
    items = resp.get("Items", [])
    return items[0] if items else None


def index_status(c: Any, table: str) -> str | None:
    """The GSI's IndexStatus in the region `c` talks to (None: not listed)."""
    desc = c.describe_table(TableName=table)["Table"]
    for g in desc.get("GlobalSecondaryIndexes") or []:
        if g.get("IndexName") == GSI_NAME:
            return g.get("IndexStatus")
    return None


def create_index(c: Any, table: str) -> None:
    c.update_table(TableName=table,
                   AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                   GlobalSecondaryIndexUpdates=[{"Create": {
                       "IndexName": GSI_NAME,
                       "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
                       "Projection": {"ProjectionType": "ALL"}}}])


def wait_active(c: Any, table: str, *, timeout_s: float = ACTIVE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    polls = iter(POLL_S)
    wait = next(polls)
    while True:
        status = index_status(c, table)
        if status == "ACTIVE":
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"GSI {GSI_NAME} of {table} is {status or 'not listed'} after "
                               f"{timeout_s:.0f} s")
        time.sleep(wait)
        wait = next(polls, wait)


def _regions(test: Any) -> tuple[str, ...]:
    if isinstance(test, Mapping):
        return tuple(test.get("regions") or ())
    return tuple(getattr(test, "regions", ()) or ())


class GsiRegisterClient(RegionClient):
    """The register workload's client when it reads through a GSI: its `setup` (called
    once per region after the table exists, in the test's region order) creates the
    index from the first region, and waits until its own region lists it ACTIVE."""

    def setup(self, test: Any) -> None:
        regions = _regions(test)
        if regions and self.region == regions[0] and index_status(self.boto_client,
                                                                  self.table) is None:
            create_index(self.boto_client, self.table)
        wait_active(self.boto_client, self.table)


__all__ = ["GSI_NAME", "GSI_PATH", "GsiRegisterClient", "read_through_gsi"]
