"""M02: the multi-region journal is an append-only log whose append succeeds once it is
durable in 2 of the 3 regions.

Through boto3 against the emulator: with one region stopped the other two still accept
writes, and what they acknowledged survives the later loss of the region that wrote it;
with two regions stopped the last one refuses writes (nothing can become durable in two)
and applies nothing; and an append does not wait for the third region: with that region
hundreds of milliseconds away, a write costs the round trip to the nearest quorum member.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mrsc_scenario_support import (client, error_code, median_ms, put, read_n, retry_until,
                                   strong_table)


def test_two_regions_up_accept_writes_that_survive_losing_the_writer():
    with strong_table() as d:
        east1, east2 = client(d, "us-east-1"), client(d, "us-east-2")
        d.stop_region("us-west-2")
        retry_until(lambda: put(east1, "k", 1))    # durable in us-east-1 and us-east-2
        assert read_n(east2, "k", consistent=True) == 1
        d.start_region("us-west-2")
        d.stop_region("us-east-1")                 # the region that wrote it is gone
        west = client(d, "us-west-2")
        assert retry_until(lambda: read_n(west, "k", consistent=True)) == 1
        assert retry_until(lambda: read_n(east2, "k", consistent=True)) == 1


def test_one_region_alone_cannot_append():
    with strong_table() as d:
        east1 = client(d, "us-east-1")
        put(east1, "k", 1)
        d.stop_region("us-east-2")
        d.stop_region("us-west-2")
        with pytest.raises(ClientError) as e:
            put(east1, "k", 2)
        assert error_code(e.value) == "ServiceUnavailable"   # definite: nothing proposed
        d.start_region("us-east-2")
        d.start_region("us-west-2")
        for r in ("us-east-1", "us-east-2", "us-west-2"):
            assert retry_until(lambda: read_n(client(d, r), "k", consistent=True)) == 1


def test_an_append_does_not_wait_for_the_third_region():
    # us-west-2 is 400 ms from both others (each way); us-east-1 and us-east-2 are 6 ms
    # apart at scale 1. A write in us-east-2 commits with us-east-1's copy alone.
    with strong_table(scale=1.0) as d:
        east2, west = client(d, "us-east-2"), client(d, "us-west-2", read_timeout=30)
        put(east2, "k", 0)
        d.delay("us-west-2", "us-east-1", 400)
        d.delay("us-west-2", "us-east-2", 400)
        write_ms = median_ms(lambda: put(east2, "k", 1), 7)
        # Far below one round trip to us-west-2 (800 ms); the slack is for a loaded machine.
        assert write_ms < 300, write_ms
        # The third region still gets every entry, later: an SC read there sees the write.
        assert retry_until(lambda: read_n(west, "k", consistent=True), timeout_s=20) == 1
