"""A03: an SC read in another region may not reflect a write acknowledged elsewhere.

Replication paused (the FIS action's effect), a write acknowledged in us-east-1 is absent
from strongly consistent reads in us-east-2 and us-west-2 until replication resumes.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_remote_strongly_consistent_read_misses_acknowledged_write():
    with Deployment(REGIONS, latency_scale=0.02, seed=3) as d:
        cs = create_global_table(d, "a03")
        cs["us-east-1"].put_item(TableName="a03", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        wait_until(lambda: all(get(c, "a03", "k") for c in cs.values()), what="first value")
        d.pause_replication()
        cs["us-east-1"].put_item(TableName="a03", Item={"pk": {"S": "k"}, "v": {"N": "2"}})
        assert value(get(cs["us-east-1"], "a03", "k")) == 2
        for r in ("us-east-2", "us-west-2"):
            assert value(get(cs[r], "a03", "k", consistent=True)) == 1, r
        d.resume_replication()
        for r in ("us-east-2", "us-west-2"):
            wait_until(lambda: value(get(cs[r], "a03", "k")) == 2, what=f"catch-up in {r}")
