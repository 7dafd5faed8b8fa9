"""A12: TTL deletes are supported on async global tables, and they reach every replica.

TTL on attribute `expires`: an item whose `expires` is in the past disappears from every
region; one whose `expires` is in the future stays; a non-number `expires` never expires.
"""

import time

from emulator import Deployment
from emulator.testing import create_global_table, get, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_expired_items_are_deleted_everywhere():
    with Deployment(REGIONS, latency_scale=0.02, seed=12) as d:
        cs = create_global_table(d, "a12")
        east1 = cs["us-east-1"]
        east1.update_time_to_live(TableName="a12", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        assert east1.describe_time_to_live(TableName="a12")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
        now = int(time.time())
        east1.put_item(TableName="a12", Item={"pk": {"S": "old"}, "expires": {"N": str(now + 1)}})
        east1.put_item(TableName="a12", Item={"pk": {"S": "new"}, "expires": {"N": str(now + 3600)}})
        east1.put_item(TableName="a12", Item={"pk": {"S": "text"}, "expires": {"S": "0"}})
        wait_until(lambda: all(get(c, "a12", "new") for c in cs.values()), what="replication")
        for r, c in cs.items():
            wait_until(lambda: get(c, "a12", "old") is None, timeout_s=10, what=f"TTL delete in {r}")
        for c in cs.values():
            assert get(c, "a12", "new") is not None and get(c, "a12", "text") is not None
