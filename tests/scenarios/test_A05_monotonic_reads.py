"""A05: reads of one item never go back in time, in any region, SC or EC.

One writer counts an item up in us-east-1 while us-east-2 and us-west-2 read it with strongly
and eventually consistent reads under replication jitter; each region's read sequence, per
consistency, never decreases, and every region ends on the last value.
"""

import threading

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
WRITES = 40


def test_reads_never_go_back():
    with Deployment(REGIONS, latency_scale=0.05, seed=5, replication_jitter_ms=20) as d:
        cs = create_global_table(d, "a05")
        done = threading.Event()

        def writer():
            for i in range(1, WRITES + 1):
                cs["us-east-1"].put_item(TableName="a05", Item={"pk": {"S": "k"}, "v": {"N": str(i)}})
            done.set()

        t = threading.Thread(target=writer)
        t.start()
        seen = {(r, c): [] for r in REGIONS[1:] for c in (True, False)}
        while not done.is_set():
            for (r, consistent), out in seen.items():
                out.append(value(get(cs[r], "a05", "k", consistent=consistent)) or 0)
        t.join()
        for r in REGIONS:
            wait_until(lambda: value(get(cs[r], "a05", "k", consistent=False)) == WRITES,
                       what=f"last value in {r}")
        for (r, consistent), out in seen.items():
            assert out == sorted(out), (r, consistent, out)
