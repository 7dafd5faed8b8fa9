"""Randomised MRSC run at the engine level: concurrent writers and SC readers in every
region while a seeded nemesis isolates regions, cuts links, and stops/starts regions.

Each write appends a unique element to a list item, so the final state tells exactly which
writes took effect. Asserted, per seed:
- no acknowledged write is lost: every acknowledged element is in the final item, in every
  region; no definitely-failed element (ReplicatedWriteConflict, ConditionalCheckFailed,
  ServiceUnavailable) is; unknown outcomes (InternalServerError) may go either way;
- SC reads are fresh: each one contains every element acknowledged before it began;
- every replica region applied the same journal sequence with the same decisions.
The boto3 version of this run is tests/scenarios/test_M_random_faults.py.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from emulator.engine import Mutation
from emulator.errors import DynamoError
from mrsc_engine_support import make_engine  # noqa: E402  (sibling helper)

US = ("us-east-1", "us-east-2", "us-west-2")
DEFINITE = {"ReplicatedWriteConflictException", "ConditionalCheckFailedException",
            "ServiceUnavailable"}


def append(key: str, element: str) -> Mutation:
    def compute(old):
        items = [] if old is None else [v["S"] for v in old["l"]["L"]]
        return {"pk": {"S": key}, "l": {"L": [{"S": x} for x in items + [element]]}}
    return Mutation((key,), {"pk": {"S": key}}, compute)


def elements(item) -> list[str]:
    return [] if item is None else [v["S"] for v in item["l"]["L"]]


def run(seed: int, duration_s: float, witness: bool) -> None:
    rng = random.Random(seed)
    replicas = US[:2] if witness else US
    e, wan = make_engine(replicas=replicas, witness="us-west-2" if witness else None,
                         scale=0.05, copy_lag_s=0.002, mrsc_request_timeout_s=0.6)
    keys = ("a", "b")
    lock = threading.Lock()
    acked: dict[str, float] = {}        # element -> ack time
    definite: set[str] = set()
    unknown: set[str] = set()
    reads: list[tuple[float, str, set[str]]] = []
    stop = threading.Event()
    unexpected: list[Exception] = []

    def writer(region: str, wid: int, wrng: random.Random) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            key = wrng.choice(keys)
            el = f"{region}/{wid}/{n}"
            try:
                e.write(region, [append(key, el)])
                with lock:
                    acked[key + ":" + el] = time.monotonic()
            except DynamoError as err:
                with lock:
                    (definite if err.name in DEFINITE else unknown).add(key + ":" + el)
                    if err.name not in DEFINITE and err.name != "InternalServerError":
                        unexpected.append(err)
                time.sleep(0.005)

    def reader(region: str, rrng: random.Random) -> None:
        while not stop.is_set():
            key = rrng.choice(keys)
            began = time.monotonic()
            try:
                item = e.get(region, (key,), True)
            except DynamoError as err:
                if err.name not in ("ServiceUnavailable", "InternalServerError"):
                    unexpected.append(err)
                time.sleep(0.005)
                continue
            with lock:
                reads.append((began, key, {key + ":" + x for x in elements(item)}))

    def nemesis() -> None:
        while not stop.is_set():
            time.sleep(rng.uniform(0.05, 0.25))
            kind = rng.choice(["isolate", "cut", "stop", "heal", "heal"])
            region = rng.choice(wan.regions)
            if kind == "isolate":
                wan.isolate(region)
            elif kind == "cut":
                a, b = rng.sample(wan.regions, 2)
                wan.cut(a, b)
            elif kind == "stop":
                wan.stop_region(region)
            else:
                wan.heal()
                for r in wan.regions:
                    wan.start_region(r)
            e.faults_changed()

    threads = [threading.Thread(target=writer, args=(r, i, random.Random(rng.random())))
               for r in replicas for i in range(2)]
    threads += [threading.Thread(target=reader, args=(r, random.Random(rng.random())))
                for r in replicas]
    threads.append(threading.Thread(target=nemesis))
    try:
        [t.start() for t in threads]
        time.sleep(duration_s)
        stop.set()
        [t.join() for t in threads]
        assert not unexpected, unexpected[:3]
        wan.heal()
        for r in wan.regions:
            wan.start_region(r)
        e.faults_changed()
        final = {}
        for r in replicas:
            for _ in range(300):
                try:
                    final[r] = {k: elements(e.get(r, (k,), True)) for k in keys}
                    break
                except DynamoError:
                    time.sleep(0.02)
            else:
                pytest.fail(f"{r} never served an SC read after the heal (seed={seed})")
        # One more fence everywhere so every region has applied the same prefix.
        for r in replicas:
            final[r] = {k: elements(e.get(r, (k,), True)) for k in keys}
        assert len({repr(v) for v in final.values()}) == 1, f"regions diverge (seed={seed})"
        present = {k + ":" + x for k, xs in final[replicas[0]].items() for x in xs}
        lost = set(acked) - present
        assert not lost, f"acknowledged writes lost: {sorted(lost)[:5]} (seed={seed})"
        ghosts = definite & present
        assert not ghosts, f"definitely failed writes applied: {sorted(ghosts)[:5]} (seed={seed})"
        assert present <= set(acked) | unknown
        for began, key, seen in reads:
            missing = {el for el, t in acked.items() if t < began and el.startswith(key + ":")}
            assert missing <= seen, f"stale SC read of {key} (seed={seed})"
        orders = {r: [x for x in e.applied_order(r)] for r in replicas}
        n = min(len(o) for o in orders.values())
        first = orders[replicas[0]][:n]
        for r in replicas:
            assert orders[r][:n] == first, f"{r} applied another order (seed={seed})"
        assert len(acked) > 20, "the run must have made progress"
    finally:
        stop.set()
        e.close()
        wan.scheduler.stop()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_faults_three_replicas(seed):
    run(seed, 2.5, witness=False)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5])
def test_random_faults_two_replicas_and_witness(seed):
    run(seed, 2.5, witness=True)
