"""A06: conflicts resolve by last writer wins on (timestamp, origin region).

Concurrent conflicting writes in three regions (replication paused so none sees another)
converge, after replication resumes, on the write with the highest timestamp in every
region. Each region stamps with its own clock: with us-west-2's clock skewed 10 s behind,
its write, although made last in real time, loses.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
KEY = {"pk": {"S": "k"}}


def _conflict(d, cs):
    d.pause_replication()
    for i, r in enumerate(REGIONS):
        cs[r].put_item(TableName="a06", Item={"pk": {"S": "k"}, "v": {"S": r}})
    before = d.versions("a06", KEY)
    # Each region holds its own write, stamped by its own clock.
    for r in REGIONS:
        assert before[r]["origin"] == r
        assert value(get(cs[r], "a06", "k")) == r
    winner = max(REGIONS, key=lambda r: (before[r]["timestamp"], before[r]["origin"]))
    d.resume_replication()
    wait_until(lambda: all(value(get(cs[r], "a06", "k")) == winner for r in REGIONS),
               what="convergence on the LWW winner")
    after = d.versions("a06", KEY)
    for r in REGIONS:
        assert (after[r]["timestamp"], after[r]["origin"]) == \
            (before[winner]["timestamp"], winner)
    return winner


def test_concurrent_writes_converge_on_highest_timestamp():
    with Deployment(REGIONS, latency_scale=0.02, seed=6) as d:
        cs = create_global_table(d, "a06")
        # Written in region order, so with synchronised clocks the last (us-west-2) wins.
        assert _conflict(d, cs) == "us-west-2"


def test_skewed_clock_loses_although_written_last():
    with Deployment(REGIONS, latency_scale=0.02, seed=7) as d:
        cs = create_global_table(d, "a06")
        d.skew_clock("us-west-2", -10_000)
        assert _conflict(d, cs) == "us-east-2"
