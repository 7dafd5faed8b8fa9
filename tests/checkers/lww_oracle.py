"""A brute-force oracle for `checkers.lww`: enumerate every LWW order and every execution.

Written apart from the checker (it shares none of its code or its idea of placing versions
with time lower bounds): for one key of a tiny history it enumerates every set of `info`
writes that took effect, every permutation of the writes that took effect as their
timestamp order (keeping those where an acknowledged write that ended, by more than the
margin, before another began comes first), and then every interleaving of the operations
with replication deliveries, as a store would run them:

- operations take effect one at a time, an operation only after every operation that
  ended before it began (real time); an `info` one at any later point;
- a write (or a cas whose old value its region holds) in region R becomes R's version; it
  must be newer, in the chosen order, than R's current version;
- at any point a version that took effect may reach a region whose version is older;
- an SC read returns its region's current version (a final SC read: the newest version
  of the order); an EC read returns a version its region held so far, not older than the
  previous EC read of that region returned;
- `fail` writes never happen; a cas answered ConditionalCheckFailed is a non-event.

That is SEMANTICS.md A01, A05, A06, G2 as `checkers/lww.py`'s docstring words them. It is
exponential: meant for histories of a handful of writes and reads.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from results.history import FAIL, OK, pair

INF = float("inf")


def _frozen(v: Any) -> Any:
    return tuple(_frozen(x) for x in v) if isinstance(v, list | tuple) else v


class _Op:
    def __init__(self, p):
        self.index = p.invoke.index
        self.f = p.invoke.f
        self.region = p.invoke.region
        self.start = p.invoke.time
        self.ok = p.complete is not None and p.complete.type == OK
        self.end = p.complete.time if self.ok else INF
        if self.f == "cas":
            self.old, self.new = (_frozen(x) for x in p.invoke.value)
        elif self.f == "write":
            self.old, self.new = None, _frozen(p.invoke.value)
        else:
            self.old, self.new = None, None
        self.got = _frozen(p.complete.value) if self.ok and self.f == "read" else None
        self.sc = p.invoke.consistent is not False
        self.final = bool(p.invoke.extra.get("final"))


def valid(history, *, margin: int = 0) -> bool | None:
    """True if every key has an execution explaining it, False if one has none, None if
    a key's written values are not unique."""
    by_key: dict[Any, list[_Op]] = defaultdict(list)
    for p in pair(history):
        if not p.invoke.is_client or p.type == FAIL:
            continue
        if p.invoke.f == "read" and p.type != OK:
            continue
        by_key[p.invoke.key].append(_Op(p))
    for ops in by_key.values():
        res = _key_valid(ops, margin)
        if res is not True:
            return res
    return True


def _key_valid(ops: list[_Op], margin: int) -> bool | None:
    writes = [o for o in ops if o.f != "read"]
    values = [w.new for w in writes]
    if None in values or len(set(values)) != len(values):
        return None
    regions = sorted({o.region for o in ops}, key=str)
    info = [w for w in writes if not w.ok]
    for k in range(len(info) + 1):
        for landed in itertools.combinations(info, k):
            effect = [w for w in writes if w.ok or w in landed]
            for order in itertools.permutations(effect):
                if not _respects_real_time(order, margin):
                    continue
                if _Run(ops, order, regions, effect).explains():
                    return True
    return False


def _respects_real_time(order, margin: int) -> bool:
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            if b.ok and b.end + margin < a.start:
                return False  # b ended before a began, yet a is the older
    return True


class _Run:
    """The interleavings of one key's operations under one timestamp order."""

    def __init__(self, ops, order, regions, effect):
        self.ops = ops
        self.rank = {w.new: i for i, w in enumerate(order)}  # value -> position
        self.value_at = [w.new for w in order]
        self.top = len(order) - 1                             # -1: no item at all
        self.region = {r: i for i, r in enumerate(regions)}
        self.effect = set(map(id, effect))
        self.before = [frozenset(j for j, o in enumerate(ops) if o.end < p.start)
                       for p in ops]
        self.dead: set = set()

    def value(self, pos: int) -> Any:
        return None if pos < 0 else self.value_at[pos]

    def explains(self) -> bool:
        n = len(self.region)
        return self.step(frozenset(), (-1,) * n, (frozenset([-1]),) * n, (-1,) * n,
                         frozenset())

    def step(self, done, cur, held, ec, landed) -> bool:
        if len(done) == len(self.ops):
            return True
        state = (done, cur, held, ec, landed)
        if state in self.dead:
            return False
        for j, o in enumerate(self.ops):
            if j in done or not self.before[j] <= done:
                continue
            r = self.region[o.region]
            nd = done | {j}
            if o.f == "read":
                if o.sc:
                    want = self.top if o.final else cur[r]
                    if cur[r] == want and self.value(cur[r]) == o.got \
                            and self.step(nd, cur, held, ec, landed):
                        return True
                    continue
                for pos in held[r]:
                    if pos >= ec[r] and self.value(pos) == o.got:
                        e2 = ec[:r] + (pos,) + ec[r + 1:]
                        if self.step(nd, cur, held, e2, landed):
                            return True
                continue
            if id(o) not in self.effect:
                if self.step(nd, cur, held, ec, landed):
                    return True
                continue
            pos = self.rank[o.new]
            if pos <= cur[r]:
                continue
            if o.f == "cas" and self.value(cur[r]) != o.old:
                continue
            c2, h2 = _hold(cur, held, r, pos)
            if self.step(nd, c2, h2, ec, landed | {pos}):
                return True
        for pos in landed:  # replication: a version reaches a region holding an older one
            for r in range(len(cur)):
                if pos > cur[r]:
                    c2, h2 = _hold(cur, held, r, pos)
                    if self.step(done, c2, h2, ec, landed):
                        return True
        self.dead.add(state)
        return False


def _hold(cur, held, r, pos):
    return (cur[:r] + (pos,) + cur[r + 1:],
            held[:r] + (held[r] | {pos},) + held[r + 1:])
