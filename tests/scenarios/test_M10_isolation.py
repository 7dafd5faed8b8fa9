"""M10: a fully isolated region serves no writes and no SC reads (a definite
ServiceUnavailable: nothing was proposed), still serves EC reads of its local copy, and
the other two regions keep working; after the heal it catches up. Also: stopping the
witness leaves both replicas working."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mrsc_scenario_support import (client, error_code, put, read_n, retry_until,
                                   strong_table)


@pytest.mark.parametrize("isolated", ["us-west-2", "us-east-2"],
                         ids=["follower", "leader"])
def test_isolated_region_refuses_writes_and_sc_reads(isolated):
    with strong_table() as d:
        others = [r for r in d.regions if r != isolated]
        put(client(d, others[0]), "k", 1)
        assert read_n(client(d, isolated), "k", consistent=True) == 1
        d.isolate(isolated)
        cut_off = client(d, isolated)
        for op in (lambda: put(cut_off, "k", 99),
                   lambda: read_n(cut_off, "k", consistent=True)):
            with pytest.raises(ClientError) as e:
                op()
            assert error_code(e.value) == "ServiceUnavailable"
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert read_n(cut_off, "k", consistent=False) == 1  # EC reads stay available
        # The other two keep working (if the leader was isolated, after an election).
        for i, r in enumerate(others, start=2):
            retry_until(lambda: put(client(d, r), "k", i))
            assert retry_until(lambda: read_n(client(d, others[0]), "k", consistent=True)) == i
        d.heal()
        # Back: it answers errors until it has caught up, then serves the latest value.
        assert retry_until(lambda: read_n(cut_off, "k", consistent=True)) == 3
        put(cut_off, "k", 4)
        assert read_n(client(d, others[0]), "k", consistent=True) == 4
        # Nothing the isolated region refused was ever applied.
        assert 99 not in {read_n(client(d, r), "k", consistent=True) for r in d.regions}


def test_stopping_the_witness_leaves_both_replicas_working():
    with strong_table(witness=True) as d:
        east1, east2 = client(d, "us-east-1"), client(d, "us-east-2")
        put(east1, "k", 1)
        d.stop_region("us-west-2")
        retry_until(lambda: put(east2, "k", 2))
        assert retry_until(lambda: read_n(east1, "k", consistent=True)) == 2
        put(east1, "k", 3)
        assert read_n(east2, "k", consistent=True) == 3
        d.start_region("us-west-2")
        put(east2, "k", 4)
        assert read_n(east1, "k", consistent=True) == 4
