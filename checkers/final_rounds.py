"""Which final reads are final: those of the last final round.

The final phase reads every key in every region in rounds while the regions disagree
(suite/final_rounds.py; every final op carries `extra["final_round"]` = n, none: 1), and
ends when a round agrees or at a deadline. Convergence is a property of the state once
writes stop and replication has settled (SEMANTICS.md A06, A08, A09), so the reads that
speak for that state are the last round's; an earlier round is the history of the settling
(a write replicated late landing between two reads, issue 21), made of SC reads that every
per-read promise still judges (A01 read-your-writes, A05 monotonic reads, written values).
`last_round_final(history)` is the history as the checkers read it: the answered (`ok`)
final ops of rounds before the last answered one lose their `final` mark (keeping `final_round`, so a report
can still name the round), everything else is unchanged; a final op that was not
answered keeps its mark, so the availability checker still leaves it out (a read that
could not be made is no evidence that the region stopped serving, issue 21 item 4). A
history with one round (all histories before rounds, and every run whose first round
agreed) is returned as it is, the same object, so the checkers' shared indexes
(`observe.client_pairs`) still apply. The recorded history is never changed: record first,
judge later.
"""

from __future__ import annotations

from typing import Sequence

from results.history import INVOKE, NEMESIS, OK, Op, pair

ROUND = "final_round"


def _round(op: Op) -> int | None:
    """The final round of a final op (1 when unnumbered), None for any other op."""
    extra = op.extra
    if not extra.get("final"):
        return None
    n = extra.get(ROUND, 1)
    return n if isinstance(n, int) and not isinstance(n, bool) else 1


def _final_tail(history: Sequence[Op]) -> int:
    """Where the final phase's client ops begin: the final phase is the end of the
    history, so the scan stops at the last invocation of a client op that is not final."""
    i = len(history)
    while i > 0:
        op = history[i - 1]
        if op.type == INVOKE and op.process != NEMESIS and not op.extra.get("final"):
            break
        i -= 1
    return i


def rounds_of(history: Sequence[Op]) -> list[int]:
    """The final rounds the history holds, in order ([] when it has no final read)."""
    if not history or not isinstance(history[-1], Op):
        return []
    return sorted({n for op in history[_final_tail(history):]
                   if op.process != NEMESIS and (n := _round(op)) is not None})


def last_round_final(history: Sequence[Op]) -> Sequence[Op]:
    """`history` with only the last final round's answered ops marked final (module doc)."""
    if not history or not isinstance(history[-1], Op):
        return history  # not a recorded history (nothing of ours to read in it)
    rounds = rounds_of(history)
    if len(rounds) <= 1:
        return history
    start = _final_tail(history)
    tail = history[start:]
    # The last round that was answered at all: a round none of whose reads was answered
    # (e.g. the aws target's --max-requests spent) says nothing about the state.
    last = max((n for op in tail if op.process != NEMESIS and op.type == OK
                and (n := _round(op)) is not None), default=None)
    if last is None:
        return history
    superseded: set[int] = set()  # ids of the ops of superseded rounds answered ok
    for p in pair(tail):
        n = _round(p.invoke)
        if p.invoke.is_client and p.type == OK and n is not None and n < last:
            superseded.update((id(p.invoke), id(p.complete)))
    if not superseded:
        return history
    out = list(history[:start])
    for op in tail:
        if id(op) in superseded:
            op = op.replace(extra={k: v for k, v in op.extra.items() if k != "final"})
        out.append(op)
    return out


__all__ = ["ROUND", "last_round_final", "rounds_of"]
