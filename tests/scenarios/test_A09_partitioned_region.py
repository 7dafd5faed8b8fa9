"""A09: a region cut off by a partition stays available on its local data; all converge after.

us-east-2 isolated: it still answers reads and writes (its own writes are read back), the
other regions do not see them and it does not see theirs; after the heal every region holds
every write, and a key written on both sides converges by last writer wins.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_isolated_region_available_then_converges():
    with Deployment(REGIONS, latency_scale=0.02, seed=9) as d:
        cs = create_global_table(d, "a09")
        d.isolate("us-east-2")
        cs["us-east-2"].put_item(TableName="a09", Item={"pk": {"S": "inside"}, "v": {"N": "1"}})
        cs["us-east-2"].put_item(TableName="a09", Item={"pk": {"S": "both"}, "v": {"S": "east2"}})
        cs["us-east-1"].put_item(TableName="a09", Item={"pk": {"S": "outside"}, "v": {"N": "2"}})
        cs["us-east-1"].put_item(TableName="a09", Item={"pk": {"S": "both"}, "v": {"S": "east1"}})
        assert value(get(cs["us-east-2"], "a09", "inside")) == 1
        assert value(get(cs["us-east-2"], "a09", "inside", consistent=False)) in (1, None)
        wait_until(lambda: get(cs["us-west-2"], "a09", "outside"), what="outside replication")
        assert get(cs["us-east-2"], "a09", "outside") is None
        assert get(cs["us-west-2"], "a09", "inside") is None
        assert value(get(cs["us-east-2"], "a09", "both")) == "east2"
        d.heal()
        for r in REGIONS:
            wait_until(lambda: get(cs[r], "a09", "inside") and get(cs[r], "a09", "outside")
                       and value(get(cs[r], "a09", "both")) == "east1",
                       what=f"convergence in {r}")
