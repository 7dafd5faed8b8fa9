"""M12: with the us-east-1 <-> us-east-2 link cut, journal traffic takes the longer route
through us-west-2: every region stays available for writes and SC reads, at higher latency
(unlike async replication, A10, which does not relay)."""

from __future__ import annotations

from mrsc_scenario_support import (client, median_ms, put, read_n, retry_until,
                                   strong_table)

SCALE = 0.5


def test_cut_link_relays_through_the_third_region():
    with strong_table(scale=SCALE) as d:
        east1 = client(d, "us-east-1")
        put(east1, "k", 0)
        before = median_ms(lambda: put(east1, "k", 1), 10)
        d.cut("us-east-1", "us-east-2")
        for i, r in enumerate(d.regions, start=10):
            c = client(d, r)
            retry_until(lambda: put(c, "k", i))
            for reader in d.regions:
                assert read_n(client(d, reader), "k", consistent=True) == i
        after = median_ms(lambda: put(east1, "k", 2), 10)
        relay_rtt = 2 * (33 + 25) * SCALE  # us-east-1 -> us-west-2 -> us-east-2 and back
        # The lower bound is physical (load only adds): it proves the relayed route. The
        # direct one would be 2 x 6 ms x SCALE.
        assert after >= 0.9 * relay_rtt and after > before
        d.heal()
        put(east1, "k", 3)
        assert read_n(client(d, "us-east-2"), "k", consistent=True) == 3


def test_one_way_cut_still_available():
    with strong_table(scale=0.1) as d:
        d.cut_oneway("us-east-2", "us-west-2")
        for i, r in enumerate(d.regions):
            retry_until(lambda: put(client(d, r), "k", i))
            assert read_n(client(d, "us-west-2"), "k", consistent=True) == i
