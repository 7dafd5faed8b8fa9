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
import weakref
import time
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, Sequence,
                    runtime_checkable)

if TYPE_CHECKING:  # botocore is imported when a client is made, not by help texts
    from botocore.config import Config

from suite.errors import BadInput, SetupError

MODES = ("async", "strong")
KEY_ATTRIBUTE = "pk"

def control_plane_config() -> "Config":
    """Control-plane calls are not recorded in a history, so boto3 may retry them as it
    likes."""
    from botocore.config import Config
    return Config(retries={"max_attempts": 8, "mode": "standard"},
                  connect_timeout=2, read_timeout=30)


def probe_config() -> "Config":
    """The liveness probe at start: a dead endpoint must fail set-up quickly, not after
    backoff."""
    from botocore.config import Config
    return Config(retries={"total_max_attempts": 2, "mode": "standard"},
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


_SESSION_LOCKS: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_SESSION_LOCKS_GUARD = threading.Lock()


def session_lock(session: Any) -> threading.Lock:
    """The one lock that serialises client creation from `session` (a boto3 session is
    not thread-safe for it), shared by every RegionClients over that session."""
    with _SESSION_LOCKS_GUARD:
        lock = _SESSION_LOCKS.get(session)
        if lock is None:
            lock = _SESSION_LOCKS[session] = threading.Lock()
        return lock


class RegionClients:
    """boto3 clients bound to one region each, from one session.

    `endpoints` maps a region to its endpoint URL (None: boto3's own choice, which honours
    `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB`, else the region's AWS endpoint).
    Client creation is serialised (a boto3 session is not thread-safe for it);
    control-plane clients (retries on) are cached per region; `probe` checks every region
    answers, with few retries, so a dead endpoint fails set-up quickly and clearly.
    Every data-plane client (not the control-plane ones) passes its requests through
    `hooks` (suite/targets/client_faults.py: client-side faults, a request budget).
    """

    def __init__(self, session: Any, endpoints: Mapping[str, str | None]):
        from suite.targets.client_faults import ClientHooks
        self.session = session
        self.endpoints = dict(endpoints)
        self._lock = session_lock(session)
        self._control: dict[str, Any] = {}
        self.hooks = ClientHooks()

    def client(self, region: str, *, config: Config | None = None,
               service: str = "dynamodb", data_plane: bool = True) -> Any:
        if region not in self.endpoints and service == "dynamodb":
            raise BadInput(f"region {region!r} is not one of this target's "
                           f"{list(self.endpoints)}")
        with self._lock:
            c = self.session.client(service, endpoint_url=self.endpoints.get(region),
                                    region_name=region, config=config)
        if data_plane and service == "dynamodb":
            self.hooks.install(c, region)
        return c

    def control(self, region: str) -> Any:
        c = self._control.get(region)
        if c is None:
            c = self._control[region] = self.client(region, config=control_plane_config(),
                                                    data_plane=False)
        return c

    def probe(self, regions: Sequence[str]) -> None:
        for r in regions:
            try:
                self.client(r, config=probe_config(), data_plane=False).list_tables(Limit=1)
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

    def streams_client(self, region: str, *, config: Config | None = None) -> Any:
        """A `dynamodbstreams` client for `region` (the streams workload's consumers)."""
        return self._clients.client(region, config=config, service="dynamodbstreams",
                                    data_plane=False)

    def _control_client(self, region: str) -> Any:
        return self._clients.control(region)

    def client_fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        """Client-side faults (suite/targets/client_faults.py), on any boto3 target."""
        return self._clients.hooks.fault(action, value)


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
    from emulator.mrsc_setup import check_participants  # AWS's MRSC region sets, one table
    try:
        check_participants(regions, witness)
    except Exception as e:  # noqa: BLE001 -- its ValidationException, as the service words it
        raise BadInput(f"--regions: {getattr(e, 'message', None) or e}") from None


class NotCreated(SetupError):
    """CreateTable was refused: nothing of the table exists, so nothing is to be deleted."""


class SetupInterrupted(SetupError):
    """The run was asked to stop (Ctrl-C, SIGTERM) while its table was being set up."""


# Control-plane refusals that only mean "not now": the table is CREATING / UPDATING
# (ResourceInUseException) or the account has too many table operations in progress
# (LimitExceededException). Both are retried until the deadline.
NOT_NOW = ("ResourceInUseException", "LimitExceededException")
PROGRESS_EVERY_S = 30.0  # a waiting line at least this often, even when nothing changes


def error_code(e: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    response = getattr(e, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


@dataclass(frozen=True)
class GlobalTableProvisioner:
    """Creates and deletes one global table through boto3 control-plane calls.

    `control_client(region)` returns a boto3 client with retries on (control-plane calls
    are not part of the history). `poll_s` and `timeout_s` bound every wait. Waiting is
    what AWS asks of a client whose control plane is slow and eventually consistent
    (emulator/README.md, "The AWS-like control plane"):
    - DescribeTable may answer ResourceNotFoundException right after CreateTable: it is
      asked again until the deadline;
    - a replica or witness not yet listed after UpdateTable is CREATING, not an error --
      unless the home table says ACTIVE, with it unlisted, for `missing_grace_s` (then it
      was never created: moto's server, for one, accepts ReplicaUpdates and creates none);
    - "ready" takes two consecutive reads in which the table and every replica (its own
      DescribeTable in its own region, and the home table's view) are ACTIVE, and, after
      a removal, the removed regions are no longer listed at all;
    - ResourceInUseException and LimitExceededException are "not now": wait, then retry.
    `progress` (if given) hears a line whenever a status changes and every 30 s.
    `cancelled` (if given) is polled while waiting for a creation: when it answers True
    the wait stops with SetupInterrupted (the caller then deletes what exists).
    `tags` are put on the table (CreateTable `Tags`) and on every replica once ACTIVE.
    """

    control_client: Callable[[str], Any]
    mode: str
    regions: tuple[str, ...]
    witness: str | None = None
    poll_s: float = 0.05
    timeout_s: float = 120.0
    progress: Callable[[str], None] | None = None
    tags: Mapping[str, str] | None = None
    missing_grace_s: float = 5.0
    cancelled: Callable[[], bool] | None = None

    def _polls(self) -> Iterator[float]:
        """Sleeps between polls: from 10 ms doubling up to `poll_s` (a fast endpoint is
        not kept waiting -- the emulator's instant control plane is ACTIVE at once, and
        its second, confirming read then follows in 10 ms, not 50; a slow control plane
        is not polled needlessly often)."""
        wait = min(0.01, self.poll_s)
        while True:
            yield wait
            wait = min(self.poll_s, wait * 2)

    def _check_cancel(self, table: str) -> None:
        if self.cancelled is not None and self.cancelled():
            raise SetupInterrupted(f"set-up of table {table} interrupted")

    def _change(self, table: str, call: Callable[..., Any], *,
                retry: Sequence[str] = NOT_NOW, **kwargs: Any) -> Any:
        """One control-plane change, retried while AWS says "not now" (NOT_NOW), waiting
        for the table to be ACTIVE again after a ResourceInUseException."""
        deadline = time.monotonic() + self.timeout_s
        polls = self._polls()
        while True:
            try:
                return call(**kwargs)
            except Exception as e:  # noqa: BLE001 -- re-raised unless "not now"
                code = error_code(e)
                if code not in retry or time.monotonic() >= deadline:
                    raise
                self._say(f"{getattr(call, '__name__', 'control-plane call')} on {table}: "
                          f"{code}; waiting, then trying again")
                if code == "ResourceInUseException":
                    self._wait_active(table)
                else:
                    time.sleep(next(polls))

    def create(self, table: str) -> None:
        home = self.regions[0]
        c = self.control_client(home)
        kwargs: dict[str, Any] = dict(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        if self.tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        try:
            self._change(table, c.create_table, retry=("LimitExceededException",), **kwargs)
        except Exception as e:  # noqa: BLE001 -- a definite refusal: nothing was created
            if error_code(e) is not None:
                raise NotCreated(f"CreateTable {table} in {home} refused: {e}") from e
            raise
        self._wait_active(table, cancellable=True)
        others = self.regions[1:]
        if self.mode == "strong":
            kwargs = {
                "TableName": table,
                "ReplicaUpdates": [{"Create": {"RegionName": r}} for r in others],
                "MultiRegionConsistency": "STRONG",
            }
            if self.witness:
                kwargs["GlobalTableWitnessUpdates"] = [{"Create": {"RegionName": self.witness}}]
            self._change(table, c.update_table, **kwargs)
            self.wait_replicas(table, others, witness=self.witness)
        else:
            for r in others:  # async replicas are added one call at a time
                self._change(table, c.update_table, TableName=table,
                             ReplicaUpdates=[{"Create": {"RegionName": r}}])
                self.wait_replicas(table, [r])
        if self.tags:
            for r in others:
                rc = self.control_client(r)
                arn = rc.describe_table(TableName=table)["Table"]["TableArn"]
                rc.tag_resource(ResourceArn=arn,
                                Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()])

    def delete(self, table: str) -> None:
        """Remove the replicas (and witness), waiting until they are gone, then delete
        the table; every call waits for the state that allows it."""
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
                self._change(table, c.update_table, **kwargs)
                self._wait_active(table, gone=[*others, *([self.witness] if self.witness
                                                          else [])])
        else:
            for r in others:
                self._change(table, c.update_table, TableName=table,
                             ReplicaUpdates=[{"Delete": {"RegionName": r}}])
                self._wait_active(table, gone=[r])
        self._change(table, c.delete_table, TableName=table)

    def wait_gone(self, table: str, regions: Sequence[str] | None = None) -> None:
        """Wait until DescribeTable of `table` is ResourceNotFoundException in `regions`
        (default: every replica region), so "deleted" means gone, not DELETING."""
        deadline = time.monotonic() + self.timeout_s
        polls = self._polls()
        for r in regions or self.regions:
            while self._describe(r, table) is not None:
                if time.monotonic() >= deadline:
                    raise SetupError(f"table {table} still exists in {r} after "
                                     f"{self.timeout_s:g}s of deletion")
                time.sleep(next(polls))

    def _describe(self, region: str, table: str) -> dict | None:
        c = self.control_client(region)
        try:
            return c.describe_table(TableName=table)["Table"]
        except c.exceptions.ResourceNotFoundException:
            return None

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    def wait_replicas(self, table: str, regions: Sequence[str], *,
                      witness: str | None = None) -> None:
        """Wait until each of `regions` has its replica ACTIVE (its own DescribeTable in its
        own region, and the home table's Replicas entry), and the witness (if any) ACTIVE
        in the home table's view, in two consecutive reads; SetupError with one line
        otherwise (class docstring)."""
        home = self.regions[0]
        started = time.monotonic()
        deadline = started + self.timeout_s
        said, said_at = None, started
        unlisted_while_active_since: float | None = None
        ready_reads = 0
        polls = self._polls()
        while True:
            self._check_cancel(table)
            now = time.monotonic()
            home_desc = self._describe(home, table) or {}
            listed = {e.get("RegionName"): e.get("ReplicaStatus")
                      for e in home_desc.get("Replicas", [])}
            witnesses = {e.get("RegionName"): e.get("WitnessStatus")
                         for e in home_desc.get("GlobalTableWitnesses", [])}
            states: dict[str, str] = {}
            for r in regions:
                own = self._describe(r, table)
                if r not in listed:
                    states[r] = "CREATING (not listed yet)"
                elif own is None:
                    states[r] = listed[r] or "UNKNOWN"
                elif listed.get(r) == "ACTIVE":
                    states[r] = own.get("TableStatus", "UNKNOWN")
                else:
                    states[r] = listed[r]
            if witness is not None:
                states[f"{witness} (witness)"] = witnesses.get(witness) \
                    or "CREATING (not listed yet)"
            table_status = home_desc.get("TableStatus", "not found yet")
            line = ", ".join(f"{r} {s}" for r, s in states.items())
            if (line, table_status) != said or now - said_at >= PROGRESS_EVERY_S:
                said, said_at = (line, table_status), now
                self._say(f"waiting for replicas ({now - started:.0f}s of at most "
                          f"{self.timeout_s:g}s): {line}; table {table} {table_status} "
                          f"in {home}")
            if all(s == "ACTIVE" for s in states.values()) and table_status == "ACTIVE":
                ready_reads += 1
                if ready_reads >= 2:  # two consecutive ACTIVE reads
                    return
            else:
                ready_reads = 0
            failed = [r for r, s in states.items() if s == "CREATION_FAILED"]
            if failed:
                raise SetupError(f"replica {failed[0]} of table {table} failed to create "
                                 f"(CREATION_FAILED)")
            unlisted = [r for r, s in states.items() if s == "CREATING (not listed yet)"]
            if unlisted and table_status == "ACTIVE":
                if unlisted_while_active_since is None:
                    unlisted_while_active_since = now
                elif now - unlisted_while_active_since >= self.missing_grace_s:
                    r = unlisted[0]
                    if r.endswith(" (witness)"):
                        raise SetupError(f"witness {witness} does not exist after "
                                         "GlobalTableWitnessUpdates Create (this endpoint "
                                         "does not implement MRSC witnesses)")
                    raise SetupError(f"replica {r} does not exist after ReplicaUpdates "
                                     "Create (this endpoint does not implement global-table "
                                     "replicas)")
            else:
                unlisted_while_active_since = None
            if now >= deadline:
                raise SetupError(f"table {table}: replicas not ACTIVE within "
                                 f"{self.timeout_s:g}s ({line})")
            time.sleep(next(polls))

    def _wait_active(self, table: str, *, gone: Sequence[str] = (),
                     cancellable: bool = False) -> dict:
        """Wait until the home table and every listed replica and witness are ACTIVE, and
        none of `gone` is listed any more, in two consecutive reads; the last description.
        ResourceNotFoundException (DescribeTable right after CreateTable) means "ask
        again", until the deadline."""
        home = self.regions[0]
        started = time.monotonic()
        deadline = started + self.timeout_s
        last: dict = {}
        ready_reads = 0
        said, said_at = None, started
        polls = self._polls()
        while time.monotonic() < deadline:
            if cancellable:
                self._check_cancel(table)
            now = time.monotonic()
            last = self._describe(home, table) or {}
            statuses = [r.get("ReplicaStatus") for r in last.get("Replicas", [])]
            statuses += [w.get("WitnessStatus") for w in last.get("GlobalTableWitnesses", [])]
            listed = {r.get("RegionName") for r in last.get("Replicas", [])} | {
                w.get("RegionName") for w in last.get("GlobalTableWitnesses", [])}
            if last.get("TableStatus") == "ACTIVE" and all(s == "ACTIVE" for s in statuses) \
                    and not listed & set(gone):
                ready_reads += 1
                if ready_reads >= 2:
                    return last
            else:
                ready_reads = 0
            if any(s == "CREATION_FAILED" for s in statuses):
                raise SetupError(f"table {table}: a replica failed to create: {last.get('Replicas')}")
            state = (last.get("TableStatus", "not found yet"), tuple(sorted(
                f"{r.get('RegionName')} {r.get('ReplicaStatus')}" for r in last.get("Replicas", []))))
            if state != said or now - said_at >= PROGRESS_EVERY_S:
                said, said_at = state, now
                self._say(f"waiting for table {table} in {home} ({now - started:.0f}s): "
                          f"{state[0]}" + (f"; replicas {', '.join(state[1])}" if state[1]
                                           else ""))
            time.sleep(next(polls))
        raise SetupError(f"table {table} did not become ACTIVE within {self.timeout_s}s "
                         f"(last status {last.get('TableStatus', 'not found')}, replicas "
                         f"{last.get('Replicas')})")
