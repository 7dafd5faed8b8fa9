"""Test doubles for the runner's tests: an in-memory register client, a nemesis that only
records, and a target that is nothing but a dict. The runner is what is under test here,
not a database, so these stand in for the real parts (the end-to-end tests use the
emulator over boto3). `register_fakes()` puts them in the registries under the names
"fake" (target), "fake-register" (workload) and "fake-isolate" (nemesis), which is also
what the subprocess scripts of the kill tests use.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from suite import generator as g
from suite import registry
from suite.protocols import NemesisPackage, Workload


class FakeDB:
    """Shared state of all fake clients, plus a log of their lifecycle calls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.values: dict[str, Any] = {}
        self.opened: list[str] = []
        self.closed = 0
        self.setups: list[str] = []
        self.teardowns: list[str] = []
        self.release = threading.Event()  # lets "hang" operations finish


class FakeClient:
    """A register per key. f: read / write (ok), cas-fail (fail), boom (raises),
    hang (blocks until db.release), junk (returns a non-completion)."""

    def __init__(self, db: FakeDB, region: str | None = None, latency_s: float = 0.001):
        self.db = db
        self.region = region
        self.latency_s = latency_s

    def open(self, test, region):
        with self.db.lock:
            self.db.opened.append(region)
        return FakeClient(self.db, region, self.latency_s)

    def setup(self, test):
        self.db.setups.append(self.region)

    def invoke(self, test, op):
        time.sleep(self.latency_s)
        f = op["f"]
        if f == "write":
            with self.db.lock:
                self.db.values[op["key"]] = op["value"]
            return {"type": "ok"}
        if f == "read":
            with self.db.lock:
                return {"type": "ok", "value": self.db.values.get(op["key"])}
        if f == "cas-fail":
            return {"type": "fail", "error": "ConditionalCheckFailed"}
        if f == "boom":
            raise ConnectionError("connection reset by peer")
        if f == "hang":
            self.db.release.wait(10)
            return {"type": "ok"}
        if f == "junk":
            return "not a completion"
        raise ValueError(f"fake client: unknown f {f!r}")

    def teardown(self, test):
        self.db.teardowns.append(self.region)

    def close(self, test):
        with self.db.lock:
            self.db.closed += 1


class FakeNemesis:
    """Records the faults it is asked to inject; every operation succeeds."""

    def __init__(self):
        self.ops: list[str] = []
        self.torn_down = False

    def setup(self, test):
        return self

    def invoke(self, test, op):
        self.ops.append(op["f"])
        return {"type": "ok"}

    def teardown(self, test):
        self.torn_down = True

    def fs(self):
        return {"isolate", "heal"}


class FakeTarget:
    """A target with no database behind it; records its lifecycle."""

    def __init__(self, test):
        self.regions = tuple(test.regions)
        self.mode = test.mode
        self.events: list[str] = []

    def setup(self, test):
        self.events.append("setup")

    def create_table(self, test, table):
        self.events.append(f"create {table}")

    def delete_table(self, test, table):
        self.events.append(f"delete {table}")

    def client(self, region):
        raise NotImplementedError("the fake target has no boto3 clients")

    def teardown(self, test):
        self.events.append("teardown")

    def versions(self, table):
        return {r: {"k0": {"value": 1, "timestamp": 1, "origin": r}} for r in self.regions}


def client_generator(seed: int, keys: int = 3, rate_per_s: float = 500.0):
    """Random reads and writes of unique values over a few keys, at about `rate_per_s`."""
    counter = iter(range(1, 10**9))

    def op(rng):
        key = f"k{rng.randrange(keys)}"
        if rng.random() < 0.5:
            return {"f": "read", "key": key, "consistent": True}
        return {"f": "write", "key": key, "value": next(counter)}

    return g.rate(rate_per_s, g.seeded(op, seed), seed=seed + 1)


def nemesis_schedule(interval_s: float = 0.05):
    return g.cycle([g.sleep(interval_s), {"f": "isolate", "value": {"region": "us-east-2"}},
                    g.sleep(interval_s), {"f": "heal"}])


def final_reads(keys: int = 3):
    return g.each_thread([{"f": "read", "key": f"k{i}", "consistent": True}
                          for i in range(keys)])


DB = FakeDB()
LAST: dict[str, Any] = {}


def build_workload(test, target):
    LAST["target"] = target
    return Workload(client=FakeClient(DB), generator=client_generator(test.seed),
                    final_generator=final_reads(), table="fake")


def build_nemesis(test, target):
    n = FakeNemesis()
    LAST["nemesis"] = n
    return NemesisPackage(n, nemesis_schedule(), [{"f": "heal"}], name="fake-isolate")


def register_fakes() -> None:
    registry.register_target("fake", FakeTarget)
    registry.register_workload("fake-register", build_workload, lambda test: {},
                               description="in-memory register (tests only)")
    registry.register_nemesis("fake-isolate", build_nemesis)


def isolated_registries(monkeypatch) -> None:
    """For a test: the real plugins loaded (into the real registries, once), then copies
    of the registries with the fakes added, restored after the test by `monkeypatch`."""
    registry.load_plugins()
    for name in ("TARGETS", "WORKLOADS", "NEMESES"):
        monkeypatch.setattr(registry, name, dict(getattr(registry, name)))
    register_fakes()
