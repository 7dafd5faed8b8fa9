"""What a target is, and the boto3 control-plane calls that provision a global table.

A target is the system under test seen from the harness: it knows its regions, its
replication mode (async or strong), an optional witness region, how to create and delete
the global table, and how to make a boto3 DynamoDB client bound to one region. Optional
abilities are separate small protocols a nemesis or the runner checks for at run time
(ARCHITECTURE.md, "Roles"): `FaultInjector` (the emulator's admin fault API) and
`VersionSource` (the emulator's per-region last-writer-wins version metadata).

Provisioning goes through exactly the calls a user would make on AWS (SEMANTICS.md, "API
facts"): CreateTable in the first region; then async replicas are added one UpdateTable
`ReplicaUpdates` Create at a time, while MRSC is set up in one UpdateTable call with the
other replicas, the witness and `MultiRegionConsistency: STRONG`. Deletion removes the
replicas (and witness) with UpdateTable and then deletes the table, so the same code runs
unchanged against the emulator and against real regions.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

from botocore.config import Config

from suite.errors import BadInput, SetupError

MODES = ("async", "strong")
KEY_ATTRIBUTE = "pk"

# Control-plane calls are not recorded in a history, so boto3 may retry them as it likes.
CONTROL_PLANE_CONFIG = Config(retries={"max_attempts": 8, "mode": "standard"},
                              connect_timeout=2, read_timeout=30)
# The liveness probe at start: a dead endpoint must fail set-up quickly, not after backoff.
PROBE_CONFIG = Config(retries={"total_max_attempts": 2, "mode": "standard"},
                      connect_timeout=2, read_timeout=10)


@runtime_checkable
class Target(Protocol):
    """The system under test: regions, mode, table lifecycle, one boto3 client per region.

    The harness's protocol (suite/protocols.py) plus `name`, `witness`, `describe()` and a
    `config=` on `client` (the workloads pass their one-attempt botocore Config).
    """

    name: str
    mode: str
    regions: tuple[str, ...]
    witness: str | None

    def setup(self, test: Any) -> None: ...
    def create_table(self, test: Any, table: str) -> None: ...
    def delete_table(self, test: Any, table: str) -> None: ...
    def client(self, region: str, *, config: Config | None = None) -> Any: ...
    def teardown(self, test: Any) -> None: ...
    def describe(self) -> dict: ...


@runtime_checkable
class FaultInjector(Protocol):
    """The emulator's fault API: `action` as in docs/CONVENTIONS.md, `value` its target."""

    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict: ...


@runtime_checkable
class VersionSource(Protocol):
    """Per-region item version metadata: {region: {key: {value, timestamp, origin}}}
    (every key of the table, or only `keys` when given)."""

    def versions(self, table: str, keys: Sequence[str] | None = None) -> dict: ...


class RegionClients:
    """boto3 clients bound to one region each, from one session.

    `endpoints` maps a region to its endpoint URL (None: the region's AWS endpoint). Client
    creation is serialised (a boto3 session is not thread-safe for it); control-plane
    clients (retries on) are cached per region; `probe` checks every region answers, with
    few retries, so a dead endpoint fails set-up quickly and clearly.
    """

    def __init__(self, session: Any, endpoints: Mapping[str, str | None]):
        self.session = session
        self.endpoints = dict(endpoints)
        self._lock = threading.Lock()
        self._control: dict[str, Any] = {}

    def client(self, region: str, *, config: Config | None = None) -> Any:
        if region not in self.endpoints:
            raise BadInput(f"region {region!r} is not one of this target's "
                           f"{list(self.endpoints)}")
        with self._lock:
            return self.session.client("dynamodb", endpoint_url=self.endpoints[region],
                                       region_name=region, config=config)

    def control(self, region: str) -> Any:
        c = self._control.get(region)
        if c is None:
            c = self._control[region] = self.client(region, config=CONTROL_PLANE_CONFIG)
        return c

    def probe(self, regions: Sequence[str]) -> None:
        for r in regions:
            try:
                self.client(r, config=PROBE_CONFIG).list_tables(Limit=1)
            except Exception as e:  # noqa: BLE001 -- reported as a set-up failure
                where = self.endpoints[r] or "its AWS endpoint"
                raise SetupError(f"region {r} at {where} does not answer: {e}") from None

    def clear(self) -> None:
        self._control.clear()


class RegionClientsTarget:
    """The Target methods every boto3-backed target shares, over its `_clients`
    (a RegionClients): probe at set-up, one client per region, cached control clients."""

    regions: tuple[str, ...]
    _clients: RegionClients

    def setup(self, test: Any = None) -> None:
        """Nothing to start; check every region answers, so set-up fails early and clearly."""
        self._clients.probe(self.regions)

    def teardown(self, test: Any = None) -> None:
        self._clients.clear()

    def client(self, region: str, *, config: Config | None = None) -> Any:
        return self._clients.client(region, config=config)

    def _control_client(self, region: str) -> Any:
        return self._clients.control(region)


def check_topology(mode: str, regions: Sequence[str], witness: str | None) -> None:
    """Reject a region set the mode cannot have, before anything is started."""
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r} (expected async or strong)")
    if len(set(regions)) != len(regions) or not regions:
        raise BadInput(f"regions must be distinct and non-empty, got {list(regions)}")
    if witness is not None and witness in regions:
        raise BadInput(f"the witness {witness} cannot also be a replica region")
    if mode == "async":
        if witness is not None:
            raise BadInput("a witness exists only in strong (MRSC) mode")
        return
    participants = len(regions) + (1 if witness else 0)
    if participants != 3 or len(regions) < 2:
        raise BadInput("strong (MRSC) mode needs exactly three participants: three "
                       f"regions, or two regions and a witness (got regions={list(regions)}, "
                       f"witness={witness})")


@dataclass(frozen=True)
class GlobalTableProvisioner:
    """Creates and deletes one global table through boto3 control-plane calls.

    `control_client(region)` returns a boto3 client with retries on (control-plane calls
    are not part of the history). `poll_s` and `timeout_s` bound every wait.
    """

    control_client: Callable[[str], Any]
    mode: str
    regions: tuple[str, ...]
    witness: str | None = None
    poll_s: float = 0.05
    timeout_s: float = 120.0

    def create(self, table: str) -> None:
        home = self.regions[0]
        c = self.control_client(home)
        c.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self._wait_active(table)
        others = self.regions[1:]
        if self.mode == "strong":
            kwargs: dict[str, Any] = {
                "TableName": table,
                "ReplicaUpdates": [{"Create": {"RegionName": r}} for r in others],
                "MultiRegionConsistency": "STRONG",
            }
            if self.witness:
                kwargs["GlobalTableWitnessUpdates"] = [{"Create": {"RegionName": self.witness}}]
            c.update_table(**kwargs)
            self._wait_active(table)
        else:
            for r in others:  # async replicas are added one call at a time
                c.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": r}}])
                self._wait_active(table)

    def delete(self, table: str) -> None:
        home = self.regions[0]
        c = self.control_client(home)
        others = self.regions[1:]
        if self.mode == "strong":
            kwargs: dict[str, Any] = {"TableName": table,
                                      "ReplicaUpdates": [{"Delete": {"RegionName": r}}
                                                         for r in others]}
            if self.witness:
                kwargs["GlobalTableWitnessUpdates"] = [{"Delete": {"RegionName": self.witness}}]
            if others:
                c.update_table(**kwargs)
                self._wait_active(table, replicas_gone=True)
        else:
            for r in others:
                c.update_table(TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": r}}])
                self._wait_active(table, replicas_gone=True)
        c.delete_table(TableName=table)

    def _wait_active(self, table: str, *, replicas_gone: bool = False) -> None:
        c = self.control_client(self.regions[0])
        deadline = time.monotonic() + self.timeout_s
        last: dict = {}
        while time.monotonic() < deadline:
            last = c.describe_table(TableName=table)["Table"]
            statuses = [r.get("ReplicaStatus") for r in last.get("Replicas", [])]
            statuses += [w.get("WitnessStatus") for w in last.get("GlobalTableWitnesses", [])]
            if last.get("TableStatus") == "ACTIVE" and all(s == "ACTIVE" for s in statuses) \
                    and not (replicas_gone and any(s == "DELETING" for s in statuses)):
                return
            if any(s == "CREATION_FAILED" for s in statuses):
                raise SetupError(f"table {table}: a replica failed to create: {last.get('Replicas')}")
            time.sleep(self.poll_s)
        raise SetupError(f"table {table} did not become ACTIVE within {self.timeout_s}s "
                         f"(last status {last.get('TableStatus')}, replicas {last.get('Replicas')})")
