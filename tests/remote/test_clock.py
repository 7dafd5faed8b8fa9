"""Clock offsets and error bounds (suite.remote.clock): estimates, mapping, merge order."""

from __future__ import annotations

import random

import pytest

from checkers import linearizability
from results.history import Op
from suite.remote.clock import (ClockEstimate, ClockSample, ClockTrack, Merger, drifted,
                                estimate, mapped_interval, remap)

MS = 1_000_000


def test_estimate_keeps_the_shortest_round_trip_and_bounds_the_true_offset():
    rng = random.Random(7)
    true_offset = 123 * MS  # control = worker + offset
    samples = []
    for _ in range(50):
        t1 = rng.randrange(10**12)
        rtt = rng.randrange(100_000, 5 * MS)
        at = t1 + rng.randrange(rtt + 1)  # the worker reads its clock somewhere in between
        samples.append(ClockSample(t1, at - true_offset, t1 + rtt))
    est = estimate(samples)
    assert est.rtt_ns == min(s.rtt for s in samples)
    assert abs(est.offset_ns - true_offset) <= est.bound_ns
    assert est.bound_ns < est.rtt_ns  # half the round trip plus small allowances
    with pytest.raises(ValueError):
        estimate([ClockSample(10, 0, 5)])


def test_drift_beyond_what_rates_allow_is_detected():
    a = ClockEstimate(offset_ns=0, bound_ns=MS, rtt_ns=100_000, samples=8, at_ns=0)
    # 10 s later, 100 ppm allows 1 ms of drift on top of both errors
    assert not drifted(a, ClockEstimate(2 * MS, 50_000, 100_000, 8, at_ns=10**10))
    assert drifted(a, ClockEstimate(3 * MS, 50_000, 100_000, 8, at_ns=10**10))


def test_track_bound_grows_with_distance_from_the_nearest_measurement():
    first = ClockEstimate(offset_ns=5 * MS, bound_ns=100_000, rtt_ns=200_000, samples=4,
                          at_ns=0)
    track = ClockTrack.start(first, extra_ns=10)
    assert track.bound_ns(0) == 100_000 + 1 + 10
    assert track.bound_ns(10**9) == 100_000 + 100_000 + 1 + 10  # 1 s at 100 ppm
    # A later measurement 0.2 ms off the first tightens the bound near its own time.
    later = track.with_estimate(ClockEstimate(5 * MS + 200_000, 50_000, 100_000, 4,
                                              at_ns=10 * 10**9))
    assert later.offset_ns == 5 * MS  # every time is still mapped with the first offset
    assert later.bound_ns(10 * 10**9) == 200_000 + 50_000 + 1 + 10
    assert later.bound_ns(9 * 10**9, 11 * 10**9) == 200_000 + 50_000 + 100_000 + 1 + 10


def test_mapped_interval_is_widened_on_the_control_clock():
    assert mapped_interval(1000 * MS, 1010 * MS, -500 * MS, 2 * MS, 400 * MS) == \
        (98 * MS, 112 * MS)
    assert mapped_interval(0, 5, 0, 10, 0) == (0, 15)  # never before the run started


def test_merger_releases_events_only_past_the_watermark():
    m = Merger(max_bound_ns=10)
    for t in (50, 30, 40):
        m.push(Op(index=-1, time=t, type="invoke", process=t, f="read"))
    assert m.pop_until(45) == []  # 45 - 2*10 = 25: nothing is final yet
    assert [o.time for o in m.pop_until(62)] == [30, 40]
    assert [o.time for o in m.pop_all()] == [50]


def _remote_pair(index, process, f, value, host, s, e, offset, bound):
    inv = Op(index=-1, time=0, type="invoke", process=process, f=f, key="k",
             value=value if f == "write" else None, extra={"host": host})
    done = Op(index=-1, time=0, type="ok", process=process, f=f, key="k", value=value,
              extra={"host": host, "worker_ns": [s, e], "clock_offset_ns": offset,
                     "clock_bound_ns": bound, "epoch_ns": 0})
    return [inv, done]


def test_planted_offset_breaks_a_trusting_history_but_not_a_bounded_one():
    """Host A writes 1 at real time [20, 30] ms; host B reads 1 at real time [40, 50] ms.
    B's clock runs 35 ms behind (its worker reads 5..15 ms): trusted as is, B's read ends
    before A's write begins, which no register allows; mapped with B's measured offset
    and bound, the history is what really happened, and valid."""
    bound = 1 * MS
    ops = (_remote_pair(0, 0, "write", 1, "a", 20 * MS, 30 * MS, 0, bound)
           + _remote_pair(2, 1, "read", 1, "b", 5 * MS, 15 * MS, 35 * MS, bound))
    bounded = remap(ops)
    trusting = remap(ops, trust_clocks=True)
    assert [(o.process, o.type) for o in bounded] == [(0, "invoke"), (0, "ok"),
                                                     (1, "invoke"), (1, "ok")]
    assert linearizability.check(bounded, "register")["valid"] is True
    assert linearizability.check(trusting, "register")["valid"] is False
