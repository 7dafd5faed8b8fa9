"""The drain of one region's DynamoDB stream, kept as a ledger of the reads recorded.

Issue 21: at load 25-45 a final drain that re-read a region's whole stream within 0.6 of
the 1 s operation timeout ran out of time in every attempt, and every async unknown of the
quick battery was a `streams` row whose stream was "never drained". A drain is now a run
of small steps, each a recorded operation of the streams workload (workloads/streams.py):
a *listing* (DescribeStream: the shards, each with its parent and whether it is closed) or
a *read* (one GetRecords on one shard after one sequence number, or from TRIM_HORIZON).
This ledger folds those steps and answers two questions, from the same rule for the
workload (what to read next: a drain resumes where the previous step stopped, whichever
step failed or timed out in between) and for the checker (was the stream read to its end
after the heal):

- A read is *contiguous* when it starts at TRIM_HORIZON or right after a position an
  earlier contiguous read of that shard reached; a read that is not (its predecessor's
  completion was never recorded) proves nothing about coverage and is left out.
- A shard is read to its end when a contiguous read got no NextShardIterator (DynamoDB
  Streams' GetRecords: "If set to null, the shard has been closed and the requested
  iterator will not return any more data"). An open shard is at its tip when a
  contiguous read at its furthest position returned no record and a NextShardIterator;
  it is *quiet* when two such empty pages at one position are at least `quiet_ns` apart
  (the later one's invocation after the earlier one's completion): records are only
  ever appended, so nothing came in between -- nothing was still being applied.
- A listing is stale when a shard it showed open (no EndingSequenceNumber) has since been
  read to its end: its children opened after the listing (DescribeStream: a shard with
  an EndingSequenceNumber is closed).
- The drain is complete when the latest listing is not stale and every shard in it is
  read to its end or quiet at its tip. Everything applied in the region before
  `covered_at()` (the earliest of the open shards' latest tip reads) is then among the
  records read.

Steps are plain values (`Step`), so the workload's generator and the checker fold the
same data: the generator its own completions, the checker the history's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

QUIET_S = 0.1  # two empty pages at a shard's tip this far apart: nothing is still arriving
LIST, READ = "list", "read"
CLOSED, TIP, MORE = "closed", "tip", "more"   # how a read ended
_NEVER = object()  # a shard never read (distinct from the TRIM_HORIZON position None)


@dataclass(frozen=True)
class Shard:
    id: str
    parent: str | None = None
    closed: bool = False  # the listing showed its EndingSequenceNumber


@dataclass(frozen=True)
class Step:
    """One recorded drain step: a listing (`shards`) or a read of `shard` after `after`
    (None: TRIM_HORIZON) that reached `last` (the last record's sequence number, or
    `after` when it read none) and ended `end` (CLOSED / TIP / MORE)."""

    kind: str
    invoke_ns: int
    complete_ns: int
    shards: tuple[Shard, ...] = ()
    shard: str | None = None
    after: str | None = None
    last: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Tip:
    position: str | None
    first_ns: int  # completion of the first empty page at this position
    last_ns: int   # invocation of the latest empty page at this position


def _pos(p: str | None) -> int:
    return -1 if p is None else int(p)


@dataclass(frozen=True)
class Ledger:
    listing: tuple[Shard, ...] | None = None
    reached: Mapping[str, frozenset] = field(default_factory=dict)  # shard -> positions
    head: Mapping[str, str | None] = field(default_factory=dict)    # furthest position
    ended: frozenset = frozenset()
    tips: Mapping[str, Tip] = field(default_factory=dict)
    gaps: int = 0  # reads left out: not contiguous with what was read before

    def observe(self, step: Step) -> "Ledger":
        if step.kind == LIST:
            return replace(self, listing=tuple(step.shards))
        sid = step.shard
        if sid is None:
            return self
        seen = self.reached.get(sid, frozenset())
        if step.after is not None and step.after not in seen:
            return replace(self, gaps=self.gaps + 1)
        reached = {**self.reached, sid: seen | {step.last}}
        head = dict(self.head)
        if sid not in head or _pos(step.last) > _pos(head[sid]):
            head[sid] = step.last
        ended, tips = self.ended, dict(self.tips)
        if step.end == CLOSED:
            ended = ended | {sid}
        elif step.end == TIP:
            old = tips.get(sid)
            if old is not None and old.position == step.last:
                tips[sid] = Tip(step.last, old.first_ns, max(old.last_ns, step.invoke_ns))
            else:
                tips[sid] = Tip(step.last, step.complete_ns, step.invoke_ns)
        return replace(self, reached=reached, head=head, ended=ended, tips=tips)

    def stale(self) -> bool:
        return self.listing is None or any(s.id in self.ended and not s.closed
                                           for s in self.listing)

    def _at_quiet_tip(self, sid: str, quiet_ns: int) -> bool:
        tip = self.tips.get(sid)
        return (tip is not None and sid in self.head and tip.position == self.head[sid]
                and tip.last_ns - tip.first_ns >= quiet_ns)

    def next_step(self, now_ns: int, quiet_ns: int) -> tuple:
        """("list",) | ("read", shard, after) | ("wait", until_ns) | ("done",): shards in
        listing order (parents first), a child only once its listed parent is read to its
        end, each from where its reads stopped."""
        if self.stale():
            return (LIST,)
        listed = {s.id for s in self.listing}
        waits = []
        for s in self.listing:
            if s.id in self.ended:
                continue
            if s.parent is not None and s.parent in listed and s.parent not in self.ended:
                continue
            head = self.head.get(s.id, _NEVER)
            if head is _NEVER:
                return (READ, s.id, None)
            tip = self.tips.get(s.id)
            if tip is None or tip.position != head:
                return (READ, s.id, head)
            if tip.last_ns - tip.first_ns >= quiet_ns:
                continue
            due = tip.first_ns + quiet_ns
            if now_ns >= due:
                return (READ, s.id, head)
            waits.append(due)
        return ("wait", min(waits)) if waits else ("done",)

    def reread_tip(self) -> tuple:
        """("read", shard, head) for the first listed shard not read to its end (at its
        furthest position), or ("list",) when every listed shard is: for a drain that
        knows records are still to come although its tips looked quiet (an empty page
        proves no tip on AWS: checkers/stream_proof.py)."""
        if self.stale():
            return (LIST,)
        for s in self.listing:
            if s.id not in self.ended and s.id in self.head:
                return (READ, s.id, self.head[s.id])
        return (LIST,)

    def complete(self, quiet_ns: int) -> tuple[bool, str]:
        """(whether the stream is read to its end and quiet, why not)."""
        if self.listing is None:
            return False, "its shards were never listed"
        if not self.listing:
            return False, "its stream listed no shard"  # an enabled stream has one
        late = [s.id for s in self.listing if s.id in self.ended and not s.closed]
        if late:
            return False, f"shard {late[0]} closed after the last listing (its children " \
                          f"were never listed)"
        for s in self.listing:
            if s.id in self.ended or self._at_quiet_tip(s.id, quiet_ns):
                continue
            if s.id not in self.head:
                return False, f"shard {s.id} was never read"
            if s.id in self.tips and self.tips[s.id].position == self.head[s.id]:
                return False, f"shard {s.id} reached its tip but was not read again " \
                              f"{quiet_ns / 1e9:g} s later (not known quiet)"
            return False, f"shard {s.id} was read up to sequence number " \
                          f"{self.head[s.id]} but not to its end"
        return True, ""

    def covered_at(self) -> int | None:
        """The time before which every record applied is among those read: the earliest
        latest-tip read of the listing's open shards (None: every shard ended, so all)."""
        times = [self.tips[s.id].last_ns for s in self.listing or ()
                 if s.id not in self.ended and s.id in self.tips]
        return min(times) if times else None


def fold(steps: Iterable[Step]) -> Ledger:
    ledger = Ledger()
    for s in steps:
        ledger = ledger.observe(s)
    return ledger


def step_of(invoke: Mapping[str, Any], complete: Mapping[str, Any], records: Any,
            invoke_ns: int, complete_ns: int) -> Step | None:
    """The Step an `ok` drain operation records (invocation fields `step`, `shard`,
    `after`; completion fields `shards` / `end`; `records` its value), None for an
    operation that is no step (a whole-stream drain of older histories)."""
    kind = invoke.get("step")
    if kind == LIST:
        shards = tuple(Shard(str(x[0]), None if x[1] is None else str(x[1]), bool(x[2]))
                       for x in complete.get("shards") or ())
        return Step(LIST, invoke_ns, complete_ns, shards=shards)
    if kind != READ:
        return None
    after = invoke.get("after")
    recs = list(records or [])
    last = recs[-1]["seq"] if recs else after
    return Step(READ, invoke_ns, complete_ns, shard=invoke.get("shard"), after=after,
                last=last, end=complete.get("end"))
