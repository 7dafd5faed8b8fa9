"""M11: losing the nearest region raises write latency in the others: us-east-1's quorum
partner is normally us-east-2 (6 ms away); with us-east-2 stopped it must pair with
us-west-2 (33 ms away)."""

from __future__ import annotations

from mrsc_scenario_support import client, median_ms, put, retry_until, strong_table

SCALE = 0.5


def test_losing_the_nearest_region_raises_write_latency():
    with strong_table(scale=SCALE) as d:
        east = client(d, "us-east-1")
        put(east, "k", 0)
        before = median_ms(lambda: put(east, "k", 1), 15)
        d.stop_region("us-east-2")
        retry_until(lambda: put(east, "k", 2))
        after = median_ms(lambda: put(east, "k", 3), 15)
        near_rtt, far_rtt = 2 * 6 * SCALE, 2 * 33 * SCALE
        # Lower bounds are physical (load only adds): `after` proves the quorum now needs
        # us-west-2; a busy machine can inflate `before`, so only its order is judged.
        assert before >= 0.9 * near_rtt and after >= 0.9 * far_rtt and after > before
        d.start_region("us-east-2")
        # Once us-east-2 is back and caught up, it leads again and latency drops back.
        retry_until(lambda: put(client(d, "us-east-2"), "k", 4))
        recovered = False
        for _ in range(40):
            if median_ms(lambda: put(east, "k", 5), 5) < (before + after) / 2:
                recovered = True
                break
        assert recovered
