"""The replication-engine seam: how a global table's writes and reads are carried out.

The HTTP layer (emulator/dataplane.py) knows DynamoDB's API; it does not know how a write
reaches other regions. For each global table it holds one `ReplicationEngine` and turns
every request into calls on it:

- a write (PutItem, UpdateItem, DeleteItem, one BatchWriteItem entry, a whole
  TransactWriteItems) becomes a list of `Mutation`s, each a key plus a pure function
  `compute(old_item) -> new_item | None (delete) | UNCHANGED` that raises `DynamoError`
  (ConditionalCheckFailedException, ValidationException, ...) when the request must fail.
  `engine.write(region, mutations)` applies all of them atomically in `region` (or none)
  and returns one `WriteOutcome(old, new)` per mutation, from which the HTTP layer builds
  ReturnValues. When `write` returns, the write is acknowledged to the client.
- a read is `engine.get(region, key, consistent)` / `engine.scan(region, consistent)`.
  ConsistentRead=True is an SC read, False an EC read.

An engine may block the calling thread (each HTTP connection has its own thread) and may
raise `DynamoError` for any condition the real service reports (e.g. an MRSC region cut off
from its quorum raising on writes and SC reads, or ReplicatedWriteConflictException).

Two engines exist:
- `AsyncEngine` (emulator/replication.py, MultiRegionConsistency EVENTUAL): local write
  under the region lock, stamp (timestamp, origin), ack; one replicator per ordered region
  pair ships the change stream over the direct WAN link; LWW at the destination.
- the MRSC engine (emulator/mrsc*.py, MultiRegionConsistency STRONG), built on the
  multi-region journal in emulator/journal/; it registers itself with
  `register_engine("STRONG", factory)` when `emulator.mrsc` is imported.

An engine is built by a factory from an `EngineContext`: the table's description, its
per-region storage (`TableReplica`, emulator/store.py: leader + follower copies, version
metadata, change stream, the region lock), the WAN model (emulator/wan.py: `send` with per
link delay and cut/isolation, `route` over live links, `subscribe` to fault changes, and the
`Scheduler`), the regions' clocks (skewable), the replication-pause state, and a seeded
random generator. Fault changes (link cut/heal, isolation, region stop/start, pause/resume
replication, clock skew) reach the engine through `faults_changed()`; region stop/start
also closes/reopens the region's HTTP endpoint, which the HTTP layer does itself.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Protocol, Sequence, runtime_checkable

from emulator.store import Item, Key, RegionClock, TableReplica, Version
from emulator.wan import Wan


class _Unchanged:
    """Sentinel: a mutation that checks a condition but writes nothing (ConditionCheck)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


class Mutation(NamedTuple):
    """One item's change inside a write request.

    `key` is the canonical key (emulator.attrs.item_key), `keys` its key attributes in
    DynamoDB JSON (for stream records). `compute(old)` gets the current item (None if
    absent) and returns the new item, None to delete, or UNCHANGED; it is pure and may be
    called more than once (an MRSC engine calls it again after a conflict), and raises
    DynamoError to fail the request.
    """

    key: Key
    keys: Item
    compute: Callable[[Item | None], Any]


class WriteOutcome(NamedTuple):
    old: Item | None
    new: Item | None
    changed: bool  # False when compute returned UNCHANGED


@dataclass
class ReplicationPause:
    """Which regions have replication paused (A13, FIS pause-replication).

    `all` pauses every replicator; a region in `regions` pauses every replicator into or
    out of it.
    """

    all: bool = False
    regions: set[str] = field(default_factory=set)
    # Regions frozen by the `pause` fault (a region's processes stopped, like SIGSTOP):
    # nothing replicates into or out of them; MRSC freezes their journal participant.
    frozen: set[str] = field(default_factory=set)

    def paused(self, src: str, dst: str) -> bool:
        return (self.all or src in self.regions or dst in self.regions
                or src in self.frozen or dst in self.frozen)


@dataclass
class TableDescription:
    """What an engine needs to know about its table."""

    name: str
    hash_key: str
    range_key: str | None
    mode: str  # "EVENTUAL" | "STRONG"
    witness: str | None = None


@dataclass
class EngineContext:
    table: TableDescription
    replicas: dict[str, TableReplica]  # region -> storage; the replica regions of the table
    wan: Wan
    clocks: dict[str, RegionClock]  # every region of the deployment, witness included
    pause: ReplicationPause
    rng: random.Random
    settings: dict[str, Any] = field(default_factory=dict)  # engine knobs (jitter, ...)
    lock: threading.RLock = field(default_factory=threading.RLock)  # guards `replicas` changes


@runtime_checkable
class ReplicationEngine(Protocol):
    """One global table's replication strategy (see the module docstring)."""

    mode: str  # "EVENTUAL" | "STRONG"

    def write(self, region: str, mutations: Sequence[Mutation]) -> list[WriteOutcome]:
        """Apply `mutations` atomically in `region` and return once acknowledged."""
        ...

    def get(self, region: str, key: Key, consistent: bool) -> Item | None:
        """Read one item in `region` (SC when `consistent`, else EC)."""
        ...

    def scan(self, region: str, consistent: bool) -> list[Item]:
        """All live items of the table in `region`, in key order."""
        ...

    def add_replica(self, region: str, replica: TableReplica) -> None:
        """A replica was added in `region` (its storage already holds the copied items)."""
        ...

    def remove_replica(self, region: str) -> None:
        ...

    def faults_changed(self) -> None:
        """The WAN, a region's up/down state, replication pause or a clock changed."""
        ...

    def versions(self, key: Key) -> dict[str, Version | None]:
        """Per replica region, the leader's version of `key` (admin metadata API)."""
        ...

    def status(self) -> dict:
        """JSON-able state for the fault API's `status` (backlogs, positions, ...)."""
        ...

    def close(self) -> None:
        ...


EngineFactory = Callable[[EngineContext], ReplicationEngine]
_ENGINES: dict[str, EngineFactory] = {}


def register_engine(mode: str, factory: EngineFactory) -> None:
    """Make `factory` build the engine of tables whose MultiRegionConsistency is `mode`."""
    _ENGINES[mode] = factory


def engine_factory(mode: str) -> EngineFactory | None:
    """The factory for `mode`, importing the MRSC engine on first use of STRONG."""
    if mode not in _ENGINES and mode == "STRONG":
        try:
            import emulator.mrsc  # noqa: F401  (registers itself)
        except ImportError:
            return None
    if mode not in _ENGINES and mode == "EVENTUAL":
        import emulator.replication  # noqa: F401  (registers itself)
    return _ENGINES.get(mode)

