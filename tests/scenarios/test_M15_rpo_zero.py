"""M15: RPO zero -- an acknowledged write survives the loss of any one region, the
region that accepted it included."""

from __future__ import annotations

import pytest

from mrsc_scenario_support import client, put, read_n, retry_until, strong_table


@pytest.mark.parametrize("lost", ["us-east-1", "us-east-2", "us-west-2"])
def test_acknowledged_writes_survive_losing_any_region(lost):
    with strong_table(scale=0.1) as d:
        writer = client(d, "us-east-1")
        for i in range(20):
            put(writer, f"k{i}", i)
        d.stop_region(lost)  # immediately after the acks
        survivor = next(r for r in d.regions if r != lost)
        c = client(d, survivor)
        for i in range(20):
            assert retry_until(lambda: read_n(c, f"k{i}", consistent=True)) == i
        # The survivors keep accepting writes, and the lost region catches up on return.
        retry_until(lambda: put(c, "after", 1))
        d.start_region(lost)
        back = client(d, lost)
        assert retry_until(lambda: read_n(back, "after", consistent=True)) == 1
        assert read_n(back, "k19", consistent=True) == 19
