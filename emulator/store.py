"""One region's copy of one table: items with version metadata, three in-region copies, stream.

This is the storage every replication engine writes into (emulator/engine.py). Per item the
leader copy holds a `Version`: the item (None for a delete: a tombstone, kept so that a
stale replicated write cannot resurrect a deleted item) with its last-writer-wins timestamp
(microseconds, from the accepting region's clock) and origin region (SEMANTICS.md A06).

G2: an item has three copies inside a region. A write is installed in the leader and in one
follower at once (durable in two AZs) and in the last follower after `copy_lag_s`. A strongly
consistent read is served by the leader; an eventually consistent read by the last follower,
so it can be stale even inside one region. Serving EC reads from that one copy (rather than a
random one per request) keeps them monotonic per item and region (A05, which the checkers
judge per region and stream): each copy only ever moves forward.

Every install appends one record to the region's change stream (A07: only applied writes
appear; a dropped stale write appends nothing). The stream is what replicators read and what
the DynamoDB Streams API serves.

Locking: all tables of one region share one re-entrant `lock` (a transaction may span
tables). Engines hold it around read-compute-install.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

Item = dict[str, Any]  # attribute name -> DynamoDB JSON attribute value, e.g. {"S": "x"}
Key = tuple  # canonical item key, see emulator.attrs.item_key

STREAM_RECORDS_MAX = 200_000  # per table per region; older records are trimmed (TRIM_HORIZON moves)
STREAM_REORDER_ONE_IN_N = 4  # mrsc-stream-reorder: one record in N is published late


@dataclass(frozen=True, slots=True)
class Version:
    """An item's state in one region: the item (None = deleted) and its LWW stamp."""

    item: Item | None
    timestamp_us: int
    origin: str

    def stamp(self) -> tuple[int, str]:
        """The last-writer-wins order: timestamp first, then origin region name."""
        return (self.timestamp_us, self.origin)


@dataclass(frozen=True, slots=True)
class StreamRecord:
    sequence: int          # per (table, region), from 1
    event: str             # INSERT | MODIFY | REMOVE
    key: Key
    keys: Item             # the key attributes, DynamoDB JSON
    old: Item | None
    new: Item | None
    timestamp_us: int      # the write's LWW timestamp
    origin: str            # region that accepted the write
    applied_wall_s: float  # when this region applied it (ApproximateCreationDateTime)


class RegionClock:
    """A region's wall clock in microseconds, with a skew a fault can set (A06).

    `stamp(floor_us)` returns a timestamp strictly above every stamp it returned before and
    above `floor_us` (the item's current version), so a local write always wins locally and
    per-region stamps are unique.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        self.skew_us = 0
        self._last = 0
        self._lock = threading.Lock()

    def now_us(self) -> int:
        return time.time_ns() // 1000 + self.skew_us

    def stamp(self, floor_us: int = 0) -> int:
        with self._lock:
            t = max(self.now_us(), self._last + 1, floor_us + 1)
            self._last = t
            return t

    def skew(self, ms: float) -> None:
        self.skew_us = int(ms * 1000)


class TableReplica:
    """One table's data in one region (leader + followers) and its change stream."""

    def __init__(self, table: str, region: str, *, lock: threading.RLock,
                 call_later: Callable[[float, Callable[[], None]], None],
                 copies: int = 3, copy_lag_s: float = 0.0, bugs: Any = None,
                 extra_lag_s: Callable[[], float] = lambda: 0.0) -> None:
        if copies < 1:
            raise ValueError("a region needs at least one copy")
        self.table = table
        self.region = region
        self.lock = lock
        self._call_later = call_later
        self.copy_lag_s = copy_lag_s
        self.extra_lag_s = extra_lag_s   # the `lag-copy` fault's extra lag in this region
        self.bugs = bugs if bugs is not None else frozenset()
        # copies[0] is the leader; copies[1] is written with it; the rest lag.
        self.copies: list[dict[Key, Version]] = [dict() for _ in range(copies)]
        self.stream: list[StreamRecord] = []
        self.stream_trimmed = 0  # records dropped from the front (their sequence numbers are gone)
        self._sequence = 0
        self.stream_listeners: list[Callable[[StreamRecord], None]] = []
        # Called with (key, version) for every version installed or loaded, under `lock`,
        # whether or not it makes a stream record (emulator/indexes.py: GSIs follow it).
        self.install_listeners: list[Callable[[Key, Version], None]] = []
        self.mrsc = False  # set by the MRSC engine (a bug switch lives only there)
        self._held: dict[Key, tuple[Item, Item | None, Version]] = {}  # mrsc-stream-reorder

    @property
    def leader(self) -> dict[Key, Version]:
        return self.copies[0]

    # ---- reads ---------------------------------------------------------------------
    def current(self, key: Key) -> Version | None:
        """The leader's version of `key` (tombstones included)."""
        return self.copies[0].get(key)

    def copy_for_read(self, consistent: bool) -> dict[Key, Version]:
        """The copy a read is served from: the leader for SC, the last follower for EC (G2)."""
        if consistent:
            return self.copies[0]
        if "ec-read-goes-back" in self.bugs:
            # BUG (emulator/bugs.py): spread EC reads over every copy, request by request;
            # a lagging copy then answers after the leader did, and the read goes back.
            return self.bugs.choice(self.copies)
        return self.copies[-1]

    def get(self, key: Key, consistent: bool) -> Item | None:
        v = self.copy_for_read(consistent).get(key)
        return None if v is None else v.item

    def items(self, consistent: bool) -> list[Item]:
        """Snapshot of the live items of one copy, in key order."""
        copy = self.copy_for_read(consistent)
        with self.lock:
            return [v.item for k, v in sorted(copy.items(), key=_key_order) if v.item is not None]

    def live_count(self) -> int:
        return sum(1 for v in self.copies[0].values() if v.item is not None)

    # ---- writes --------------------------------------------------------------------
    def install(self, key: Key, keys: Item, version: Version, *,
                record: bool = True) -> StreamRecord | None:
        """Install `version` of `key` (caller holds `lock` and has decided it wins).

        Writes the leader and the first follower now, the other followers after
        `copy_lag_s` (plus the `lag-copy` fault's extra lag while it is in force; a copy
        never takes an older version over a newer one, so a lag that changes cannot make
        it go back), and appends a stream record (`record=False` only for a bug switch:
        emulator/bugs.py replicated-write-no-record). Deleting an absent item appends none
        (DynamoDB emits no REMOVE for an item that did not exist).
        """
        old = self.copies[0].get(key)
        old_item = None if old is None else old.item
        for copy in self.copies[:2]:
            copy[key] = version
        for fn in self.install_listeners:
            fn(key, version)
        if len(self.copies) > 2:
            lagging = self.copies[2:]
            lag_s = self.copy_lag_s + self.extra_lag_s()
            if lag_s <= 0:
                for copy in lagging:
                    copy[key] = version
            else:
                self._call_later(lag_s, lambda: self._catch_up(lagging, key, version))
        if not record:
            return None
        return self.append_record(key, keys, old_item, version)

    def append_record(self, key: Key, keys: Item, old_item: Item | None,
                      version: Version) -> StreamRecord | None:
        """Append the stream record of a change from `old_item` to `version` (caller holds
        `lock`); None when nothing changed (a delete of an absent item)."""
        if old_item is None and version.item is None:
            return None
        held = self._held.pop(key, None)
        if "mrsc-stream-reorder" in self.bugs and self.mrsc and held is None \
                and self.bugs.one_in(STREAM_REORDER_ONE_IN_N):
            # BUG (emulator/bugs.py): the stream writer buffers this item's record and
            # publishes it after the item's next one, so it gets the later sequence number.
            self._held[key] = (keys, old_item, version)
            return None
        rec = self._publish(key, keys, old_item, version)
        if held is not None:
            self._publish(key, held[0], held[1], held[2])
        return rec

    def _publish(self, key: Key, keys: Item, old_item: Item | None,
                 version: Version) -> StreamRecord:
        event = "INSERT" if old_item is None else ("REMOVE" if version.item is None else "MODIFY")
        self._sequence += 1
        rec = StreamRecord(self._sequence, event, key, keys, old_item, version.item,
                           version.timestamp_us, version.origin, time.time())
        self.stream.append(rec)
        if len(self.stream) > STREAM_RECORDS_MAX:
            drop = len(self.stream) - STREAM_RECORDS_MAX
            del self.stream[:drop]
            self.stream_trimmed += drop
        for fn in self.stream_listeners:
            fn(rec)
        return rec

    def _catch_up(self, copies: list[dict[Key, Version]], key: Key, version: Version) -> None:
        with self.lock:
            for copy in copies:
                cur = copy.get(key)
                if cur is None or cur.stamp() < version.stamp():
                    copy[key] = version

    def load(self, versions: dict[Key, Version]) -> None:
        """Seed every copy with `versions` (replica creation copies existing items; no
        stream records, as in DynamoDB's initial replica sync)."""
        with self.lock:
            for copy in self.copies:
                copy.update(versions)
            for fn in self.install_listeners:
                for key, version in versions.items():
                    fn(key, version)

    def stream_since(self, sequence: int, limit: int) -> Iterator[StreamRecord]:
        """Records with sequence > `sequence`, at most `limit`."""
        with self.lock:
            start = max(0, sequence - self.stream_trimmed)
            return iter(self.stream[start:start + limit])


def _key_order(kv: tuple[Key, Version]) -> tuple:
    return kv[0]
