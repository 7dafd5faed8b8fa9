"""A08: a region going offline does not affect replication among the others; on return it
catches up and converges.

us-west-2 acknowledges a write and is stopped before that write could leave (its outgoing
links are slowed). While it is down its endpoint refuses connections, and writes in us-east-1
and us-east-2 still replicate between them. When it starts again, nothing it acknowledged is
lost: its write reaches the others, theirs reach it, and all converge.
"""

import pytest
from botocore.exceptions import EndpointConnectionError

from emulator import Deployment
from emulator.testing import create_global_table, delay_links_from, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_outage_isolated_from_other_paths_and_caught_up_on_return():
    with Deployment(REGIONS, latency_scale=0.02, seed=8) as d:
        cs = create_global_table(d, "a08")
        delay_links_from(d, "us-west-2", 2000)
        cs["us-west-2"].put_item(TableName="a08", Item={"pk": {"S": "w"}, "v": {"S": "from-west"}})
        d.stop_region("us-west-2")
        with pytest.raises(EndpointConnectionError):
            cs["us-west-2"].get_item(TableName="a08", Key={"pk": {"S": "w"}})
        delay_links_from(d, "us-west-2", 0)
        # The others keep replicating between themselves.
        cs["us-east-1"].put_item(TableName="a08", Item={"pk": {"S": "e1"}, "v": {"S": "x"}})
        cs["us-east-2"].put_item(TableName="a08", Item={"pk": {"S": "e2"}, "v": {"S": "y"}})
        wait_until(lambda: get(cs["us-east-2"], "a08", "e1") and get(cs["us-east-1"], "a08", "e2"),
                   what="replication between the live regions")
        assert get(cs["us-east-1"], "a08", "w") is None  # the stopped region's write is held
        d.start_region("us-west-2")
        for r in REGIONS:
            wait_until(lambda: value(get(cs[r], "a08", "w")) == "from-west"
                       and get(cs[r], "a08", "e1") and get(cs[r], "a08", "e2"),
                       what=f"convergence in {r}")
