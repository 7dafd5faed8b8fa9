"""A07: streams show only writes that were applied; a dropped stale write leaves no record.

us-east-2 writes first (older stamp), us-east-1 writes after (newer stamp), with replication
paused. On resume us-east-1 drops the stale replicated write from us-east-2: its stream holds
one record for the item, while us-east-2's holds its own write and then us-east-1's. Regions
show different stream sequences for the same item and still converge.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, stream_records, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def _records(d, region):
    return [(r["eventName"], r["dynamodb"].get("NewImage", {}).get("v", {}).get("S"))
            for r in stream_records(d, region, "a07")]


def test_dropped_stale_write_has_no_stream_record():
    with Deployment(REGIONS, latency_scale=0.02, seed=7) as d:
        cs = create_global_table(d, "a07")
        d.pause_replication()
        cs["us-east-2"].put_item(TableName="a07", Item={"pk": {"S": "k"}, "v": {"S": "old"}})
        cs["us-east-1"].put_item(TableName="a07", Item={"pk": {"S": "k"}, "v": {"S": "new"}})
        d.resume_replication()
        wait_until(lambda: all(value(get(c, "a07", "k")) == "new" for c in cs.values()),
                   what="convergence on the newer write")
        assert d.quiesce(10)
        assert _records(d, "us-east-1") == [("INSERT", "new")]
        assert _records(d, "us-east-2") == [("INSERT", "old"), ("MODIFY", "new")]
        status = d.status()["tables"]["a07"]["engine"]["replicators"]
        into_east1 = [r for r in status if r["src"] == "us-east-2" and r["dst"] == "us-east-1"][0]
        assert into_east1["dropped_stale"] == 1
