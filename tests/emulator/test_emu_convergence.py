"""Async replication under a seeded random fault schedule: everything converges after the heal.

Clients write through boto3 to every region while a seeded schedule cuts links (both ways
and one way), isolates regions, pauses replication, stops and starts regions, skews clocks
and adds delay. After `heal`, every region holds, for every key, the same version (value,
LWW timestamp, origin), that value was really written, and it carries the highest stamp
any region ever held for the key (last writer wins, nothing resurrected).
"""

import random
import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from emulator import Deployment
from emulator.testing import create_global_table, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
KEYS = [f"k{i}" for i in range(6)]


def _fault(d, rng):
    a, b = rng.sample(REGIONS, 2)
    action = rng.choice(["cut", "cut-oneway", "isolate", "pause", "stop", "skew", "delay", "heal"])
    if action == "cut":
        d.cut(a, b)
    elif action == "cut-oneway":
        d.cut_oneway(a, b)
    elif action == "isolate":
        d.isolate(a)
    elif action == "pause":
        d.pause_replication(a if rng.random() < 0.5 else None)
    elif action == "stop":
        d.stop_region(a)
    elif action == "skew":
        d.skew_clock(a, rng.choice([-2000, -50, 50, 2000]))
    elif action == "delay":
        d.delay(a, b, rng.choice([5, 50, 200]))
    else:
        d.heal()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_random_faults_then_heal_converges(seed):
    rng = random.Random(seed)
    with Deployment(REGIONS, latency_scale=0.05, seed=seed, replication_jitter_ms=5) as d:
        cs = create_global_table(d, "conv")
        written = {k: set() for k in KEYS}
        highest = {k: (0, "") for k in KEYS}
        stop = threading.Event()
        acks = []

        def writer(region, wrng):
            n = 0
            while not stop.is_set():
                k = wrng.choice(KEYS)
                v = f"{region}-{n}"
                n += 1
                written[k].add(v)
                try:
                    cs[region].put_item(TableName="conv", Item={"pk": {"S": k}, "v": {"S": v}})
                    acks.append(v)
                except (ClientError, BotoCoreError):
                    time.sleep(0.01)  # region stopped: refused, try again later

        threads = [threading.Thread(target=writer, args=(r, random.Random(rng.random())))
                   for r in REGIONS]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            _fault(d, rng)
            for k in KEYS:  # remember the highest stamp any region has held
                for v in d.versions("conv", {"pk": {"S": k}}).values():
                    if v is not None:
                        highest[k] = max(highest[k], (v["timestamp"], v["origin"]))
            time.sleep(rng.uniform(0.02, 0.15))
        stop.set()
        for t in threads:
            t.join()
        assert len(acks) >= 30, "too few acknowledged writes to exercise replication"
        d.heal()
        assert d.quiesce(20)

        def converged():
            for k in KEYS:
                vs = d.versions("conv", {"pk": {"S": k}})
                if len({(v["timestamp"], v["origin"], str(v["item"])) if v else None
                        for v in vs.values()}) != 1:
                    return False
            return True

        wait_until(converged, timeout_s=20, what="convergence after heal")
        for k in KEYS:
            v = d.versions("conv", {"pk": {"S": k}})["us-east-1"]
            if v is None:
                continue
            assert v["item"]["v"]["S"] in written[k]
            assert (v["timestamp"], v["origin"]) >= highest[k]
