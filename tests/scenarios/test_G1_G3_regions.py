"""G1 and G3: every replica region accepts reads and writes; regions are far apart and unequal.

G1: each of three regions takes a write and serves reads of everyone's writes.
G3: with the WAN at 2x real latency, a write from us-east-1 is applied in nearby us-east-2
sooner than in far us-west-2 (measured from the DynamoDB stream records' apply times in each
region), and the gap is about the latency matrix's difference.
"""

import statistics

from emulator import Deployment
from emulator.testing import create_global_table, get, stream_records, wait_until
from emulator.wan import default_one_way_ms

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_G1_active_active():
    with Deployment(REGIONS, latency_scale=0.02, seed=1) as d:
        cs = create_global_table(d, "g01")
        for r in REGIONS:
            cs[r].put_item(TableName="g01", Item={"pk": {"S": r}})
        for r in REGIONS:
            wait_until(lambda: all(get(cs[r], "g01", w) for w in REGIONS), what=f"reads in {r}")


def test_G3_nearby_region_sees_writes_sooner():
    scale = 2.0
    with Deployment(REGIONS, latency_scale=scale, seed=3) as d:
        cs = create_global_table(d, "g03")
        n = 5
        for i in range(n):
            cs["us-east-1"].put_item(TableName="g03", Item={"pk": {"S": f"k{i}"}})
        for r in REGIONS:
            wait_until(lambda: len(stream_records(d, r, "g03")) == n, what=f"all writes in {r}")
        applied = {r: {x["dynamodb"]["Keys"]["pk"]["S"]: x["dynamodb"]["ApproximateCreationDateTime"]
                       for x in stream_records(d, r, "g03")} for r in REGIONS}
        lag = {r: statistics.median((applied[r][k] - applied["us-east-1"][k]).total_seconds() * 1000
                                    for k in applied[r]) for r in ("us-east-2", "us-west-2")}
        expected_gap_ms = (default_one_way_ms("us-east-1", "us-west-2")
                           - default_one_way_ms("us-east-1", "us-east-2")) * scale
        assert lag["us-east-2"] < lag["us-west-2"]
        assert lag["us-west-2"] - lag["us-east-2"] > expected_gap_ms / 2
