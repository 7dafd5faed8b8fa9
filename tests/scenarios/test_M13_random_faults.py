"""M13 / M15 under chaos: concurrent writers and SC readers in every region through boto3
while a seeded nemesis isolates regions, cuts links (both ways and one way), delays links
and stops/starts regions, the witness included.

Each write appends a unique element to a list item (UpdateItem list_append), so the final
items say exactly which writes took effect. Asserted, per seed:
- no acknowledged write is lost: every element whose write answered 200 is in the final
  item of every region; no element whose write failed definitely
  (ReplicatedWriteConflictException, ServiceUnavailable, ConditionalCheckFailed) is there;
  elements of unknown outcome (InternalServerError, timeouts, dropped connections) may be;
- SC reads are fresh: each contains every element acknowledged before it was sent;
- every region applied the same order: the DynamoDB Streams of all replica regions,
  read through boto3, hold the same sequence of (key, new image) records.
A failing run names its seed.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from emulator import testing
from mrsc_scenario_support import client, error_code, key, retry_until, strong_table

DEFINITE = {"ReplicatedWriteConflictException", "ServiceUnavailable",
            "ConditionalCheckFailedException"}
KEYS = ("a", "b", "c")


def append(ddb, k: str, element: str) -> None:
    ddb.update_item(TableName="mrsc", Key=key(k),
                    UpdateExpression="SET l = list_append(if_not_exists(l, :empty), :el)",
                    ExpressionAttributeValues={":empty": {"L": []},
                                               ":el": {"L": [{"S": element}]}})


def elements(item) -> list[str]:
    return [] if item is None or "l" not in item else [v["S"] for v in item["l"]["L"]]


def stream_records(d, region: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(rec["dynamodb"]["Keys"]["pk"]["S"], tuple(elements(rec["dynamodb"].get("NewImage"))))
            for rec in testing.stream_records(d, region, "mrsc")]


def run(seed: int, *, witness: bool, duration_s: float) -> None:
    rng = random.Random(seed)
    with strong_table(witness=witness, scale=0.05) as d:  # streams on: NEW_AND_OLD_IMAGES
        lock = threading.Lock()
        acked: dict[str, float] = {}
        definite: set[str] = set()
        unknown: set[str] = set()
        reads: list[tuple[float, str, set[str]]] = []
        surprises: list[str] = []
        stop = threading.Event()
        participants = d.regions + ([d.witness] if d.witness else [])

        def fast_client(region):
            return client(d, region, read_timeout=3)

        def writer(region: str, wid: int, wrng: random.Random) -> None:
            c = fast_client(region)
            n = 0
            while not stop.is_set():
                n += 1
                k = wrng.choice(KEYS)
                el = f"{region}/{wid}/{n}"
                try:
                    append(c, k, el)
                    with lock:
                        acked[el] = time.monotonic()
                except ClientError as e:
                    code = error_code(e)
                    with lock:
                        if code in DEFINITE:
                            definite.add(el)
                        elif code == "InternalServerError":
                            unknown.add(el)
                        else:
                            surprises.append(code)
                    time.sleep(0.003)
                except BotoCoreError:  # connection refused/reset, timeout: unknown
                    with lock:
                        unknown.add(el)
                    time.sleep(0.01)

        def reader(region: str, rrng: random.Random) -> None:
            c = fast_client(region)
            while not stop.is_set():
                k = rrng.choice(KEYS)
                began = time.monotonic()
                try:
                    item = c.get_item(TableName="mrsc", Key=key(k), ConsistentRead=True)
                except (ClientError, BotoCoreError):
                    time.sleep(0.005)
                    continue
                with lock:
                    reads.append((began, k, set(elements(item.get("Item")))))

        def nemesis() -> None:
            while not stop.is_set():
                time.sleep(rng.uniform(0.1, 0.3))
                kind = rng.choice(["isolate", "cut", "cut-oneway", "delay", "stop",
                                   "heal", "heal"])
                a, b = rng.sample(participants, 2)
                if kind == "isolate":
                    d.isolate(a)
                elif kind == "cut":
                    d.cut(a, b)
                elif kind == "cut-oneway":
                    d.cut_oneway(a, b)
                elif kind == "delay":
                    d.delay(a, b, rng.choice([5, 20, 50]))
                elif kind == "stop":
                    d.stop_region(a)
                else:
                    d.heal()

        threads = [threading.Thread(target=writer, args=(r, i, random.Random(rng.random())))
                   for r in d.regions for i in range(2)]
        threads += [threading.Thread(target=reader, args=(r, random.Random(rng.random())))
                    for r in d.regions]
        threads.append(threading.Thread(target=nemesis))
        [t.start() for t in threads]
        time.sleep(duration_s)
        stop.set()
        [t.join() for t in threads]
        d.heal()
        where = f"(seed={seed}, witness={witness})"
        assert not surprises, f"unexpected errors {surprises[:5]} {where}"
        final = {}
        for r in d.regions:
            c = client(d, r)
            final[r] = {k: retry_until(lambda: elements(c.get_item(
                TableName="mrsc", Key=key(k), ConsistentRead=True).get("Item")))
                for k in KEYS}
        # A second round of SC reads: every region has applied the same journal prefix.
        for r in d.regions:
            c = client(d, r)
            final[r] = {k: elements(c.get_item(TableName="mrsc", Key=key(k),
                                               ConsistentRead=True).get("Item")) for k in KEYS}
        assert len({repr(v) for v in final.values()}) == 1, f"regions diverge {where}"
        present = {el for xs in final[d.regions[0]].values() for el in xs}
        lost = set(acked) - present
        assert not lost, f"acknowledged writes lost: {sorted(lost)[:5]} {where}"
        ghosts = definite & present
        assert not ghosts, f"definitely failed writes applied: {sorted(ghosts)[:5]} {where}"
        assert present <= set(acked) | unknown, where
        for began, k, seen in reads:
            must = {el for el, t in acked.items() if t < began}
            keyed = {el for el in must if el in
                     {x for x in final[d.regions[0]][k]}}
            assert keyed <= seen, f"stale SC read of {k} {where}"
        orders = {r: stream_records(d, r) for r in d.regions}
        first = orders[d.regions[0]]
        for r in d.regions:
            assert orders[r] == first, f"{r}'s stream differs from {d.regions[0]}'s {where}"
        assert len(first) == len(present)
        assert len(acked) > 30, f"too little progress {where}"
        assert len(definite) + len(unknown) > 0, f"the nemesis caused no failure {where}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_random_faults_three_replicas(seed):
    run(seed, witness=False, duration_s=4.0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21])
def test_random_faults_two_replicas_and_witness(seed):
    run(seed, witness=True, duration_s=4.0)
