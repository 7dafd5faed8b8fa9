"""M05: writes to different items from different regions are serialised by the journal;
every region applies them in the same order.

Each of ten rounds, all three regions write a different item at the same moment (a
barrier releases them). Whatever order the journal chose for each round, every region's
DynamoDB stream holds the same 30 records in the same order, and every item has the same
version (timestamp, origin) everywhere.
"""

from __future__ import annotations

import threading
import time

from emulator.testing import stream_records
from mrsc_scenario_support import US, client, key, put, strong_table

ROUNDS = 10


def _keys(d, region):
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(d, region, "mrsc")]


def test_concurrent_writes_to_different_items_apply_in_one_order_everywhere():
    with strong_table(scale=0.1) as d:
        clients = {r: client(d, r) for r in US}
        barrier = threading.Barrier(len(US))
        errors: list[BaseException] = []

        def writer(region):
            try:
                for i in range(ROUNDS):
                    barrier.wait(timeout=30)
                    put(clients[region], f"{region}-{i}", i)
            except BaseException as e:  # noqa: BLE001 -- re-raised in the test thread below
                errors.append(e)
                barrier.abort()

        threads = [threading.Thread(target=writer, args=(r,)) for r in US]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        want = ROUNDS * len(US)
        orders = {}
        for r in US:
            deadline = time.monotonic() + 10
            while len(_keys(d, r)) < want and time.monotonic() < deadline:
                time.sleep(0.02)
            orders[r] = _keys(d, r)
        first = orders[US[0]]
        assert len(first) == want and len(set(first)) == want
        assert all(o == first for o in orders.values()), orders
        for k in first:
            stamps = {(v["timestamp"], v["origin"])
                      for v in d.versions("mrsc", key(k)).values()}
            assert len(stamps) == 1, (k, stamps)
