"""Asynchronous (MREC) replication: local write first, one replicator per ordered pair, LWW.

This is the `ReplicationEngine` for MultiRegionConsistency EVENTUAL (SEMANTICS.md A01-A13):

- A01 a write is applied in its own region under the region lock, stamped with
  (timestamp from the region's own, possibly skewed, clock; origin region) and acknowledged;
  an SC read there sees it at once. Replication happens afterwards.
- A02 one unidirectional `Replicator` per ordered pair (src -> dst), fed by src's change
  stream. Each has its own backlog and its own fault state: one stuck path (cut link,
  paused, stopped destination) does not slow any other.
- A04 per item, records arrive in source order (a record's due time is never before the
  previous record's of the same item); across items nothing is promised: each record gets a
  seeded random jitter, so item B's later write may overtake item A's earlier one.
- A06/A07 at the destination the write is applied only if its (timestamp, origin) is above
  the item's current version; a stale one is dropped and leaves no stream record.
- A10 only locally-originated writes are replicated, over the direct link only (no relay).
- A08/A09/A13 while a path cannot deliver (link cut, either end isolated or stopped,
  replication paused) its records wait in the replicator's backlog; in-flight ones are
  discarded at arrival and re-sent. When the path is live again the whole backlog is sent
  again in source order, so every region catches up and converges.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from typing import Sequence

from emulator.bugs import DROP_ONE_IN_N, NO_BUGS
from emulator.engine import (UNCHANGED, EngineContext, Mutation, WriteOutcome,
                             register_engine)
from emulator.store import Item, Key, StreamRecord, TableReplica, Version

NO_RECORD_ONE_IN_N = 10  # replicated-write-no-record: one applied write in N
REPLICATOR_OVERHEAD_MS = 8.0  # reading the stream and writing remotely, at latency scale 1
REPLICATION_JITTER_MS = 10.0  # default per-record jitter at latency scale 1 (A04)
RESENDS_MAX = 50  # restamp-on-ack-timeout: resends of one record before its ack is back


class Replicator:
    """Ships one region's locally-originated writes to one other region (src -> dst)."""

    def __init__(self, engine: "AsyncEngine", src: str, dst: str) -> None:
        self.engine = engine
        self.src = src
        self.dst = dst
        self._lock = threading.Lock()
        self._backlog: OrderedDict[int, StreamRecord] = OrderedDict()  # not yet applied at dst
        self._shipped: set[int] = set()  # sequences in flight in this generation
        self._generation = 0
        self._last_due: dict[Key, float] = {}
        self.applied = 0
        self.dropped_stale = 0
        self.resent = 0
        self._was_live = True

    # ---- the path's state ----------------------------------------------------------
    def live(self) -> bool:
        ctx = self.engine.ctx
        return (self.dst in ctx.replicas and ctx.wan.link_live(self.src, self.dst)
                and not ctx.pause.paused(self.src, self.dst))

    def delay_s(self) -> float:
        ctx = self.engine.ctx
        wan = ctx.wan
        jitter_ms = ctx.settings.get("replication_jitter_ms",
                                     REPLICATION_JITTER_MS * wan.latency_scale)
        overhead_ms = ctx.settings.get("replicator_overhead_ms",
                                       REPLICATOR_OVERHEAD_MS * wan.latency_scale)
        jitter = ctx.rng.uniform(0.0, jitter_ms) if jitter_ms > 0 else 0.0
        return (wan.one_way_ms(self.src, self.dst) + overhead_ms + jitter) / 1000.0

    # ---- feeding and shipping ------------------------------------------------------
    def offer(self, rec: StreamRecord) -> None:
        """A new record in src's stream (called under src's region lock)."""
        with self._lock:
            self._backlog[rec.sequence] = rec
            if not self.live():
                return
            if len(self._backlog) == len(self._shipped) + 1:
                self._ship(rec)
            else:  # older records wait since the path broke: they go first (A04)
                self._ship_unsent()

    def _ship(self, rec: StreamRecord) -> None:
        now = time.monotonic()
        due = max(now + self.delay_s(), self._last_due.get(rec.key, 0.0))
        self._last_due[rec.key] = due
        if len(self._last_due) > 100_000:  # bound memory: forget items whose due time passed
            self._last_due = {k: t for k, t in self._last_due.items() if t > now}
        self._shipped.add(rec.sequence)
        gen = self._generation
        self.engine.ctx.wan.scheduler.call_at(due, lambda: self._arrive(rec, gen, now, due))

    def _arrive(self, rec: StreamRecord, generation: int, sent: float = 0.0,
                due: float = 0.0) -> None:
        with self._lock:
            if generation != self._generation or rec.sequence not in self._backlog:
                return  # superseded: the path broke after it was sent; it is re-sent
            if not self.live():
                self._stall()
                return
            del self._backlog[rec.sequence]
            self._shipped.discard(rec.sequence)
        bugs = self.engine.bugs
        if "replicator-drops-records" in bugs and bugs.one_in(DROP_ONE_IN_N):
            # BUG (emulator/bugs.py): the record left the backlog above, before the
            # destination write succeeded; this write failed and nothing retries it.
            return
        if "delete-not-replicated" in bugs and rec.new is None:
            # BUG (emulator/bugs.py): no new image, "nothing to apply"; counted delivered.
            self.applied += 1
            return
        if self.engine.deliver(self.src, self.dst, rec):
            self.applied += 1
        else:
            self.dropped_stale += 1
        if "restamp-on-ack-timeout" in bugs and sent:
            self._ack_timeout_resend(rec, sent, due)

    def _ack_timeout_resend(self, rec: StreamRecord, sent: float, due: float) -> None:
        """restamp-on-ack-timeout (emulator/bugs.py): the acknowledgement leaves dst when
        the record is due there and travels back dst -> src (never, over a cut link); the
        source waits for it as long as a symmetric round trip takes. Times are the model's
        (send and due times), not the scheduler's, so only an asymmetric path trips it."""
        ctx = self.engine.ctx
        wan = ctx.wan
        if not wan.link_live(self.dst, self.src):
            ack_at = float("inf")
        else:
            ack_at = due + wan.one_way_ms(self.dst, self.src) / 1000.0
        jitter_ms = ctx.settings.get("replication_jitter_ms",
                                     REPLICATION_JITTER_MS * wan.latency_scale)
        overhead_ms = ctx.settings.get("replicator_overhead_ms",
                                       REPLICATOR_OVERHEAD_MS * wan.latency_scale)
        timeout_s = (2 * wan.one_way_ms(self.src, self.dst) + overhead_ms + jitter_ms
                     + 1.0) / 1000.0
        if ack_at - sent <= timeout_s:
            return

        def resend() -> None:
            # BUG: the resend is stamped anew, as if it were a fresh write of the source.
            stamp = ctx.clocks[self.src].stamp(rec.timestamp_us)
            again = dataclasses.replace(rec, timestamp_us=stamp)
            wan.scheduler.call_later(self.delay_s(),
                                     lambda: self.engine.deliver(self.src, self.dst, again))
        # resent at every timeout until the first acknowledgement is back (bounded)
        k = 1
        while sent + k * timeout_s < ack_at and k <= RESENDS_MAX:
            wan.scheduler.call_later(max(0.0, sent + k * timeout_s - time.monotonic()), resend)
            k += 1

    def _stall(self) -> None:
        """The path broke: forget what is in flight; it all goes again on resume."""
        self._generation += 1
        self._shipped.clear()
        self._last_due.clear()

    def path_changed(self) -> None:
        with self._lock:
            live, was_live = self.live(), self._was_live
            self._was_live = live
            if not live:
                if self._shipped:
                    self._stall()
                return
            if not was_live and "backlog-discarded-on-heal" in self.engine.bugs:
                # BUG (emulator/bugs.py): on reconnect, resume from the stream's latest
                # position; what waited while the path was down is never sent.
                self._backlog.clear()
            self._ship_unsent()

    def _ship_unsent(self) -> None:
        for rec in [r for s, r in self._backlog.items() if s not in self._shipped]:
            self.resent += 1
            self._ship(rec)

    def status(self) -> dict:
        with self._lock:
            return {"src": self.src, "dst": self.dst, "live": self.live(),
                    "backlog": len(self._backlog), "in_flight": len(self._shipped),
                    "applied": self.applied, "dropped_stale": self.dropped_stale}


class AsyncEngine:
    """Last-writer-wins asynchronous replication of one global table."""

    mode = "EVENTUAL"

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.bugs = ctx.settings.get("bugs", NO_BUGS)
        self._replicators: dict[tuple[str, str], Replicator] = {}
        for region, replica in ctx.replicas.items():
            self._attach(region, replica)
        self._rebuild()

    def _attach(self, region: str, replica: TableReplica) -> None:
        relay = "relay" in self.bugs  # BUG (emulator/bugs.py): ship replicated records too

        def on_record(rec: StreamRecord, region=region) -> None:
            if rec.origin != region and not relay:
                return  # A10: only locally-originated writes are replicated, no relay
            for (src, _), rep in list(self._replicators.items()):
                if src == region:
                    rep.offer(rec)
        replica.stream_listeners.append(on_record)

    def _rebuild(self) -> None:
        regions = list(self.ctx.replicas)
        for src in regions:
            for dst in regions:
                if src != dst and (src, dst) not in self._replicators:
                    self._replicators[(src, dst)] = Replicator(self, src, dst)

    # ---- data plane ----------------------------------------------------------------
    def write(self, region: str, mutations: Sequence[Mutation]) -> list[WriteOutcome]:
        replica = self.ctx.replicas[region]
        clock = self.ctx.clocks[region]
        with replica.lock:
            olds = [replica.current(m.key) for m in mutations]
            news = [m.compute(None if o is None else o.item) for m, o in zip(mutations, olds)]
            out = []
            for m, old, new in zip(mutations, olds, news):
                old_item = None if old is None else old.item
                if new is UNCHANGED or (new is None and old_item is None):
                    out.append(WriteOutcome(old_item, old_item, False))
                    continue
                floor = 0 if old is None else old.timestamp_us
                if "local-stamp-below-current" in self.bugs:
                    floor = 0  # BUG (emulator/bugs.py): the region's clock alone stamps it
                ts = clock.stamp(floor)
                replica.install(m.key, m.keys, Version(new, ts, region))
                out.append(WriteOutcome(old_item, new, True))
            return out

    def deliver(self, src: str, dst: str, rec: StreamRecord) -> bool:
        """A record of src's stream arrives at dst over the WAN (faults and delay already
        applied by its replicator). The setting `deliver_hook(table, src, dst, rec)`, when
        given, sees it first: a region process (emulator/region_process.py) forwards its own
        region's records from here to the process that owns dst, whatever its in-process
        model of dst makes of them."""
        hook = self.ctx.settings.get("deliver_hook")
        if hook is not None:
            hook(self.ctx.table.name, src, dst, rec)
        return self.apply_replicated(dst, rec)

    def apply_replicated(self, region: str, rec: StreamRecord) -> bool:
        """LWW at the destination: apply iff newer than the current version (A06)."""
        replica = self.ctx.replicas.get(region)
        if replica is None:
            return False
        with replica.lock:
            cur = replica.current(rec.key)
            stale = cur is not None and cur.stamp() >= (rec.timestamp_us, rec.origin)
            if "lww-arrival-order" in self.bugs:
                # BUG (emulator/bugs.py): the last to arrive wins; only the very version
                # already installed is recognised as a duplicate.
                stale = cur is not None and cur.stamp() == (rec.timestamp_us, rec.origin)
            version = Version(rec.new, rec.timestamp_us, rec.origin)
            if stale:
                if "stream-record-for-dropped-write" in self.bugs:
                    # BUG (emulator/bugs.py): the stream record is written before the LWW
                    # check, so a dropped stale write still shows in this region's stream.
                    replica.append_record(rec.key, rec.keys, cur.item, version)
                return False
            record = not ("replicated-write-no-record" in self.bugs
                          and self.bugs.one_in(NO_RECORD_ONE_IN_N))
            # BUG (emulator/bugs.py) when record is False: applied without a stream record.
            replica.install(rec.key, rec.keys, version, record=record)
            return True

    def get(self, region: str, key: Key, consistent: bool) -> Item | None:
        return self.ctx.replicas[region].get(key, consistent)

    def scan(self, region: str, consistent: bool) -> list[Item]:
        return self.ctx.replicas[region].items(consistent)

    # ---- control -------------------------------------------------------------------
    def add_replica(self, region: str, replica: TableReplica) -> None:
        with self.ctx.lock:
            self.ctx.replicas[region] = replica
            self._attach(region, replica)
            self._rebuild()

    def remove_replica(self, region: str) -> None:
        with self.ctx.lock:
            self.ctx.replicas.pop(region, None)
            for pair in [p for p in self._replicators if region in p]:
                del self._replicators[pair]

    def faults_changed(self) -> None:
        for rep in list(self._replicators.values()):
            rep.path_changed()

    def versions(self, key: Key) -> dict[str, Version | None]:
        return {r: rep.current(key) for r, rep in self.ctx.replicas.items()}

    def status(self) -> dict:
        return {"mode": self.mode,
                "replicators": [r.status() for r in self._replicators.values()]}

    def backlog(self) -> int:
        return sum(r.status()["backlog"] for r in self._replicators.values())

    def close(self) -> None:
        self._replicators.clear()


register_engine("EVENTUAL", AsyncEngine)
