"""The WAN model's routing (`Wan.route`, M12: the MRSC journal relays over live links) is
networkx's bidirectional Dijkstra written out, so the emulator needs no networkx (a tenth of a run's
start-up). It must give the very paths networkx's `shortest_path` gives over the live
links weighted by one-way delay: checked here on seeded random fault states, with small
integer latencies so that ties (which path wins) are common."""

from __future__ import annotations

import random

import networkx
import pytest

from emulator.wan import Scheduler, Wan

REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"]


def networkx_route(wan: Wan, a: str, b: str) -> list[str] | None:
    """The routing as the emulator had it: networkx over a graph of the live links."""
    if a == b:
        return [a] if wan.region_up(a) else None
    g = networkx.DiGraph()
    g.add_nodes_from(r for r in wan.regions if wan.region_up(r))
    for x in wan.regions:
        for y in wan.regions:
            if x != y and wan.link_live(x, y):
                g.add_edge(x, y, weight=wan.one_way_ms(x, y))
    try:
        return networkx.shortest_path(g, a, b, weight="weight")
    except (networkx.NetworkXNoPath, networkx.NodeNotFound):
        return None


@pytest.fixture
def scheduler():
    s = Scheduler()
    yield s
    s.stop()


@pytest.mark.parametrize("seed", range(40))
def test_route_is_networkx_shortest_path(scheduler, seed):
    rng = random.Random(seed)
    regions = REGIONS[:rng.randint(2, len(REGIONS))]
    latency = {(x, y): float(rng.randint(1, 4)) for x in regions for y in regions if x != y}
    wan = Wan(regions, latency_scale=rng.choice([0.0, 0.5, 1.0]), latency_ms=latency,
              scheduler=scheduler)
    compared = 0
    for _ in range(6):  # faults pile up, then everything is compared again
        fault = rng.choice(["cut", "oneway", "delay", "isolate", "stop", "start", "heal"])
        x, y = rng.sample(regions, 2)
        if fault == "cut":
            wan.cut(x, y)
        elif fault == "oneway":
            wan.cut(x, y, both=False)
        elif fault == "delay":
            wan.delay(x, y, float(rng.randint(0, 5)), both=rng.random() < 0.5)
        elif fault == "isolate":
            wan.isolate(x)
        elif fault == "stop":
            wan.stop_region(x)
        elif fault == "start":
            wan.start_region(x)
        else:
            wan.heal()
        for a in regions + ["mars-1"]:
            for b in regions + ["mars-1"]:
                expected = networkx_route(wan, a, b) if "mars-1" not in (a, b) or a == b \
                    else None
                got = wan.route(a, b)
                assert got == expected, (seed, fault, a, b)
                compared += 1
    assert compared == 6 * (len(regions) + 1) ** 2


def test_a_cut_link_is_routed_around_and_a_stopped_region_is_not_reached(scheduler):
    three = REGIONS[:3]
    wan = Wan(three, latency_scale=1.0, scheduler=scheduler,
              latency_ms={(x, y): 10.0 for x in three for y in three if x != y})
    assert wan.route("us-east-1", "us-west-2") == ["us-east-1", "us-west-2"]
    wan.cut("us-east-1", "us-west-2")
    assert wan.route("us-east-1", "us-west-2") == ["us-east-1", "us-east-2", "us-west-2"]
    wan.stop_region("us-east-2")
    assert wan.route("us-east-1", "us-west-2") is None
    assert wan.route("us-east-2", "us-east-2") is None
    wan.heal()
    assert wan.route("us-east-1", "us-west-2") == ["us-east-1", "us-west-2"]
