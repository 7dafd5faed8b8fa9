"""M09: applying is idempotent -- a replication engine that crashes and replays the journal
from an old checkpoint never applies an entry twice. Counter increments make a double
apply visible: the value would overshoot."""

from __future__ import annotations

from mrsc_scenario_support import client, increment, read_n, retry_until, strong_table


def test_replay_from_an_old_checkpoint_through_the_server():
    with strong_table() as d:
        east, west = client(d, "us-east-1"), client(d, "us-west-2")
        for _ in range(10):
            increment(east, "n")
        engine = next(t for t in d.cluster.tables_everywhere() if t.name == "mrsc").engine
        # Crash us-west-2's engine and restart it as if its last checkpoint were index 0:
        # it replays every entry it already applied.
        engine.restart_region("us-west-2", checkpoint=0)
        assert retry_until(lambda: read_n(west, "n", consistent=True)) == 10
        increment(west, "n")
        for r in d.regions:
            assert read_n(client(d, r), "n", consistent=True) == 11
        replayed = [d_ for _, _, d_ in engine.applied_order("us-west-2")]
        assert replayed.count("applied") == 11  # each increment applied exactly once


def test_region_outage_resumes_from_its_checkpoint():
    with strong_table() as d:
        east = client(d, "us-east-1")
        for _ in range(5):
            increment(east, "n")
        d.stop_region("us-west-2")
        for _ in range(5):
            retry_until(lambda: increment(east, "n"), codes=("ServiceUnavailable",))
        d.start_region("us-west-2")
        assert retry_until(lambda: read_n(client(d, "us-west-2"), "n", consistent=True)) == 10
