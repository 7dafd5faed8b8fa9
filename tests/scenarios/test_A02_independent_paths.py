"""A02: one unidirectional replicator per ordered region pair, each its own failure domain.

The path us-east-1 -> us-east-2 is stuck (one-way cut); us-east-1 -> us-west-2 and the
reverse path us-east-2 -> us-east-1 keep delivering, and the admin status shows one
replicator per ordered pair, only the stuck one holding a backlog.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_stuck_path_does_not_stop_the_others():
    with Deployment(REGIONS, latency_scale=0.02, seed=2) as d:
        cs = create_global_table(d, "a02")
        d.cut_oneway("us-east-1", "us-east-2")
        cs["us-east-1"].put_item(TableName="a02", Item={"pk": {"S": "e1"}})
        cs["us-east-2"].put_item(TableName="a02", Item={"pk": {"S": "e2"}})
        wait_until(lambda: get(cs["us-west-2"], "a02", "e1") and get(cs["us-east-1"], "a02", "e2"),
                   what="the live paths")
        assert get(cs["us-east-2"], "a02", "e1") is None
        reps = {(r["src"], r["dst"]): r for r in d.status()["tables"]["a02"]["engine"]["replicators"]}
        assert set(reps) == {(a, b) for a in REGIONS for b in REGIONS if a != b}
        assert d.quiesce(10)
        assert {p for p, r in reps.items() if not r["live"]} == {("us-east-1", "us-east-2")}
        backlog = {(x["src"], x["dst"]): x["backlog"]
                   for x in d.status()["tables"]["a02"]["engine"]["replicators"]}
        assert backlog[("us-east-1", "us-east-2")] == 1
        assert sum(backlog.values()) == 1
        d.heal()
        wait_until(lambda: get(cs["us-east-2"], "a02", "e1"), what="the healed path")
