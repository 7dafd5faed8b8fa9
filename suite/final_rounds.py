"""Final reads in rounds: read again while the regions disagree, until the state is quiet.

Async global tables promise convergence once writes stop (SEMANTICS.md A06; A08/A09: a
region resumed after a fault receives what was held back): a property of the state after
quiescence, not of one moment chosen in advance. The final phase used to read every key in
every region once, after a fixed final wait, so a write that landed late -- replication
from a region resumed after `pause` arriving 0.28 s after the heal, between two final
reads of one region (issue 21; docs/detection.md, "False alarms seen on the way") -- made
the regions' final reads disagree, and `convergence` called it a divergence. Quiescence
can be observed instead: `FinalRounds` runs the workload's final reads as round 1 (every
op marked `final_round: 1`) and looks at what they returned (`view`: a completion ->
[(key, canonical value)]). When every key reads one value in every region of the run, the
phase ends: one round, the norm, so a run without disagreement takes no longer than
before. Otherwise it waits `gap_s` and reads everything again as round 2, 3, ..., until a
round agrees in every region and equals the round before it (the state stayed put between
two looks), or until `deadline_s` after round 1 began (`Test.final_deadline`,
`--final-deadline`, default 10 s; 0: one round only). Every round is recorded; the
checkers treat the reads of the last round as the final reads and those of earlier rounds
as ordinary SC reads (`checkers.final_rounds.last_round_final`), so monotonic reads and
read-your-writes judge every round's reads and convergence / last-writer-wins judge the
last. A key whose regions still disagree at the deadline is judged as diverged: a bug that
drops a replicated write is caught as before. A round none of whose reads was answered
ends the rounds (the target is not answering), and the checkers judge the last answered
round. Nothing here knows the target: the same rule runs against the emulator and against
AWS (where each round costs one read per key and region; the aws target's
`--max-requests` keeps a reserve of two rounds' reads for the final phase, and refuses
what goes beyond).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from suite.generator import PENDING, Generator, as_gen, gen_op, gen_update, map_ops, \
    seconds_to_ns

ROUND = "final_round"
DEFAULT_DEADLINE_S = 10.0  # how long after round 1 began rounds may still begin
ROUND_GAP_S = 0.25         # the pause before another round: a landing in flight arrives

View = Callable[[Mapping[str, Any]], Iterable[tuple[Any, Any]]]


def read_view(canon: Callable[[Any], Any]) -> View:
    """The view of a keyed read (register, counter, set): its key and `canon(value)`."""
    def view(event: Mapping[str, Any]) -> list[tuple[Any, Any]]:
        if event.get("f") != "read":
            return []
        return [(event.get("key"), canon(event.get("value")))]
    return view


def txn_view(canon: Callable[[Any], Any]) -> View:
    """The view of a transactional read (list-append, rw-register): each `r` micro-op's
    key and `canon(value)`."""
    def view(event: Mapping[str, Any]) -> list[tuple[Any, Any]]:
        if event.get("f") != "txn":
            return []
        return [(m[1], canon(m[2])) for m in event.get("value") or ()
                if isinstance(m, (list, tuple)) and len(m) == 3 and m[0] == "r"]
    return view


def settled(seen: Mapping[Any, Mapping[str, set]], regions: Iterable[str]) -> bool:
    """Every key read one value, and in every region of `regions` (a region whose read
    was never answered leaves the round unsettled: read again)."""
    regions = set(regions)
    for per in seen.values():
        if not regions <= set(per):
            return False
        if len(frozenset().union(*per.values())) != 1:
            return False
    return True


def seen_of(answers: tuple) -> dict[Any, dict[str, set]]:
    """A round's answers (cons cells `((region, key, value), rest)`, newest first) as
    key -> region -> the values read there: comparable with another round's."""
    seen: dict[Any, dict[str, set]] = {}
    while answers:
        (region, key, value), answers = answers
        seen.setdefault(key, {}).setdefault(region, set()).add(value)
    return seen


@dataclass(frozen=True)
class FinalRounds(Generator):
    """The workload's final reads `reads`, in rounds (module doc). `state`: "read" (a
    round runs; `answers` gathers what its reads returned, one cons cell per answer, so
    recording one costs the same however many keys the run has) or "gap" (the next round
    waits until `resume_at`)."""

    reads: Any
    view: View
    regions: tuple
    deadline_ns: int
    gap_ns: int
    round: int = 1
    current: Any = None
    answers: tuple = ()
    previous: Mapping | None = None  # the round before's seen_of
    started_at: int | None = None
    ended_at: int = 0  # the time of the round's last completion
    resume_at: int = 0
    state: str = "read"

    def _marked(self, n: int) -> Any:
        return map_ops(lambda op: {**op, ROUND: n}, self.reads)

    def op(self, test, ctx):
        g = self
        if g.current is None and g.state == "read":
            g = dataclasses.replace(g, current=g._marked(g.round))
        if g.state == "read":
            res = gen_op(g.current, test, ctx)
            if res is None:
                if not ctx.all_free():
                    return PENDING  # the round's last reads are still in flight
                # decided from the round's own times, not the time of asking: an
                # interpreter may ask again while it waits for the next round's first op
                return g._after_round().op(test, ctx) if g._again() else None
            if res is PENDING:
                return PENDING
            op, nxt = res
            start = g.started_at if g.started_at is not None else op["time"]
            return op, dataclasses.replace(g, current=nxt, started_at=start)
        res = gen_op(g.current, test, ctx)  # "gap": the next round, not before resume_at
        if res is None or res is PENDING:
            return res
        op, nxt = res
        return ({**op, "time": max(op["time"], g.resume_at)},
                dataclasses.replace(g, current=nxt, state="read"))

    def _again(self) -> bool:
        """Whether another round follows this one (module doc). Not after a round none of
        whose reads was answered (each read retried until answered for seconds already,
        workloads.generators.UntilAnswered): the target is not answering, and another
        round would only spend the deadline (or, on aws, a --max-requests budget)."""
        if not self.answers:
            return False
        seen = seen_of(self.answers)
        agreed = settled(seen, self.regions) and (self.round == 1 or seen == self.previous)
        started = self.started_at if self.started_at is not None else self.ended_at
        return not agreed and self.ended_at + self.gap_ns < started + self.deadline_ns

    def _after_round(self) -> "FinalRounds":
        n = self.round + 1
        return dataclasses.replace(self, round=n, current=self._marked(n), answers=(),
                                   previous=seen_of(self.answers),
                                   resume_at=self.ended_at + self.gap_ns, state="gap")

    def update(self, test, ctx, event):
        g = self
        if event.get("type") in ("ok", "fail", "info") and g.state == "read":
            g = dataclasses.replace(g, ended_at=max(g.ended_at, int(event.get("time") or 0)))
        if event.get("type") == "ok" and g.state == "read":
            answers, region = g.answers, event.get("region")
            for key, value in g.view(event):
                answers = ((region, key, value), answers)
            g = dataclasses.replace(g, answers=answers)
        if g.current is None:
            return g
        return dataclasses.replace(g, current=gen_update(g.current, test, ctx, event))


def final_rounds(reads: Any, view: View, *, regions: Iterable[str],
                 deadline_s: float = DEFAULT_DEADLINE_S,
                 gap_s: float = ROUND_GAP_S) -> Any:
    """`reads` (a workload's final generator) run in rounds while the regions disagree
    (module doc); with `deadline_s` 0, once, as before."""
    if deadline_s <= 0:
        return reads
    return FinalRounds(as_gen(reads), view, tuple(regions), seconds_to_ns(deadline_s),
                       seconds_to_ns(gap_s))


__all__ = ["DEFAULT_DEADLINE_S", "FinalRounds", "ROUND", "ROUND_GAP_S", "final_rounds",
           "read_view", "seen_of", "settled", "txn_view"]
