"""A14 and A15: anomalies async replication is expected to show (reported, never failures).

A14, multi-writer counter: three regions each increment one counter 5 times at once (links
slow enough that no increment replicates before all are done): every region ends on the
same value, far below 15 -- increments are lost by last writer wins.
A15, single writer: while replication is paused the writer counts 1..5; a remote SC read sees
0, and after the resume 5, skipping every intermediate value.
"""

import threading

from emulator import Deployment
from emulator.testing import create_global_table, get, value, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def _add(c):
    c.update_item(TableName="a14a15", Key={"pk": {"S": "counter"}}, UpdateExpression="ADD v :one",
                  ExpressionAttributeValues={":one": {"N": "1"}})


def test_A14_multi_writer_counter_loses_increments():
    with Deployment(REGIONS, latency_scale=0.0, seed=14) as d:
        cs = create_global_table(d, "a14a15")
        for a in REGIONS:
            for b in REGIONS:
                if a < b:
                    d.delay(a, b, 1500)
        threads = [threading.Thread(target=lambda c=c: [_add(c) for _ in range(5)]) for c in cs.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        d.heal()
        wait_until(lambda: len({value(get(c, "a14a15", "counter")) for c in cs.values()}) == 1,
                   what="convergence")
        final = value(get(cs["us-east-1"], "a14a15", "counter"))
        # Typically 5: each region counted its own 5 and LWW kept one region's count.
        assert 5 <= final <= 10


def test_A15_single_writer_remote_reads_skip_values():
    with Deployment(REGIONS, latency_scale=0.02, seed=15) as d:
        cs = create_global_table(d, "a14a15")
        cs["us-east-1"].put_item(TableName="a14a15", Item={"pk": {"S": "counter"}, "v": {"N": "0"}})
        wait_until(lambda: value(get(cs["us-west-2"], "a14a15", "counter")) == 0, what="initial value")
        d.pause_replication()
        seen = []
        for _ in range(5):
            _add(cs["us-east-1"])
            seen.append(value(get(cs["us-west-2"], "a14a15", "counter")))
        d.resume_replication()
        wait_until(lambda: value(get(cs["us-west-2"], "a14a15", "counter")) == 5, what="catch-up")
        seen.append(5)
        assert seen == [0, 0, 0, 0, 0, 5]
