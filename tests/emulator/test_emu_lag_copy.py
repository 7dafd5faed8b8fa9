"""The `lag-copy` fault, through boto3: one region's lagging in-region copy trails its
leader by the fault's extra milliseconds (G2), so EC reads there stay stale while SC
reads see the write at once; EC reads never go back, also when the lag changes; `heal`
lifts it. The other regions' copies are untouched."""

from __future__ import annotations

import time

import pytest

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until
from suite.errors import BadInput

US = ["us-east-1", "us-east-2", "us-west-2"]
LAG_MS = 3000   # long enough to be seen on a loaded machine, short enough to wait out


def put(c, k, v):
    c.put_item(TableName="gtcheck", Item={"pk": {"S": k}, "v": {"N": str(v)}})


def ec(c, k):
    return value(get(c, "gtcheck", k, consistent=False))


def test_lagging_copy_keeps_ec_reads_stale_and_monotonic_until_it_catches_up():
    with Deployment(US, latency_scale=0.0, seed=1, copy_lag_ms=0) as d:
        cs = create_global_table(d)
        put(cs["us-east-1"], "k", 1)
        wait_until(lambda: ec(cs["us-east-1"], "k") == 1, what="EC read of 1")
        status = d.fault("lag-copy", "us-east-1", LAG_MS)
        assert status["copy_lag_ms"] == {"us-east-1": LAG_MS}
        t0 = time.monotonic()
        put(cs["us-east-1"], "k", 2)
        # SC reads are the leader's: at once; EC reads the lagging copy's: still 1
        assert value(get(cs["us-east-1"], "gtcheck", "k")) == 2
        seen = [ec(cs["us-east-1"], "k") for _ in range(5)]
        assert time.monotonic() - t0 < LAG_MS / 1000   # the reads were inside the lag
        assert seen == [1] * 5
        # another region's copies do not lag: its EC read gets 2 once replicated
        wait_until(lambda: ec(cs["us-west-2"], "k") == 2, what="EC read of 2 elsewhere")
        # the lag changes (healed) while 2 is still on its way: a newer write lands at
        # once and the older catch-up never takes the copy back
        d.heal()
        assert d.status()["copy_lag_ms"] == {}
        put(cs["us-east-1"], "k", 3)
        assert ec(cs["us-east-1"], "k") == 3
        reads = []
        while time.monotonic() - t0 < LAG_MS / 1000 + 0.5:
            reads.append(ec(cs["us-east-1"], "k"))
            time.sleep(0.05)
        assert set(reads) == {3}
        # without a region: every replica region; unlag-copy ends it in one region
        # (every region without one)
        assert d.fault("lag-copy", 100)["copy_lag_ms"] == {r: 100 for r in US}
        assert d.fault("unlag-copy", "us-east-1")["copy_lag_ms"] == {
            "us-east-2": 100, "us-west-2": 100}
        assert d.fault("unlag-copy")["copy_lag_ms"] == {}
        with pytest.raises(BadInput):
            d.fault("lag-copy", "us-east-1", -1)
        with pytest.raises(BadInput):
            d.fault("lag-copy", "us-east-1")
