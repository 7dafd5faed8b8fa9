"""M06 / M07: an SC read appends a read fence and reflects every write acknowledged
anywhere before it; an EC read serves the local copy and may be stale."""

from __future__ import annotations

from mrsc_scenario_support import client, median_ms, put, read_n, strong_table


def test_sc_read_in_another_region_sees_a_write_at_once_ec_may_not():
    # Scale 0.5: us-east-1's write is acknowledged after ~6 ms (round trip to the leader,
    # us-east-2), while us-west-2 applies it ~12 ms later, so an EC read there is stale.
    with strong_table(scale=0.5) as d:
        east, west = client(d, "us-east-1"), client(d, "us-west-2")
        stale_ec = 0
        for i in range(1, 21):
            put(east, "k", i)
            assert read_n(west, "k", consistent=True) == i  # never stale
            put(east, "k2", i)
            if read_n(west, "k2", consistent=False) != i:
                stale_ec += 1
        assert stale_ec > 0


def test_sc_read_costs_about_a_write_even_with_one_writer():
    with strong_table(scale=0.5) as d:
        west = client(d, "us-west-2")
        put(west, "k", 1)
        write_ms = median_ms(lambda: put(west, "k", 2), 15)
        sc_ms = median_ms(lambda: read_n(west, "k", consistent=True), 15)
        ec_ms = median_ms(lambda: read_n(west, "k", consistent=False), 15)
        # us-west-2's nearest quorum member is us-east-2: 2 x 25 ms x 0.5 = 25 ms.
        assert sc_ms > 0.9 * 25 and write_ms > 0.9 * 25
        assert 0.6 < sc_ms / write_ms < 1.6
        assert ec_ms < sc_ms / 2
