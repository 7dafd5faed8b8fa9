"""The `slow` and `pause` faults, through boto3: a slow region answers later, a paused one
not at all until it resumes (and then as if nothing happened); MRSC keeps serving in the
other regions while the journal leader is frozen."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from emulator import Deployment
from emulator.testing import client, create_global_table, get, value, wait_until
from suite.errors import BadInput

US = ["us-east-1", "us-east-2", "us-west-2"]


def put(c, k, v):
    c.put_item(TableName="tbl", Item={"pk": {"S": k}, "v": {"N": str(v)}})


def test_slow_delays_every_link_of_a_region_and_heal_lifts_it():
    with Deployment(US, latency_scale=0.0, seed=1) as d:
        d.slow("us-east-2", 250)
        one_way = d.status()["wan"]["one_way_ms"]
        assert {k: v for k, v in one_way.items() if "us-east-2" in k} == {
            "us-east-1->us-east-2": 250, "us-east-2->us-east-1": 250,
            "us-east-2->us-west-2": 250, "us-west-2->us-east-2": 250}
        assert one_way["us-east-1->us-west-2"] == 0
        d.heal()
        assert set(d.status()["wan"]["one_way_ms"].values()) == {0}
        with pytest.raises(BadInput):
            d.fault("slow", "us-east-2", -1)


def test_paused_region_answers_nothing_until_resumed_and_keeps_its_backlog():
    with Deployment(US, latency_scale=0.0, seed=1) as d:
        cs = create_global_table(d, "tbl")
        d.fault("pause", "us-east-2")
        assert d.status()["paused"] == ["us-east-2"]
        impatient = client(d.endpoints["us-east-2"], "us-east-2", config=Config(
            retries={"total_max_attempts": 1}, read_timeout=0.5, connect_timeout=1))
        with pytest.raises(ReadTimeoutError):
            get(impatient, "tbl", "k")               # accepted, never answered while paused
        put(cs["us-east-1"], "k", 1)                 # replication into it waits
        wait_until(lambda: value(get(cs["us-west-2"], "tbl", "k")) == 1 or None,
                   what="the write in us-west-2")
        answered = {}
        t = threading.Thread(target=lambda: answered.update(v=value(get(cs["us-east-2"],
                                                                        "tbl", "k"))))
        t.start()
        time.sleep(0.3)
        assert t.is_alive()                          # still frozen
        d.fault("resume", "us-east-2")
        t.join(5)
        assert answered["v"] in (None, 1)            # served once resumed
        wait_until(lambda: value(get(cs["us-east-2"], "tbl", "k")) == 1 or None,
                   what="the backlog delivered after resume")
        assert d.status()["paused"] == []


def test_mrsc_keeps_serving_elsewhere_while_the_journal_leader_is_frozen():
    with Deployment(US, mode="strong", latency_scale=0.0, seed=1) as d:
        cs = create_global_table(d, "tbl", mode="STRONG")
        (t,) = d.cluster.tables_everywhere()
        leader = t.engine.preferred
        x = next(r for r in US if r != leader)
        put(cs[x], "k", 1)
        d.pause_region(leader)
        def written():
            try:
                put(cs[x], "k", 2)
                return True
            except Exception:  # noqa: BLE001 -- 503/500 while a new leader is elected
                return None
        wait_until(written, timeout_s=10, what="a write with the leader frozen")
        assert value(get(cs[x], "tbl", "k")) == 2
        d.heal()                                     # the old leader resumes and catches up
        wait_until(lambda: value(get(cs[leader], "tbl", "k", consistent=False)) == 2 or None,
                   timeout_s=10, what="the resumed region caught up")
