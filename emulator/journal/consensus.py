"""The multi-region journal's consensus protocol: Raft as a pure, message-driven state machine.

MRSC needs an append-only log that commits an entry once it is durable in 2 of the 3
participants and delivers committed entries to every participant in one total order
(SEMANTICS.md M02, M03), that survives the loss of any one participant (M10, M15) and
lets a participant that was cut off catch up on its return. This module is that protocol
and nothing else: a `Participant` holds one region's view (persistent term, vote and log in
a `DurableState`; volatile role, leader, commit index, replication progress) and reacts to
three kinds of input -- `tick()` (logical time, for failure detection only), `receive(msg)`
and `propose(payload)` -- by mutating itself and returning the messages to send. It does no
I/O, reads no clock and draws randomness only from the `random.Random` it is handed, so a
test can drive it through any schedule (drops, delays, reorderings, partitions, crashes)
and check Raft's safety properties after every step; `emulator/journal/node.py` runs it
over a real transport.

The protocol is Raft (Ongaro & Ousterhout) with the usual extensions, each there for a
reason named here:
- Pre-vote, so a participant that was isolated and kept timing out does not depose a
  healthy leader when it returns (it would otherwise stall M10/M12 traffic after a heal);
- check-quorum, so a leader that lost touch with every peer steps down and its region
  refuses writes promptly (definite failure) instead of letting them time out;
- leadership transfer (`TimeoutNow`) to a preferred participant, so in steady state the
  leader is the region every other region is nearest to, which makes a write cost one
  round trip to the nearest quorum member (latency bar of issue 4);
- follower-side commit for three participants: when a follower appends an entry of the
  current leader's term, that entry is durable on the leader and on the follower, which is
  a majority of three, so it is committed (Raft's commit rule) and the follower may apply
  it at once instead of waiting one more round trip for the leader's commit index.
Commit is never delayed by a timer: a leader sends entries the moment they are proposed
and commits the moment a majority has acknowledged them.

Contract with the driver: after any call, make the `DurableState` stable *before* sending
the returned messages (here the state lives in memory and outlives a `Participant`, which
is how a crash and restart are modelled: build a new `Participant` on the same state).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Iterable

FOLLOWER, PRECANDIDATE, CANDIDATE, LEADER = "follower", "precandidate", "candidate", "leader"

BATCH_MAX = 256  # entries per AppendEntries message: bounds catch-up message size


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry: the term of the leader that created it and an opaque payload.

    A payload of None is the no-op a new leader appends to commit its predecessors'
    entries; the journal's subscribers skip it.
    """

    term: int
    payload: Any = None


# ---- messages ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RequestVote:
    src: str
    dst: str
    term: int            # for a pre-vote: the term the candidate would campaign in
    last_index: int
    last_term: int
    pre: bool = False
    transfer: bool = False  # sent after TimeoutNow: ignore leader stickiness


@dataclass(frozen=True, slots=True)
class VoteReply:
    src: str
    dst: str
    term: int
    granted: bool
    pre: bool = False


@dataclass(frozen=True, slots=True)
class AppendEntries:
    src: str
    dst: str
    term: int
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    leader_commit: int


@dataclass(frozen=True, slots=True)
class AppendReply:
    src: str
    dst: str
    term: int
    success: bool
    match_index: int     # on success: last index known to match the leader's log
    hint_index: int = 0  # on failure: the leader should retry from hint_index + 1


@dataclass(frozen=True, slots=True)
class Propose:
    """A payload forwarded by a follower to the leader it knows."""

    src: str
    dst: str
    term: int
    payload: Any


@dataclass(frozen=True, slots=True)
class TimeoutNow:
    src: str
    dst: str
    term: int


Message = RequestVote | VoteReply | AppendEntries | AppendReply | Propose | TimeoutNow


class JournalLog:
    """The log, indexed by journal index, whose applied prefix can be dropped.

    Behaves as the list it replaces (`log[i]`, `log[a:b]`, `len(log)`, `append`, `del
    log[i:]`, `log[-1]`), all by absolute journal index, except that indices below `base`
    are gone after `compact(upto)`: the entry at `base` is kept (its term is what log
    matching compares for an AppendEntries whose previous index is `base`), everything
    before it is released. Raft's snapshots stand behind it (Ongaro & Ousterhout §7): the
    driver compacts only entries every participant has applied, so no participant ever
    needs them again; the state machine they built is the snapshot, held by each region.
    Initially `log[0]` is the sentinel (term 0), so journal indices start at 1 as in the
    paper.
    """

    __slots__ = ("_entries", "base")

    def __init__(self, entries: Iterable[Entry] = (Entry(0, None),), base: int = 0) -> None:
        self._entries = list(entries)
        self.base = base

    def __len__(self) -> int:
        return self.base + len(self._entries)

    def __getitem__(self, i):
        if isinstance(i, slice):
            start = self.base if i.start is None else i.start
            stop = len(self) if i.stop is None else i.stop
            if start < self.base or i.step is not None:
                raise IndexError(f"journal entries before {self.base} were compacted")
            return self._entries[start - self.base:stop - self.base]
        if i < 0:
            return self._entries[i]
        if i < self.base:
            raise IndexError(f"journal entry {i} was compacted (log starts at {self.base})")
        return self._entries[i - self.base]

    def __setitem__(self, i: int, entry: Entry) -> None:
        if not self.base <= i < len(self):
            raise IndexError(f"journal entry {i} is not in the log")
        self._entries[i - self.base] = entry

    def __delitem__(self, i: slice) -> None:
        if not isinstance(i, slice) or i.stop is not None or i.step is not None \
                or i.start is None or i.start <= self.base:
            raise IndexError("only a suffix after the log's base can be removed")
        del self._entries[i.start - self.base:]

    def __iter__(self):
        return iter(self._entries)

    def append(self, entry: Entry) -> None:
        self._entries.append(entry)

    def compact(self, upto: int) -> int:
        """Drop every entry before `upto` (kept: `upto` itself, as the new base, without
        its payload). Returns how many entries were released."""
        upto = min(upto, len(self) - 1)
        if upto <= self.base:
            return 0
        dropped = upto - self.base
        head = self._entries[dropped]
        del self._entries[:dropped]
        self._entries[0] = Entry(head.term, None)
        self.base = upto
        return dropped


@dataclass
class DurableState:
    """What a participant keeps on stable storage: current term, vote, and the log."""

    term: int = 0
    voted_for: str | None = None
    log: JournalLog = field(default_factory=JournalLog)

    @property
    def last_index(self) -> int:
        return len(self.log) - 1

    @property
    def last_term(self) -> int:
        return self.log[-1].term


@dataclass(frozen=True)
class Timing:
    """Failure-detection timers, in ticks. Elections fire after a random timeout in
    [election_min, 2 * election_min); a leader heartbeats every `heartbeat` ticks."""

    election_min: int = 10
    heartbeat: int = 2

    def __post_init__(self) -> None:
        if self.heartbeat < 1 or self.election_min <= self.heartbeat:
            raise ValueError("need 1 <= heartbeat < election_min ticks")


class Participant:
    """One participant of the journal (a replica region or the witness)."""

    def __init__(self, pid: str, peers: Iterable[str], state: DurableState, *,
                 rng: random.Random, timing: Timing = Timing(),
                 preferred_leader: str | None = None) -> None:
        self.pid = pid
        self.peers: tuple[str, ...] = tuple(p for p in peers if p != pid)
        if len(set(self.peers)) != len(self.peers):
            raise ValueError("duplicate peer ids")
        self.state = state
        self.rng = rng
        self.timing = timing
        self.preferred_leader = preferred_leader
        self.cluster_size = len(self.peers) + 1
        self.majority = self.cluster_size // 2 + 1
        # volatile
        self.role = FOLLOWER
        self.leader: str | None = None
        # Compacted entries were applied everywhere, hence committed: a participant
        # restarted on a compacted log knows at least that much.
        self.commit_index = state.log.base
        self.votes: set[str] = set()
        self.next_index: dict[str, int] = {}
        self.match_index: dict[str, int] = {}
        self.sent_index: dict[str, int] = {}
        self.heard_from: set[str] = set()   # peers heard since the last quorum check
        self.elapsed = 0                    # ticks since the last leader contact / heartbeat
        self.quorum_elapsed = 0
        self.leader_contact_ago = 1 << 30   # ticks since we last heard from a leader
        self.transfer_sent_term = -1
        self.election_timeout = self._new_timeout()

    # ---- queries -------------------------------------------------------------------
    @property
    def term(self) -> int:
        return self.state.term

    def is_leader(self) -> bool:
        return self.role == LEADER

    def entry(self, index: int) -> Entry:
        return self.state.log[index]

    def committed(self, start: int) -> list[tuple[int, Entry]]:
        """Committed entries from index `start` on, in journal order."""
        return [(i, self.state.log[i])
                for i in range(max(1, start, self.state.log.base + 1), self.commit_index + 1)]

    # ---- inputs --------------------------------------------------------------------
    def tick(self) -> list[Message]:
        """One unit of logical time passed."""
        self.leader_contact_ago += 1
        if self.role == LEADER:
            out: list[Message] = []
            self.quorum_elapsed += 1
            if self.quorum_elapsed >= self.timing.election_min:
                # Check-quorum: step down if a majority was not heard from.
                if len(self.heard_from) + 1 < self.majority:
                    self._become_follower(self.term, None)
                    return []
                self.heard_from = set()
                self.quorum_elapsed = 0
            self.elapsed += 1
            if self.elapsed >= self.timing.heartbeat:
                self.elapsed = 0
                for p in self.peers:
                    out.append(self._append_for(p, heartbeat=True))
            out.extend(self._maybe_transfer())
            return out
        self.elapsed += 1
        if self.elapsed >= self.election_timeout:
            return self.campaign(pre=True)
        return []

    def campaign(self, *, pre: bool = True, transfer: bool = False) -> list[Message]:
        """Start an election now (pre-vote first unless `pre` is False)."""
        self.elapsed = 0
        self.election_timeout = self._new_timeout()
        self.leader = None
        self.votes = {self.pid}
        if pre:
            self.role = PRECANDIDATE
            term = self.term + 1
        else:
            self.role = CANDIDATE
            self.state.term += 1
            self.state.voted_for = self.pid
            term = self.term
        if len(self.votes) >= self.majority:  # a cluster of one
            return self._win_vote(pre)
        return [RequestVote(self.pid, p, term, self.state.last_index, self.state.last_term,
                            pre=pre, transfer=transfer) for p in self.peers]

    def propose(self, payload: Any) -> tuple[bool, list[Message]]:
        """Offer a payload for the journal.

        Returns (accepted, messages). accepted False means it was definitely not added
        anywhere (no leader known). accepted True means it was appended here (leader) or
        forwarded to the leader; it may or may not commit -- the caller learns which by
        watching committed entries, and treats silence as an unknown outcome.
        """
        if self.role == LEADER:
            index = self._append_local(Entry(self.term, payload))
            return True, self._replicate_new(index)
        if (self.leader is None or self.role != FOLLOWER
                or self.leader_contact_ago >= self.timing.election_min):
            return False, []  # cut off from any leader: refuse now (a definite failure)
        return True, [Propose(self.pid, self.leader, self.term, payload)]

    def receive(self, msg: Message) -> list[Message]:
        if msg.dst != self.pid:
            raise ValueError(f"message for {msg.dst} delivered to {self.pid}")
        if isinstance(msg, RequestVote):
            return self._on_request_vote(msg)
        if isinstance(msg, VoteReply):
            return self._on_vote_reply(msg)
        if isinstance(msg, AppendEntries):
            return self._on_append(msg)
        if isinstance(msg, AppendReply):
            return self._on_append_reply(msg)
        if isinstance(msg, Propose):
            return self._on_propose(msg)
        if isinstance(msg, TimeoutNow):
            if msg.term == self.term and self.role == FOLLOWER:
                return self.campaign(pre=False, transfer=True)
            return []
        raise TypeError(f"not a journal message: {type(msg).__name__}")

    # ---- elections -----------------------------------------------------------------
    def _new_timeout(self) -> int:
        lo = self.timing.election_min
        return self.rng.randrange(lo, 2 * lo)

    def _log_up_to_date(self, last_term: int, last_index: int) -> bool:
        mine = (self.state.last_term, self.state.last_index)
        return (last_term, last_index) >= mine

    def _on_request_vote(self, m: RequestVote) -> list[Message]:
        if m.pre:
            # Grant a pre-vote only if we would grant the real vote and have not heard
            # from a live leader within the minimum election timeout. No state changes.
            fresh_leader = (self.leader is not None
                            and self.leader_contact_ago < self.timing.election_min)
            if self.role == LEADER:
                fresh_leader = True
            granted = (m.term > self.term and not fresh_leader
                       and self._log_up_to_date(m.last_term, m.last_index))
            return [VoteReply(self.pid, m.src, m.term if granted else self.term, granted,
                              pre=True)]
        if m.term > self.term:
            if (not m.transfer and self.leader is not None and self.role == FOLLOWER
                    and self.leader_contact_ago < self.timing.election_min):
                # Leader stickiness: a live leader exists; ignore a disruptive candidate.
                return []
            self._become_follower(m.term, None)
        granted = False
        if (m.term == self.term and self.state.voted_for in (None, m.src)
                and self._log_up_to_date(m.last_term, m.last_index)):
            granted = True
            self.state.voted_for = m.src
            self.elapsed = 0
        return [VoteReply(self.pid, m.src, self.term, granted)]

    def _on_vote_reply(self, m: VoteReply) -> list[Message]:
        if m.pre:
            if not m.granted:
                if m.term > self.term:
                    self._become_follower(m.term, None)
                return []
            if self.role != PRECANDIDATE or m.term != self.term + 1:
                return []
            if m.granted:
                self.votes.add(m.src)
                if len(self.votes) >= self.majority:
                    return self.campaign(pre=False)
            return []
        if m.term > self.term:
            self._become_follower(m.term, None)
            return []
        if self.role != CANDIDATE or m.term != self.term or not m.granted:
            return []
        self.votes.add(m.src)
        if len(self.votes) >= self.majority:
            return self._win_vote(pre=False)
        return []

    def _win_vote(self, pre: bool) -> list[Message]:
        if pre:
            return self.campaign(pre=False)
        self.role = LEADER
        self.leader = self.pid
        self.elapsed = 0
        self.quorum_elapsed = 0
        self.heard_from = set()
        last = self.state.last_index
        self.next_index = {p: last + 1 for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self.sent_index = {p: last for p in self.peers}
        # A no-op of the new term commits every earlier entry once it commits (Raft §5.4.2).
        index = self._append_local(Entry(self.term, None))
        return self._replicate_new(index)

    def _become_follower(self, term: int, leader: str | None) -> None:
        if term > self.state.term:
            self.state.term = term
            self.state.voted_for = None
        if self.role != FOLLOWER:
            self.elapsed = 0
            self.election_timeout = self._new_timeout()
        self.role = FOLLOWER
        self.leader = leader
        self.votes = set()

    # ---- replication ---------------------------------------------------------------
    def _append_local(self, entry: Entry) -> int:
        self.state.log.append(entry)
        index = self.state.last_index
        if self.cluster_size == 1:
            self.commit_index = index
        return index

    def _replicate_new(self, index: int) -> list[Message]:
        """Send everything after what each peer was last sent (pipelined, no waiting)."""
        out: list[Message] = []
        for p in self.peers:
            start = self.sent_index[p] + 1
            if start > index:
                continue
            out.append(self._append_from(p, start))
        return out

    def _append_for(self, peer: str, *, heartbeat: bool) -> AppendEntries:
        """A heartbeat doubles as retransmission: it carries what the peer has not acked."""
        return self._append_from(peer, self.next_index[peer])

    def _append_from(self, peer: str, start: int) -> AppendEntries:
        log = self.state.log
        start = max(1, log.base + 1, min(start, len(log)))
        end = min(len(log), start + BATCH_MAX)
        entries = tuple(log[start:end])
        self.sent_index[peer] = max(self.sent_index.get(peer, 0), end - 1)
        return AppendEntries(self.pid, peer, self.term, start - 1, log[start - 1].term,
                             entries, self.commit_index)

    def _on_propose(self, m: Propose) -> list[Message]:
        if self.role != LEADER:
            return []  # the origin's request times out: an unknown outcome, never a guess
        index = self._append_local(Entry(self.term, m.payload))
        return self._replicate_new(index)

    def _on_append(self, m: AppendEntries) -> list[Message]:
        if m.term < self.term:
            return [AppendReply(self.pid, m.src, self.term, False, 0, self.state.last_index)]
        self._become_follower(m.term, m.src)
        self.elapsed = 0
        self.leader_contact_ago = 0
        log = self.state.log
        if m.prev_index < log.base:
            # A late message about entries compacted here: those were applied everywhere,
            # so they match; keep only what lies past the base.
            skip = log.base - m.prev_index
            if skip >= len(m.entries):
                return [AppendReply(self.pid, m.src, self.term, True,
                                    m.prev_index + len(m.entries))]
            m = AppendEntries(m.src, m.dst, m.term, log.base, log[log.base].term,
                              m.entries[skip:], m.leader_commit)
        if m.prev_index > self.state.last_index:
            return [AppendReply(self.pid, m.src, self.term, False, 0, self.state.last_index)]
        if log[m.prev_index].term != m.prev_term:
            # Skip back over the whole conflicting term in one round trip.
            bad_term = log[m.prev_index].term
            i = m.prev_index
            while i > max(self.commit_index, log.base) and log[i - 1].term == bad_term:
                i -= 1
            return [AppendReply(self.pid, m.src, self.term, False, 0, max(0, i - 1))]
        index = m.prev_index
        for entry in m.entries:
            index += 1
            if index <= self.state.last_index:
                if log[index].term == entry.term:
                    continue  # already have it (a duplicate or reordered message)
                if index <= self.commit_index:
                    raise AssertionError("leader asked to overwrite a committed entry")
                del log[index:]
            log.append(entry)
        match = m.prev_index + len(m.entries)
        new_commit = min(m.leader_commit, match)
        if self.cluster_size == 3:
            # Follower-side commit: an entry of the leader's term stored here and at the
            # leader is on 2 of 3 participants, hence committed, and so is its prefix.
            j = match
            while j > max(new_commit, self.commit_index, log.base) and log[j].term != m.term:
                j -= 1
            if log[j].term == m.term:
                new_commit = max(new_commit, j)
        if new_commit > self.commit_index:
            self.commit_index = new_commit
        return [AppendReply(self.pid, m.src, self.term, True, match)]

    def _on_append_reply(self, m: AppendReply) -> list[Message]:
        if m.term > self.term:
            self._become_follower(m.term, None)
            return []
        if self.role != LEADER or m.term != self.term:
            return []
        self.heard_from.add(m.src)
        p = m.src
        if m.success:
            if m.match_index > self.match_index[p]:
                self.match_index[p] = m.match_index
            self.next_index[p] = max(self.next_index[p], self.match_index[p] + 1)
            self._advance_commit()
            out = self._maybe_transfer()
            if self.sent_index[p] < self.match_index[p]:
                self.sent_index[p] = self.match_index[p]
            if (self.match_index[p] < self.state.last_index
                    and self.sent_index[p] <= self.match_index[p]):
                # Catching up a follower: nothing in flight, send the next batch now.
                out.append(self._append_from(p, self.match_index[p] + 1))
            return out
        # Rejected: back off and resend at once from the follower's hint.
        self.next_index[p] = max(1, min(self.next_index[p] - 1, m.hint_index + 1),
                                 self.match_index[p] + 1, self.state.log.base + 1)
        self.sent_index[p] = self.next_index[p] - 1
        return [self._append_from(p, self.next_index[p])]

    def _advance_commit(self) -> None:
        log = self.state.log
        for n in range(self.state.last_index, max(self.commit_index, log.base), -1):
            if log[n].term != self.term:
                break  # only entries of the current term commit by counting (§5.4.2)
            acks = 1 + sum(1 for p in self.peers if self.match_index[p] >= n)
            if acks >= self.majority:
                self.commit_index = n
                break

    def _maybe_transfer(self) -> list[Message]:
        """Hand leadership to the preferred participant once it is fully caught up."""
        pref = self.preferred_leader
        if (pref is None or pref == self.pid or pref not in self.peers
                or self.transfer_sent_term == self.term
                or self.match_index.get(pref, 0) != self.state.last_index
                or self.commit_index != self.state.last_index):
            return []
        self.transfer_sent_term = self.term
        return [TimeoutNow(self.pid, pref, self.term)]
