"""Time to Live: the background sweeper that deletes expired items, late, as DynamoDB does.

DynamoDB's TTL (SEMANTICS.md A12) does not delete an item the moment its expiry attribute
(a Number of epoch seconds) passes: "DynamoDB deletes expired items on a best-effort
basis ... typically ... within two days of expiration. ... Items that have expired and not
been deleted will still show up in reads, queries, and scans" (AWS API Reference,
UpdateTimeToLive). On a global table the TTL delete happens in one region and is then
replicated like any delete: "TTL deletions can be identified in DynamoDB Streams, but only
in the Region where the deletion occurred. TTL deletions that are replicated to global
table regions are not identifiable in DynamoDB streams in the regions the deletion is
replicated to" (AWS Developer Guide, "Working with expired items and time to live").
So here the region whose clock accepted an item's current version (its
origin) is the one that expires it, through the table's replication engine like a client's
DeleteItem (stamped, in the change stream, replicated by the async replicators), after a
seeded random delay from the moment its sweep first found the item expired; the delete
re-checks the expiry under the region lock, so an item written again meanwhile with a
later expiry survives. Other regions' sweeps leave it to the replicated delete.

The delay is scaled with the WAN (`--latency-scale`) and bounded -- sweep period plus
delay at most `TTL_SWEEP_S + TTL_DELAY_MAX_S` at scale 1 (0.3 s), always under the quiet
reads' settle time and the final wait -- because a checker must be able to say when a
TTL delete has surely landed; real DynamoDB gives no such bound, which is why the
workloads make expiring items only against the emulator. (The emulator's stream records
of TTL deletes are ordinary REMOVEs; AWS marks the originating region's with a service
user identity, which nothing here reads.)

`ttl-delete-not-replicated` (emulator/bugs.py) is the mistake of writing the TTL delete
straight into the region's storage, below its change stream: the item disappears where it
expired and lives on everywhere else. `ttl-delete-without-recheck` is the mistake of
deleting what the sweep found without looking at the item again: an expiry extended
between the sweep and the delete is ignored.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable

from emulator.engine import UNCHANGED, Mutation
from emulator.store import Version

TTL_SWEEP_S = 0.1         # sweep period at latency scale 1
TTL_SWEEP_MIN_S = 0.02    # never sweep more often (each sweep reads every TTL table)
TTL_DELAY_MAX_S = 0.2     # an expired item is deleted up to this long after it is found
PENDING_MAX = 100_000     # expired items awaiting their delete, per sweeper


def expired(item: dict | None, attr: str, now_s: float) -> bool:
    """TTL: a Number attribute holding epoch seconds in the past (other types never expire)."""
    if item is None or "N" not in item.get(attr, {}):
        return False
    try:
        return float(item[attr]["N"]) < now_s
    except ValueError:
        return False


def sweep_period_s(latency_scale: float) -> float:
    return max(TTL_SWEEP_MIN_S, TTL_SWEEP_S * latency_scale)


def settle_s(latency_scale: float) -> float:
    """The longest a TTL delete can take after the expiry, before replication."""
    return sweep_period_s(latency_scale) + TTL_DELAY_MAX_S * latency_scale


class TtlSweeper:
    """Every region's TTL process for every async table with TTL enabled (module doc)."""

    def __init__(self, tables: Callable[[], list], region_up: Callable[[str], bool],
                 call_later: Callable[[float, Callable[[], None]], None], *,
                 latency_scale: float, seed: int, bugs: Any) -> None:
        self._tables = tables
        self._region_up = region_up
        self._call_later = call_later
        self.latency_scale = latency_scale
        self.period_s = sweep_period_s(latency_scale)
        self.bugs = bugs
        self._rng = random.Random(f"gtcheck-ttl:{seed}")
        self._due: dict[tuple, float] = {}   # (table id, region, key) -> delete time
        self._found: dict[tuple, dict] = {}  # ttl-delete-without-recheck: slot -> item found
        self._lock = threading.Lock()
        self.deleted = 0
        self._closed = False

    def pending(self) -> int:
        """How many items found expired await their delete."""
        with self._lock:
            return len(self._due)

    def start(self) -> None:
        self._call_later(self.period_s, self._tick)

    def close(self) -> None:
        self._closed = True

    def _tick(self) -> None:
        if self._closed:
            return
        try:
            now = time.time()
            for t in self._tables():
                if t.ttl_attribute is not None and t.mode == "EVENTUAL":
                    for region in list(t.replicas):
                        if self._region_up(region):
                            self.sweep(t, region, now)
        finally:
            self._call_later(self.period_s, self._tick)

    def sweep(self, t: Any, region: str, now_s: float, *, delay: bool = True) -> int:
        """Delete the expired items of `t` that `region` wrote and whose delay has passed;
        how many were deleted."""
        attr = t.ttl_attribute
        rep = t.replicas.get(region) if attr is not None else None
        if rep is None:
            return 0
        with rep.lock:
            found = [(k, v.item) for k, v in rep.leader.items()
                     if v.origin == region and expired(v.item, attr, now_s)]
        mono = time.monotonic()
        ready = []
        with self._lock:
            # An item found expired earlier that this sweep no longer finds (extended,
            # rewritten or deleted meanwhile) leaves the pending deletes: its delay starts
            # again if it expires again, and a long run's pending set stays bounded by what
            # is expired now, so PENDING_MAX never fills with items that will not expire.
            keys = {k for k, _ in found}
            tid = id(t)
            for slot in [s for s in self._due if s[0] == tid and s[1] == region
                         and s[2] not in keys and s not in self._found]:
                del self._due[slot]
            for k, item in found:
                slot = (id(t), region, k)
                if slot not in self._due:
                    if len(self._due) >= PENDING_MAX:
                        continue
                    wait = self._rng.uniform(0.0, TTL_DELAY_MAX_S * self.latency_scale)
                    self._due[slot] = mono + (wait if delay else 0.0)
                if self._due[slot] <= mono:
                    del self._due[slot]
                    ready.append((k, item))
                elif "ttl-delete-without-recheck" in self.bugs:
                    self._found[slot] = item
            if "ttl-delete-without-recheck" in self.bugs:
                # BUG (emulator/bugs.py): what an earlier sweep found expired is deleted
                # when its delay has passed, as it was found, expired now or not.
                done = {k for k, _ in ready}
                for slot, item in list(self._found.items()):
                    if slot[:2] == (id(t), region) and self._due.get(slot, 0.0) <= mono:
                        del self._found[slot]
                        self._due.pop(slot, None)
                        if slot[2] not in done:
                            ready.append((slot[2], item))
        for k, item in ready:
            self._delete(t, region, k, item, attr)
        return len(ready)

    def _delete(self, t: Any, region: str, key: Any, item: dict, attr: str) -> None:
        if "ttl-delete-not-replicated" in self.bugs:
            # BUG (emulator/bugs.py): the TTL process writes its tombstone straight into
            # the region's storage, below the change stream the replicators read.
            rep = t.replicas[region]
            with rep.lock:
                cur = rep.current(key)
                if cur is None or not expired(cur.item, attr, time.time()):
                    return
                stamp = t.engine.ctx.clocks[region].stamp(cur.timestamp_us)
                for copy in rep.copies:
                    copy[key] = Version(None, stamp, region)
            self.deleted += 1
            return
        now = time.time()

        recheck = "ttl-delete-without-recheck" not in self.bugs

        def compute(old: dict | None) -> Any:
            if not recheck and old is not None:
                return None  # BUG (emulator/bugs.py): no second look at the expiry
            return None if expired(old, attr, now) else UNCHANGED
        out = t.engine.write(region, [Mutation(key, t.schema.key_attrs(item), compute)])
        self.deleted += sum(1 for o in out if o.changed)
