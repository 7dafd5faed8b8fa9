"""The WAN model: latencies, link faults, routing over live links, direct vs relayed delivery."""

import threading
import time

import pytest

from emulator.wan import Scheduler, Wan, default_one_way_ms

US = ["us-east-1", "us-east-2", "us-west-2"]


@pytest.fixture
def wan():
    s = Scheduler()
    yield Wan(US, latency_scale=0.01, scheduler=s)
    s.stop()


def _deliver(wan, src, dst, *, relay):
    got = threading.Event()
    dropped = threading.Event()
    sent = wan.send(src, dst, got.set, relay=relay, on_drop=dropped.set)
    return sent, got, dropped


def test_latency_matrix_scaled_and_extra_delay(wan):
    assert default_one_way_ms("us-east-1", "us-east-2") < default_one_way_ms("us-east-1", "us-west-2")
    assert default_one_way_ms("mars-1", "venus-2") > 0
    base = wan.one_way_ms("us-east-1", "us-west-2")
    assert base == pytest.approx(default_one_way_ms("us-east-1", "us-west-2") * 0.01)
    wan.delay("us-east-1", "us-west-2", 50)
    assert wan.one_way_ms("us-east-1", "us-west-2") == pytest.approx(base + 50)
    assert wan.one_way_ms("us-west-2", "us-east-1") == pytest.approx(base + 50)


def test_route_takes_the_long_way_around_a_cut(wan):
    assert wan.route("us-east-1", "us-east-2") == ["us-east-1", "us-east-2"]
    wan.cut("us-east-1", "us-east-2")
    assert wan.route("us-east-1", "us-east-2") == ["us-east-1", "us-west-2", "us-east-2"]
    wan.isolate("us-west-2")
    assert wan.route("us-east-1", "us-east-2") is None
    wan.heal()
    assert wan.route("us-east-1", "us-east-2") == ["us-east-1", "us-east-2"]


def test_direct_send_refused_on_cut_link_relay_goes_through(wan):
    wan.cut("us-east-1", "us-east-2")
    sent, got, _ = _deliver(wan, "us-east-1", "us-east-2", relay=False)
    assert not sent
    sent, got, _ = _deliver(wan, "us-east-1", "us-east-2", relay=True)
    assert sent and got.wait(2)


def test_one_way_cut_is_directional(wan):
    wan.cut("us-east-1", "us-east-2", both=False)
    assert not wan.link_live("us-east-1", "us-east-2")
    assert wan.link_live("us-east-2", "us-east-1")


def test_message_in_flight_dropped_when_link_breaks(wan):
    wan.delay("us-east-1", "us-east-2", 200)
    sent, got, dropped = _deliver(wan, "us-east-1", "us-east-2", relay=False)
    assert sent
    wan.cut("us-east-1", "us-east-2")
    assert dropped.wait(2) and not got.is_set()


def test_stopped_region_has_no_links_and_listeners_hear_changes(wan):
    changes = []
    wan.subscribe(lambda: changes.append(1))
    wan.stop_region("us-west-2")
    assert not wan.link_live("us-east-1", "us-west-2") and not wan.region_up("us-west-2")
    wan.start_region("us-west-2")
    assert wan.link_live("us-east-1", "us-west-2")
    assert len(changes) == 2
    with pytest.raises(KeyError):
        wan.isolate("mars-1")


def test_scheduler_runs_in_due_order():
    s = Scheduler()
    out = []
    done = threading.Event()
    now = time.monotonic()
    s.call_at(now + 0.03, lambda: (out.append(3), done.set()))
    s.call_at(now + 0.01, lambda: out.append(1))
    s.call_at(now + 0.01, lambda: out.append(2))
    s.call_at(now, lambda: 1 / 0)  # a failing callback does not stop the others
    assert done.wait(2)
    s.stop()
    assert out == [1, 2, 3] and s.errors and "ZeroDivisionError" in s.errors[0]


def test_one_way_delay_is_directional_and_heal_lifts_it():
    # issue 21: the delay-oneway fault, through the deployment's fault action
    from emulator import Deployment
    with Deployment(US, latency_scale=0.01, seed=1) as d:
        wan = d.cluster.wan
        back = wan.one_way_ms("us-east-2", "us-east-1")
        d.fault("delay-oneway", "us-east-1", "us-east-2", 250)
        assert wan.one_way_ms("us-east-1", "us-east-2") >= 250
        assert wan.one_way_ms("us-east-2", "us-east-1") == back
        d.fault("heal")
        assert wan.one_way_ms("us-east-1", "us-east-2") < 250


def test_message_jitter_is_seeded_and_reorders():
    # issue 21: seeded per-message jitter, so messages on one link may overtake
    def arrivals(seed):
        s = Scheduler()
        w = Wan(US, latency_scale=0.0, scheduler=s, seed=seed, jitter_ms=20.0)
        order, done = [], threading.Event()
        lock = threading.Lock()

        def deliver(i):
            with lock:
                order.append(i)
                if len(order) == 30:
                    done.set()
        delays = [w.message_delay_s("us-east-1", "us-east-2") for _ in range(30)]
        for i in range(30):
            w.send("us-east-1", "us-east-2", lambda i=i: deliver(i))
        assert done.wait(5)
        s.stop()
        return delays, order
    d1, o1 = arrivals(5)
    d2, _ = arrivals(5)
    assert d1 == d2 and all(0 <= x <= 0.02 for x in d1)
    assert o1 != sorted(o1)


def test_heartbeat_scales_with_the_latency_scale():
    from emulator.mrsc import heartbeat_ticks
    assert heartbeat_ticks(1.0, 30) == 2
    assert heartbeat_ticks(0.1, 30) == 1
    assert heartbeat_ticks(10.0, 800) == 20
    assert heartbeat_ticks(10.0, 30) == 10     # never above a third of the election timeout
