"""A01: a write is durable and acknowledged in its own region first; replication follows.

Through boto3 over HTTP: with the links out of us-east-1 slowed by a delay fault, a write
acknowledged by us-east-1 is seen at once by an SC read in us-east-1 (read-your-writes
in-region), is not yet in us-east-2, and arrives there afterwards.
"""

from emulator import Deployment
from emulator.testing import create_global_table, delay_links_from, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_write_acknowledged_locally_then_replicated():
    with Deployment(REGIONS, latency_scale=0.02, seed=1) as d:
        cs = create_global_table(d, "a01")
        delay_links_from(d, "us-east-1", 400)
        cs["us-east-1"].put_item(TableName="a01", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        # Acknowledged: an SC read in the writing region sees it at once.
        assert value(get(cs["us-east-1"], "a01", "k")) == 1
        # Replication has not happened yet (400 ms of added one-way delay).
        assert get(cs["us-east-2"], "a01", "k") is None
        versions = d.versions("a01", {"pk": {"S": "k"}})
        assert versions["us-east-1"]["origin"] == "us-east-1"
        assert versions["us-east-2"] is None
        # ... and it arrives afterwards, with the same LWW stamp.
        wait_until(lambda: get(cs["us-east-2"], "a01", "k"), timeout_s=10, what="replication")
        after = d.versions("a01", {"pk": {"S": "k"}})
        assert after["us-east-2"]["timestamp"] == versions["us-east-1"]["timestamp"]
        assert after["us-east-2"]["origin"] == "us-east-1"
