"""M03: the journal delivers entries to every subscriber in journal order, not in the
order clients appended them.

us-west-2's links out are slowed by 300 ms, so a write it begins first reaches the
journal after a write us-east-1 begins 50 ms later. Both are acknowledged; the one that
reached the journal first comes first in every region's DynamoDB stream (the order each
region applied them), us-west-2's own included, although its client appended earlier.
"""

from __future__ import annotations

import threading
import time

from emulator.testing import delay_links_from, stream_records
from mrsc_scenario_support import client, put, strong_table


def _keys(d, region):
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(d, region, "mrsc")]


def test_every_region_applies_in_journal_order_not_client_order():
    with strong_table(scale=0.2) as d:
        west, east = client(d, "us-west-2", read_timeout=30), client(d, "us-east-1")
        delay_links_from(d, "us-west-2", 300)
        times: dict[str, float] = {}

        def write_a():
            times["a_invoke"] = time.monotonic()
            put(west, "a", 1)
            times["a_ack"] = time.monotonic()

        t = threading.Thread(target=write_a)
        t.start()
        while "a_invoke" not in times:
            time.sleep(0.001)
        time.sleep(0.05)
        times["b_invoke"] = time.monotonic()
        put(east, "b", 2)
        times["b_ack"] = time.monotonic()
        t.join(30)
        assert times["a_invoke"] < times["b_invoke"] < times["b_ack"] < times["a_ack"]
        delay_links_from(d, "us-west-2", 0)
        orders = {}
        for r in d.regions:
            deadline = time.monotonic() + 10
            while len(_keys(d, r)) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            orders[r] = _keys(d, r)
        assert all(o == ["b", "a"] for o in orders.values()), orders
