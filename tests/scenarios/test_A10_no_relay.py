"""A10: one broken link A-B, no relay.

With the us-east-1/us-east-2 link cut: us-east-1's write reaches us-west-2 but not us-east-2;
us-east-2's reaches us-west-2 but not us-east-1; us-west-2's reaches both. After the heal,
everything is everywhere.
"""

from emulator import Deployment
from emulator.testing import create_global_table, get, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def _backlog(d, src, dst):
    reps = d.status()["tables"]["a10"]["engine"]["replicators"]
    return next(r for r in reps if r["src"] == src and r["dst"] == dst)


def test_cut_link_is_not_relayed():
    with Deployment(REGIONS, latency_scale=0.02, seed=10) as d:
        cs = create_global_table(d, "a10")
        d.cut("us-east-1", "us-east-2")
        for r in REGIONS:
            cs[r].put_item(TableName="a10", Item={"pk": {"S": f"from-{r}"}, "v": {"S": r}})
        wait_until(lambda: get(cs["us-west-2"], "a10", "from-us-east-1")
                   and get(cs["us-west-2"], "a10", "from-us-east-2")
                   and get(cs["us-east-1"], "a10", "from-us-west-2")
                   and get(cs["us-east-2"], "a10", "from-us-west-2"),
                   what="replication over the live links")
        assert d.quiesce(10) is True  # every live path drained; the cut ones still hold theirs
        # Not relayed through us-west-2, although it holds both writes.
        assert get(cs["us-east-2"], "a10", "from-us-east-1") is None
        assert get(cs["us-east-1"], "a10", "from-us-east-2") is None
        assert _backlog(d, "us-east-1", "us-east-2")["backlog"] == 1
        assert _backlog(d, "us-east-2", "us-east-1")["backlog"] == 1
        assert not _backlog(d, "us-east-1", "us-east-2")["live"]
        d.heal()
        for r in REGIONS:
            for src in REGIONS:
                wait_until(lambda: get(cs[r], "a10", f"from-{src}"), what=f"{src} -> {r} after heal")
