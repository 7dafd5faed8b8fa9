"""A13: replication can be paused (FIS global-table-pause-replication) and catches up on resume.

Paused: writes in every region stay local (the replicators hold them in their backlogs),
while each region keeps serving its own reads and writes. Resumed: every region catches up
and they converge.
"""


from emulator import Deployment
from emulator.testing import create_global_table, get, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_pause_then_resume_catches_up():
    with Deployment(REGIONS, latency_scale=0.02, seed=13) as d:
        cs = create_global_table(d, "a13")
        d.pause_replication()
        for r in REGIONS:
            for i in range(3):
                cs[r].put_item(TableName="a13", Item={"pk": {"S": f"{r}-{i}"}, "v": {"N": str(i)}})
        for r in REGIONS:
            for other in REGIONS:
                assert (get(cs[r], "a13", f"{other}-0") is not None) == (r == other)
        reps = d.status()["tables"]["a13"]["engine"]["replicators"]
        assert all(x["backlog"] == 3 and not x["live"] for x in reps)
        assert d.status()["replication_paused"] == "all"
        d.resume_replication()
        for r in REGIONS:
            wait_until(lambda: all(get(cs[r], "a13", f"{o}-{i}") for o in REGIONS for i in range(3)),
                       what=f"catch-up in {r}")
        assert d.quiesce(10)


def test_pause_one_region_only():
    with Deployment(REGIONS, latency_scale=0.02, seed=14) as d:
        cs = create_global_table(d, "a13")
        d.pause_replication("us-west-2")
        cs["us-east-1"].put_item(TableName="a13", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        wait_until(lambda: get(cs["us-east-2"], "a13", "k"), what="unpaused path")
        assert get(cs["us-west-2"], "a13", "k") is None
        d.resume_replication("us-west-2")
        wait_until(lambda: get(cs["us-west-2"], "a13", "k"), what="resumed path")
