"""The strong replication engine: MultiRegionConsistency STRONG (MRSC) on the journal.

This is the `ReplicationEngine` (emulator/engine.py) of MRSC global tables, faithful to
SEMANTICS.md M01-M16. The table has exactly three journal participants: its replica
regions plus, optionally, one witness region that holds a journal participant and no data
(M01). Each participant runs a `JournalNode` (emulator/journal/) whose messages travel
through the emulator's WAN model with relaying over live links, so a cut link A-B only
lengthens the route (M12) and an isolated region drops out of the quorum (M10).

- Write (M04, M08): under the region lock read the items, run the request's logic and
  freeze it into a conditional `WriteEntry` (emulator/mrsc_apply.py); propose it; wait
  until this region has applied it in journal order; answer the precomputed outcome, or
  ReplicatedWriteConflictException when the item moved in between.
- SC read (M06): propose a `ReadFence`, wait until it is applied here, read the leader
  copy. EC read (M07): the local copy, any of the three in-region copies (G2), no journal.
- Every region applies every committed entry in journal order (M03, M05, M13) and records
  its checkpoint (last applied index) atomically with the data, so an engine restarted
  from its checkpoint -- a region `stop`/`start`, or `restart_region` in tests -- resumes
  without applying anything twice (M09; replay past the checkpoint is harmless too).

Failures, and what a client may conclude from each (definite = the write did not and will
never happen; indefinite = it may have happened):
- `ServiceUnavailable` (HTTP 503), definite: this region cannot reach a journal quorum or
  knows no live leader (isolated, just restarted, election in progress), or replication
  is paused there (FIS pause-replication: EC reads stay allowed); nothing was proposed.
  (botocore retries 503 on its own; each retry is again decided afresh.) Note for
  clients of the real service: AWS documents no such guarantee for a 5xx, so a client
  that must be safe against AWS too treats any 5xx as unknown.
- `ReplicatedWriteConflictException` (409), definite: the entry was applied as a skip.
- `ConditionalCheckFailedException` (400), definite, linearizable.
- `InternalServerError` (500), indefinite: the entry was proposed but its outcome was not
  learned here in time (region cut off mid-request, leader change, timeout). It may still
  commit and be applied everywhere.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

from emulator.bugs import NO_BUGS
from emulator.engine import EngineContext, Mutation, WriteOutcome, register_engine
from emulator.errors import DynamoError
from emulator.journal.consensus import DurableState, Entry, Timing
from emulator.journal.node import Directory, JournalNode
from emulator.mrsc_apply import (APPLIED, CONDITION_FAILED, ReadFence, WriteEntry,
                                 apply_write, build_write, outcome)
from emulator.mrsc_setup import check_participants
from emulator.store import Item, Key, Version
from emulator.wan import Wan, default_one_way_ms

TICK_S = 0.01               # journal ticker period (failure detection only)
HEARTBEAT_TICKS = 2         # at latency scale 1 (20 ms); scaled, see heartbeat_ticks
ELECTION_MIN_TICKS = 30     # at latency scale 0 (300 ms: robust to a busy machine);
                            # grows with the WAN's round trips
REQUEST_TIMEOUT_S = 2.0     # plus eight of the slowest round trips at the current scale
APPLIED_HISTORY_MAX = 10_000  # per region, for tests and status (bounded: fences
                              # of a long read-only load must not grow memory)
COMPACT_EVERY = 1024        # entries between journal compactions
APPLY_DELAY_MAX_MS = 3.0    # at latency scale 1: a committed entry waits 0..this, seeded,
                            # before its region applies it (in journal order)


class WanTransport:
    """Journal messages over the WAN model: the direct link when it is the shortest live
    route (cheap), otherwise relayed hop by hop (M12). Routes are cached until the fault
    state changes."""

    def __init__(self, wan: Wan) -> None:
        self.wan = wan
        self._direct: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()
        wan.subscribe(self.invalidate)

    def invalidate(self) -> None:
        with self._lock:
            self._direct.clear()

    def send(self, src: str, dst: str, deliver) -> bool:
        with self._lock:
            direct = self._direct.get((src, dst))
        if direct is None:
            path = self.wan.route(src, dst)
            direct = path is not None and len(path) == 2
            with self._lock:
                self._direct[(src, dst)] = direct
        return self.wan.send(src, dst, deliver, relay=not direct)

    def close(self) -> None:
        self.wan.unsubscribe(self.invalidate)


def heartbeat_ticks(latency_scale: float, election_min: int) -> int:
    """The leader's heartbeat period in ticks: `HEARTBEAT_TICKS` at latency scale 1,
    scaled with the WAN (issue 21: a heartbeat is also the retransmission of what a peer
    has not acknowledged, so it should track the round trip it waits on), at least one
    tick and at most a third of the election timeout (Raft needs heartbeat << election)."""
    scaled = int(round(HEARTBEAT_TICKS * max(0.0, latency_scale)))
    return max(1, min(scaled, max(1, election_min // 3)))


def preferred_leader(participants: Sequence[str], replicas: Sequence[str]) -> str:
    """The participant that makes writes cheapest in steady state.

    A write from replica r costs the round trip r <-> leader, or for the leader itself the
    round trip to its nearest peer; pick the participant minimising the sum over replicas
    (base latencies, so the choice is the same at every latency scale)."""
    def rtt(a: str, b: str) -> float:
        return default_one_way_ms(a, b) + default_one_way_ms(b, a)

    def cost(leader: str) -> float:
        total = 0.0
        for r in replicas:
            if r == leader:
                total += min(rtt(r, p) for p in participants if p != r)
            else:
                total += rtt(r, leader)
        return total

    return min(participants, key=lambda p: (cost(p), p))


@dataclass
class _Pending:
    entry: object
    done: threading.Event = field(default_factory=threading.Event)
    decision: str | None = None
    error: DynamoError | None = None


class MrscEngine:
    """One MRSC global table: three journal participants and per-region apply."""

    mode = "STRONG"

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.bugs = ctx.settings.get("bugs", NO_BUGS)
        self.table = ctx.table.name
        self.witness = ctx.table.witness
        self.participants = check_participants(list(ctx.replicas), self.witness)
        wan = ctx.wan
        self.rtt_max_s = 2 * max(
            (wan.one_way_ms(a, b) for a in self.participants for b in self.participants
             if a != b), default=0.0) / 1000.0
        election_min = max(ELECTION_MIN_TICKS, int(4 * self.rtt_max_s / TICK_S) + 1)
        election_min = int(ctx.settings.get("mrsc_election_ticks", election_min))
        self.timing = Timing(election_min=election_min,
                             heartbeat=heartbeat_ticks(wan.latency_scale, election_min))
        self.request_timeout_s = float(ctx.settings.get(
            "mrsc_request_timeout_s", REQUEST_TIMEOUT_S + 8 * self.rtt_max_s))
        self.repropose_s = max(0.1, 4 * self.rtt_max_s)
        self.preferred = preferred_leader(self.participants, sorted(ctx.replicas))
        self.transport = WanTransport(wan)
        self.directory = Directory()
        self.durable = {p: DurableState() for p in self.participants}
        self.checkpoint = {p: 0 for p in self.participants}
        self.applied: dict[str, deque] = {p: deque(maxlen=APPLIED_HISTORY_MAX)
                                          for p in self.participants}
        # Request ids applied per region, kept only for duplicate-entry-reexecuted.
        self._seen_ids: dict[str, set[str]] = {p: set() for p in self.participants}
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rng = random.Random(ctx.rng.random())
        self._apply_rng = random.Random(self._rng.random())
        self._apply_due: dict[str, float] = {}
        self._apply_lock = threading.Lock()
        self._witness_lock = threading.RLock()
        self._reachable: dict[str, bool] = {}
        self._state_lock = threading.RLock()
        self._closed = False
        self.nodes: dict[str, JournalNode] = {}
        with self._state_lock:
            self._update_reachability()
            for p in self.participants:
                if wan.region_up(p):
                    self._boot(p, campaign=(p == self.preferred))
        self._wait_for_leader(max(2.0, 20 * self.rtt_max_s))

    # ---- journal participants -------------------------------------------------------
    def _boot(self, p: str, *, campaign: bool = False) -> JournalNode:
        node = JournalNode(
            p, self.participants, self.durable[p], transport=self.transport,
            directory=self.directory, subscriber=lambda i, e, p=p: self._deliver(p, i, e),
            applied_index=self.checkpoint[p], tick_s=TICK_S, timing=self.timing,
            rng=random.Random(self._rng.random()), preferred_leader=self.preferred)
        self.nodes[p] = node
        node.start(campaign=campaign)
        return node

    def _wait_for_leader(self, timeout_s: float) -> None:
        done = threading.Event()
        deadline = timeout_s
        step = 0.002
        while deadline > 0:
            live = [n for n in self.nodes.values() if n.alive]
            if live and all(n.can_reach_leader() for n in live):
                return
            done.wait(step)
            deadline -= step

    def restart_region(self, region: str, *, checkpoint: int | None = None) -> None:
        """Crash and restart `region`'s engine and journal participant (M09). With
        `checkpoint`, pretend the last durable checkpoint was that older index, so the
        restarted engine replays entries it had already applied."""
        with self._state_lock:
            node = self.nodes.get(region)
            if node is not None:
                node.crash()
            self._fail_pending(region, "the region's replication engine restarted")
            lock = self._region_lock(region)
            with lock:
                if checkpoint is not None:
                    self.checkpoint[region] = min(checkpoint, self.checkpoint[region])
            self._boot(region)

    # ---- applying journal entries -------------------------------------------------------
    def _region_lock(self, region: str):
        replica = self.ctx.replicas.get(region)
        return replica.lock if replica is not None else self._witness_lock

    def _deliver(self, region: str, index: int, entry: Entry) -> None:
        """A committed entry reached `region`'s node. A region's replication engine need
        not apply it at once (issue 21): it is applied after a seeded random delay of up
        to `APPLY_DELAY_MAX_MS` x latency scale, never before the entries before it (the
        due times only grow per region; the scheduler runs ties in submission order).
        Fences and writes wait for their own entry to be applied, so M04/M06 hold."""
        max_ms = APPLY_DELAY_MAX_MS * self.ctx.wan.latency_scale
        if max_ms <= 0:
            self._apply(region, index, entry)
            return
        with self._apply_lock:
            due = max(self._apply_due.get(region, 0.0),
                      time.monotonic() + self._apply_rng.uniform(0.0, max_ms) / 1000.0)
            self._apply_due[region] = due
        self.ctx.wan.scheduler.call_at(due, lambda: self._apply(region, index, entry))

    def _apply(self, region: str, index: int, entry: Entry) -> None:
        """Subscriber of `region`'s journal node: called once per committed entry, in
        journal order (on whichever thread advanced the commit)."""
        payload = entry.payload
        replica = self.ctx.replicas.get(region)
        decision = None
        with self._region_lock(region):
            if index <= self.checkpoint[region]:
                return  # already applied before a restart
            if isinstance(payload, WriteEntry) and replica is not None:
                check = True
                if "duplicate-entry-reexecuted" in self.bugs:
                    # BUG (emulator/bugs.py): a request id seen before is taken for a
                    # retry of a known success and installed again, unchecked.
                    seen = self._seen_ids[region]
                    check = payload.request_id not in seen
                    if len(seen) >= APPLIED_HISTORY_MAX:
                        seen.clear()  # a bounded dedup window, as real ones are
                    seen.add(payload.request_id)
                decision = apply_write(replica, payload, check_versions=check and (
                    "conflict-check-skipped" not in self.bugs))  # BUG switch: no check
            self.checkpoint[region] = index
            if payload is None:
                return
            kind = (decision if decision is not None
                    else "fence" if isinstance(payload, ReadFence) else "journal")
            self.applied[region].append((index, payload.request_id, kind))
        if index % COMPACT_EVERY == 0:
            self._compact(region)
        if payload.origin == region:
            with self._pending_lock:
                pending = self._pending.pop(payload.request_id, None)
            if pending is not None:
                pending.decision = decision
                pending.done.set()

    def _compact(self, region: str) -> None:
        """Drop the prefix of `region`'s journal log that every participant has applied.

        Bounds the journal's memory on long runs: every SC read appends a fence entry, so
        a read-only load would otherwise grow the log forever. Nobody will ask for those
        entries again: each participant applied them (so each holds them, and no leader
        needs to send them), and a participant only ever needs entries past its own
        checkpoint (a replay from an older checkpoint, `restart_region(checkpoint=...)`,
        gets them without payload and skips them, as it would skip them as conflicts
        anyway). This stands in for Raft's snapshots (JournalLog): in this in-process
        emulator every participant's checkpoint is known here. Called from `region`'s
        own subscriber, under its node's lock, so its participant is never in the middle
        of reading the log; it compacts no other participant's log, and takes no other
        lock (`_state_lock` is held while nodes are crashed: that order would deadlock).
        """
        if not self.ctx.settings.get("mrsc_log_compaction", True):
            return
        floor = min(self.checkpoint.values())
        self.durable[region].log.compact(floor)

    def journal_payloads(self, region: str) -> int:
        """How many entries of `region`'s journal still hold a payload (memory check)."""
        return sum(1 for e in self.durable[region].log if e.payload is not None)

    # ---- requests ---------------------------------------------------------------------
    def _check_writable(self, region: str) -> None:
        if region not in self.ctx.replicas:
            raise DynamoError("ValidationException",
                              f"Region {region} holds no replica of table {self.table}")
        pause = self.ctx.pause
        if pause.all or region in pause.regions:
            # FIS pause-replication on MRSC (dynamodb:InjectError): writes and SC reads
            # fail in the paused region, EC reads stay allowed.
            raise DynamoError(
                "ServiceUnavailable",
                f"Replication of table {self.table} is paused in {region} (fault "
                f"injection); the request was not applied.")
        node = self.nodes.get(region)
        if (node is None or not node.alive or not self._reachable.get(region, False)
                or not node.can_reach_leader()):
            raise DynamoError(
                "ServiceUnavailable",
                f"Region {region} cannot reach a quorum of the multi-Region journal of "
                f"table {self.table}; the request was not applied.")

    def _propose_and_wait(self, region: str, entry) -> _Pending:
        pending = _Pending(entry)
        with self._pending_lock:
            self._pending[entry.request_id] = pending
        if not self.nodes[region].propose(entry):
            with self._pending_lock:
                self._pending.pop(entry.request_id, None)
            raise DynamoError(
                "ServiceUnavailable",
                f"Region {region} knows no live leader of the multi-Region journal of "
                f"table {self.table}; the request was not applied.")
        if "ack-before-commit" in self.bugs and isinstance(entry, WriteEntry):
            # BUG (emulator/bugs.py): the journal took the proposal, so answer now; the
            # entry may still be skipped as a conflict, or lost with its leader.
            with self._pending_lock:
                self._pending.pop(entry.request_id, None)
            return pending
        # A proposal can be lost (forwarded to a leader that just crashed or stepped
        # down). Entries are idempotent, so proposing the same entry again is safe: a
        # second copy in the journal fails its version condition and is skipped, and
        # the first copy applied here decides the answer.
        deadline = time.monotonic() + self.request_timeout_s
        while not pending.done.wait(min(self.repropose_s,
                                        max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                with self._pending_lock:
                    self._pending.pop(entry.request_id, None)
                pending.error = pending.error or _unknown_outcome(region, "timed out")
                break
            node = self.nodes.get(region)
            if node is not None:
                node.propose(entry)
        if pending.error is not None:
            raise pending.error
        return pending

    def _request_id(self, region: str) -> str:
        return f"{region}:{next(self._ids)}"

    def write(self, region: str, mutations: Sequence[Mutation], *,
              retried: bool = False) -> list[WriteOutcome]:
        self._check_writable(region)
        replica = self.ctx.replicas[region]
        with replica.lock:
            current = [replica.current(m.key) for m in mutations]
            entry = build_write(self._request_id(region), region, mutations, current,
                                self.ctx.clocks[region])
        try:
            pending = self._propose_and_wait(region, entry)
        except DynamoError as e:
            if (e.name != "InternalServerError" or retried
                    or "server-retry-unknown" not in self.bugs):
                raise
            # BUG (emulator/bugs.py): retry an unknown outcome from the current state and
            # answer the retry's outcome, though the first entry may still commit.
            return self.write(region, mutations, retried=True)
        return outcome(entry, pending.decision or (
            CONDITION_FAILED if entry.error is not None else APPLIED))

    def _fence(self, region: str) -> None:
        self._check_writable(region)
        self._propose_and_wait(region, ReadFence(self._request_id(region), region))

    def _fence_needed(self, region: str) -> bool:
        if "sc-read-no-fence" in self.bugs:
            # BUG (emulator/bugs.py): "none of our writes is in flight, so the local copy
            # is current" -- but other regions' writes may be committed and not applied.
            with self._pending_lock:
                return any(k.startswith(region + ":") for k in self._pending)
        return True

    def _sc_read_fence(self, region: str) -> None:
        if not self._fence_needed(region):
            return
        try:
            self._fence(region)
        except DynamoError as e:
            if e.name == "ServiceUnavailable" and "sc-read-while-recovering" in self.bugs:
                # BUG (emulator/bugs.py): a region cut off from its quorum (or catching
                # up after a restart) answers SC reads from its local copy meanwhile.
                return
            raise

    def get(self, region: str, key: Key, consistent: bool) -> Item | None:
        replica = self.ctx.replicas[region]
        if consistent:
            self._sc_read_fence(region)
        return replica.get(key, consistent)

    def scan(self, region: str, consistent: bool) -> list[Item]:
        replica = self.ctx.replicas[region]
        if consistent:
            self._sc_read_fence(region)
        return replica.items(consistent)

    # ---- control ------------------------------------------------------------------------
    def add_replica(self, region: str, replica) -> None:
        raise DynamoError("ValidationException",
                          "Replicas cannot be added to a table with multi-Region strong "
                          "consistency after it is created")

    def remove_replica(self, region: str) -> None:
        with self._state_lock:
            node = self.nodes.pop(region, None)
            if node is not None:
                node.crash()
            self._fail_pending(region, "the replica was deleted")
            self.ctx.replicas.pop(region, None)

    def faults_changed(self) -> None:
        """Region stop/start crashes/restarts its participant; isolation is re-judged
        and requests of a region that lost its quorum end as unknown outcomes."""
        with self._state_lock:
            if self._closed:
                return
            wan = self.ctx.wan
            self.transport.invalidate()
            self._update_reachability()
            for p in self.participants:
                node = self.nodes.get(p)
                if not wan.region_up(p):
                    if node is not None and node.alive:
                        node.crash()
                        self._fail_pending(p, "the region stopped")
                elif node is None or not node.alive:
                    if p in self.ctx.replicas or p == self.witness:
                        self._boot(p)
                if not self._reachable.get(p, False):
                    self._fail_pending(p, "the region lost its journal quorum")
                node = self.nodes.get(p)
                if node is not None:
                    node.freeze(p in self.ctx.pause.frozen)

    def _update_reachability(self) -> None:
        wan = self.ctx.wan
        for p in self.participants:
            if not wan.region_up(p):
                self._reachable[p] = False
                continue
            peers = sum(1 for q in self.participants if q != p
                        and wan.route(p, q) is not None and wan.route(q, p) is not None)
            self._reachable[p] = peers + 1 >= 2

    def _fail_pending(self, region: str, why: str) -> None:
        with self._pending_lock:
            mine = [k for k, v in self._pending.items() if k.startswith(region + ":")]
            victims = [self._pending.pop(k) for k in mine]
        for v in victims:
            v.error = _unknown_outcome(region, why)
            v.done.set()

    def versions(self, key: Key) -> dict[str, Version | None]:
        return {r: rep.current(key) for r, rep in self.ctx.replicas.items()}

    def applied_order(self, region: str) -> list[tuple[int, str, str]]:
        """(journal index, request id, decision) of every entry `region` applied."""
        with self._region_lock(region):
            return list(self.applied[region])

    def status(self) -> dict:
        return {"mode": self.mode, "witness": self.witness,
                "preferred_leader": self.preferred,
                "journal": [n.status() for n in self.nodes.values()],
                "checkpoints": dict(self.checkpoint),
                "pending": len(self._pending)}

    def close(self) -> None:
        with self._state_lock:
            self._closed = True
            for node in self.nodes.values():
                node.crash()
            self.transport.close()
        with self._pending_lock:
            victims = list(self._pending.values())
            self._pending.clear()
        for v in victims:
            v.error = _unknown_outcome("", "the table was closed")
            v.done.set()


def _unknown_outcome(region: str, why: str) -> DynamoError:
    return DynamoError("InternalServerError",
                       f"Internal server error: the outcome of the request in {region} is "
                       f"unknown ({why}); it may still be applied.")


register_engine("STRONG", MrscEngine)
