"""The clock fault (`skew-host-clock`) on real hosts: a worker restarted under faketime
reads its clock moved by the offset asked, as the control node measures it over SSH
(suite.remote.clock), and `unskew-host-clock` brings it back.

Last session's remote runs saw the skewed worker's clock about 56 years off, not 2 s:
libfaketime fakes CLOCK_MONOTONIC by default, as the faked wall time, and the worker
times operations on the monotonic clock. Here the namespace test bed's hosts share this
machine's clock, so the truth is known: the skew is exactly the offset asked.
"""

from __future__ import annotations

import pytest

from suite.config import Test
from suite.remote.clock import clock_moved
from suite.remote.fleet import Fleet
from suite.remote.hosts import read_hosts

pytestmark = pytest.mark.slow

SLACK_MS = 1.0  # beyond the measurements' own error: the worker's two clock reads


@pytest.fixture
def fleet(testbed):
    hosts = read_hosts(str(testbed))
    test = Test(hosts=str(testbed), seed=1)
    # The workers set up boto3 clients only (no request is made): any address will do.
    endpoints = {r: f"http://{hosts.control_address}:9" for r in test.regions}
    logged: list[str] = []
    f = Fleet(hosts, log=logged.append)
    f.start(test.to_json(), endpoints)
    f.logged = logged
    yield f
    f.close()


@pytest.mark.parametrize("ms", [2000.0, -250.0])
def test_a_skewed_worker_clock_moves_by_the_offset_asked_and_back(fleet, ms):
    nemesis = fleet.nemesis()
    host = sorted(fleet.sessions)[0]
    s = fleet.sessions[host]
    plain = s.track.latest()
    done = nemesis.invoke(None, {"f": "skew-host-clock", "value": {"host": host, "ms": ms}})
    assert done["type"] == "ok", done
    # what the fault's completion says, and the control node's clock estimates, agree
    skewed = s.track.latest()
    moved_ns, error_ns = clock_moved(plain, skewed)
    assert abs(moved_ns - ms * 1e6) <= error_ns + SLACK_MS * 1e6, moved_ns / 1e6
    assert error_ns < 50e6  # a measurement, not a guess: bounded by SSH round trips
    assert done["skew_ms_measured"] == round(moved_ns / 1e6, 3)
    assert any(f"host {host}: clock skewed by" in m for m in fleet.logged)
    # the other hosts' clocks did not move
    for name, other in fleet.sessions.items():
        if name != host:
            e = other.track.latest()
            assert abs(e.offset_ns) <= e.bound_ns + SLACK_MS * 1e6
    back = nemesis.invoke(None, {"f": "unskew-host-clock", "value": {"host": host}})
    assert back["type"] == "ok", back
    moved_back, error_back = clock_moved(plain, s.track.latest())
    assert abs(moved_back) <= error_back + SLACK_MS * 1e6, moved_back / 1e6
    assert nemesis.in_force() == {}
