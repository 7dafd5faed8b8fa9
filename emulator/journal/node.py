"""One journal participant at run time: the consensus state machine wired to a transport.

`consensus.Participant` is pure; this module gives it what a real process has. A ticker
thread advances logical time (failure detection only: heartbeats and election timeouts;
commits never wait for a tick). Messages travel through a `Transport`, whose only duty is
"run this callback at the destination, later, maybe never" -- the emulator passes its WAN
model (journal traffic relays over live links, M12), tests pass `LoopbackTransport`.
Committed entries are handed to the subscriber (the region's strong replication engine)
exactly once each, in journal order, under the node's lock, starting after the
subscriber's own checkpoint, so an engine restarted from a checkpoint resumes where it
left off (M09). `crash()` drops every volatile thing; a node built again on the same
`DurableState` is the participant restarting with its persisted term, vote and log.
"""

from __future__ import annotations

import queue
import random
import threading
from typing import Any, Callable, Protocol

from emulator.journal.consensus import DurableState, Entry, Participant, Timing

Subscriber = Callable[[int, Entry], None]
INBOX_MAX = 100_000  # messages kept for a frozen participant (a limit on everything)
COMPACTED = Entry(0, None)  # what a compacted index is delivered as (no payload: skipped)


class Transport(Protocol):
    def send(self, src: str, dst: str, deliver: Callable[[], None]) -> bool:
        """Arrange for `deliver()` to run at `dst` later; False if it cannot leave `src`."""


class Directory:
    """Where each participant's live node is, so a restarted node replaces the old one."""

    def __init__(self) -> None:
        self._nodes: dict[str, JournalNode] = {}
        self._lock = threading.Lock()

    def register(self, node: "JournalNode") -> None:
        with self._lock:
            self._nodes[node.pid] = node

    def get(self, pid: str) -> "JournalNode | None":
        with self._lock:
            return self._nodes.get(pid)


class JournalNode:
    """A running participant: ticker, inbound delivery, proposals, ordered delivery."""

    def __init__(self, pid: str, peers: list[str], state: DurableState, *,
                 transport: Transport, directory: Directory, subscriber: Subscriber,
                 applied_index: int = 0, tick_s: float = 0.01,
                 timing: Timing = Timing(), rng: random.Random,
                 preferred_leader: str | None = None) -> None:
        self.pid = pid
        self.participant = Participant(pid, peers, state, rng=rng, timing=timing,
                                       preferred_leader=preferred_leader)
        self.transport = transport
        self.directory = directory
        self.subscriber = subscriber
        self.applied_index = applied_index
        self.tick_s = tick_s
        self._lock = threading.RLock()
        self._alive = True
        self._frozen = False        # `pause` fault: no ticks; inbound messages wait
        self._inbox: list = []
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name=f"journal-{pid}",
                                        daemon=True)
        directory.register(self)

    # ---- life cycle ----------------------------------------------------------------
    def start(self, *, campaign: bool = False) -> "JournalNode":
        if campaign:
            with self._lock:
                self._send(self.participant.campaign(pre=False))
        self._ticker.start()
        return self

    def crash(self) -> None:
        """Stop now; everything not in the `DurableState` is lost."""
        with self._lock:
            self._alive = False
        self._stop.set()
        if self._ticker.is_alive() and threading.current_thread() is not self._ticker:
            self._ticker.join(timeout=2)

    @property
    def alive(self) -> bool:
        return self._alive

    # ---- inputs --------------------------------------------------------------------
    def propose(self, payload: Any) -> bool:
        """Offer an entry. False: definitely not in any log. True: outcome via the
        subscriber (or never, which the caller must treat as unknown)."""
        with self._lock:
            if not self._alive:
                return False
            ok, msgs = self.participant.propose(payload)
            self._send(msgs)
            self._deliver_committed()
            return ok

    def deliver(self, msg) -> None:
        with self._lock:
            if not self._alive:
                return
            if self._frozen:
                if len(self._inbox) < INBOX_MAX:
                    self._inbox.append(msg)
                return
            self._send(self.participant.receive(msg))
            self._deliver_committed()

    def freeze(self, frozen: bool) -> None:
        """Stop (True) or resume (False) this participant's process, like SIGSTOP and
        SIGCONT: while frozen it neither ticks nor handles messages, which wait in its
        inbox (bounded) and are handled in arrival order when it resumes."""
        with self._lock:
            if self._frozen == frozen:
                return
            self._frozen = frozen
            if frozen or not self._alive:
                return
            inbox, self._inbox = self._inbox, []
            for msg in inbox:
                self._send(self.participant.receive(msg))
            self._deliver_committed()

    def status(self) -> dict:
        with self._lock:
            p = self.participant
            return {"participant": self.pid, "alive": self._alive, "role": p.role,
                    "term": p.term, "leader": p.leader, "commit_index": p.commit_index,
                    "last_index": p.state.last_index, "applied_index": self.applied_index}

    def can_reach_leader(self) -> bool:
        """Is a leader live and recently heard (or are we it)? A cheap pre-check that
        lets a region refuse a write definitely instead of letting it time out."""
        with self._lock:
            p = self.participant
            if not self._alive:
                return False
            if p.is_leader():
                return True
            return p.leader is not None and p.leader_contact_ago < p.timing.election_min

    # ---- internals -----------------------------------------------------------------
    def _tick_loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                if not self._alive:
                    return
                if self._frozen:
                    continue
                self._send(self.participant.tick())
                self._deliver_committed()

    def _send(self, msgs) -> None:
        # The DurableState is in memory and already updated: it is "stable" here.
        for msg in msgs:
            self.transport.send(self.pid, msg.dst, self._deliverer(msg))

    def _deliverer(self, msg) -> Callable[[], None]:
        def arrive() -> None:
            node = self.directory.get(msg.dst)
            if node is not None:
                node.deliver(msg)
        return arrive

    def _deliver_committed(self) -> None:
        p = self.participant
        log = p.state.log
        while self.applied_index < p.commit_index:
            index = self.applied_index + 1
            # An index at or below the log's base was compacted after every participant
            # applied it; a subscriber replaying from an older checkpoint gets it empty.
            self.subscriber(index, log[index] if index > log.base else COMPACTED)
            self.applied_index = index


class LoopbackTransport:
    """In-process transport for tests and benchmarks: one dispatcher thread, no added
    delay, and a set of cut directed links (messages over them are dropped)."""

    def __init__(self) -> None:
        self.cut: set[tuple[str, str]] = set()
        self.down: set[str] = set()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-loopback",
                                        daemon=True)
        self._thread.start()

    def send(self, src: str, dst: str, deliver: Callable[[], None]) -> bool:
        if (src, dst) in self.cut or src in self.down:
            return False
        self._queue.put((src, dst, deliver))
        return True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            src, dst, deliver = item
            if (src, dst) in self.cut or dst in self.down:
                continue
            deliver()
