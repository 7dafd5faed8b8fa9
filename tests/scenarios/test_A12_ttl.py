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


def test_a_ttl_delete_is_made_in_the_writing_region_and_replicated():
    # issue 21: the sweeper of the region that wrote the item deletes it, after its
    # delay, through the engine (a stamped delete in the change stream); every other
    # region gets the replicated delete: the tombstone's origin is the writer everywhere
    with Deployment(REGIONS, latency_scale=0.05, seed=3) as d:
        cs = create_global_table(d, "a12r")
        cs["us-east-2"].update_time_to_live(TableName="a12r", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        past = str(int(time.time()) - 3600)
        cs["us-east-2"].put_item(TableName="a12r", Item={"pk": {"S": "x"},
                                                         "expires": {"N": past}})
        for r, c in cs.items():
            wait_until(lambda: get(c, "a12r", "x") is None, timeout_s=10,
                       what=f"TTL delete in {r}")
        versions = d.versions("a12r", {"pk": {"S": "x"}})
        assert {r: (v["deleted"], v["origin"]) for r, v in versions.items()} == {
            r: (True, "us-east-2") for r in REGIONS}


def test_ttl_delete_not_replicated_leaves_the_item_elsewhere():
    with Deployment(REGIONS, latency_scale=0.05, seed=3,
                    bugs=["ttl-delete-not-replicated"]) as d:
        cs = create_global_table(d, "a12b")
        cs["us-east-1"].update_time_to_live(TableName="a12b", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        past = str(int(time.time()) - 3600)
        cs["us-east-1"].put_item(TableName="a12b", Item={"pk": {"S": "x"},
                                                         "expires": {"N": past}})
        wait_until(lambda: get(cs["us-east-1"], "a12b", "x") is None, timeout_s=10,
                   what="TTL delete in us-east-1")
        time.sleep(0.5)  # far beyond replication at this scale
        assert get(cs["us-east-2"], "a12b", "x") is not None
        assert get(cs["us-west-2"], "a12b", "x") is not None
