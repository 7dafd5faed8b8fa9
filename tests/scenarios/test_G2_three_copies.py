"""G2: three copies in a region; SC reads go to the leader, EC reads may be stale in-region.

With the last follower copy lagging 400 ms, eventually consistent reads right after a write
return the old value, inside the very region that took the write, while strongly consistent
reads never do; the EC reads catch up afterwards and never go back (A05).
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2"]


def test_ec_reads_may_be_stale_in_region_sc_reads_are_not():
    with Deployment(REGIONS, latency_scale=0.0, seed=2, copy_lag_ms=400) as d:
        cs = create_global_table(d, "g02")
        c = cs["us-east-1"]
        c.put_item(TableName="g02", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        wait_until(lambda: value(get(c, "g02", "k", consistent=False)) == 1, what="first value")
        c.put_item(TableName="g02", Item={"pk": {"S": "k"}, "v": {"N": "2"}})
        assert value(get(c, "g02", "k", consistent=True)) == 2
        assert value(get(c, "g02", "k", consistent=False)) == 1  # stale, in the writing region
        seen = [value(get(c, "g02", "k", consistent=False))]
        wait_until(lambda: seen.append(value(get(c, "g02", "k", consistent=False))) or seen[-1] == 2,
                   what="EC reads catching up")
        assert seen == sorted(seen)  # never back in time
        assert value(get(c, "g02", "k", consistent=True)) == 2
