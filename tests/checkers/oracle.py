"""A brute-force oracle for small histories: does any execution of the store explain them?

Independent of the checkers (it shares no code with `checkers/`): it enumerates, per key,
every order in which the operations can take effect (respecting real time: an operation
that completed before another began takes effect first), every choice for operations of
unknown outcome (`info`: take effect at some point after their start, or never), and,
for the async store, every delivery of a version to another region at any moment, and
asks whether the reads can all have returned what they did. Definitions:

- "async" (SEMANTICS.md A01, A05, A06, G2): each region holds one version of the item; a
  write, cas or add takes effect in its own region on the local copy (a cas only if the
  local value equals its old value; an add writes local value + delta, or local set plus
  element) and creates a new version with a later timestamp than every existing one (no
  clock skew here); a version reaches another region at any later moment and replaces the
  copy there only if it is newer (last writer wins). An SC read returns its region's copy;
  an EC read returns a copy the region held earlier, never older than the previous EC
  read in that region returned. Final reads happen after every version reached every
  region.
- "strong" (M06, M07): one copy shared by all regions, so the SC operations are
  linearizable; EC reads as above, over that copy's past.

`fail` operations did not happen (Jepsen/Knossos `:fail`), except that a cas answered
ConditionalCheckFailed observed its region's value differ from its old value at some
moment of its interval (DynamoDB's meaning, gtcheck's JSONL); `info` operations may or
may not have. The search is exponential: meant for a dozen operations per key.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from results.history import FAIL, OK, pair


def _freeze(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    return v


class _Op:
    __slots__ = ("i", "f", "region", "start", "end", "ok", "value", "out", "sc", "final",
                 "mismatch")

    def __init__(self, i, p):
        self.i = i
        self.f = p.invoke.f
        self.region = p.invoke.region
        self.start = p.invoke.time
        self.ok = p.complete is not None and p.complete.type == OK
        # a cas answered ConditionalCheckFailed: an observation that the value differed
        self.mismatch = (p.complete is not None and p.complete.type == FAIL
                         and p.invoke.f == "cas"
                         and "ConditionalCheckFailed" in str(p.complete.error or ""))
        self.end = p.complete.time if (self.ok or self.mismatch) else None
        self.value = _freeze(p.invoke.value)
        self.out = p.complete.value if self.ok else None
        self.sc = p.invoke.consistent is not False
        self.final = bool(p.invoke.extra.get("final"))


def valid(history, store: str, workload: str, *, budget: int = 2_000_000) -> bool | None:
    """True if some execution of `store` ("async" | "strong") explains the history, False
    if none does, None if the search gave up after `budget` states."""
    by_key: dict[Any, list] = defaultdict(list)
    for p in pair(history):
        if not p.invoke.is_client:
            continue
        if p.type == FAIL and not (p.invoke.f == "cas" and "ConditionalCheckFailed"
                                   in str(p.complete.error or "")):
            continue
        if p.invoke.f == "read" and p.type != OK:
            continue  # a read of unknown result constrains nothing
        by_key[p.invoke.key].append(p)
    regions = sorted({p.invoke.region for ps in by_key.values() for p in ps})
    for key, ps in by_key.items():
        res = _Key([_Op(i, p) for i, p in enumerate(ps)], regions, store, workload,
                   budget).run()
        if res is not True:
            return res
    return True


class _Key:
    def __init__(self, ops, regions, store, workload, budget):
        self.ops, self.store, self.workload = ops, store, workload
        self.regions = regions if store == "async" else ["*"]
        self.ridx = {r: i for i, r in enumerate(self.regions)}
        self.fidx = {r: i for i, r in enumerate(regions)}  # EC floors are per region
        self.budget = budget
        self.seen: set = set()
        # op j may take effect only once every op that completed before it began has
        self.preds = [frozenset(k for k, o in enumerate(ops)
                                if o.end is not None and o.end < p.start) for p in ops]
        self.initial = {"register": None, "counter": 0, "set": frozenset()}[workload]

    def where(self, op) -> int:
        return self.ridx[op.region] if self.store == "async" else 0

    def expect(self, op):
        v = op.out
        if self.workload == "counter":
            return 0 if v is None else v
        if self.workload == "set":
            return frozenset(_freeze(x) for x in (v or ()))
        return _freeze(v)

    def apply(self, current, op):
        """The new value, or None when the op has no effect (a cas that does not match)."""
        if op.f == "write":
            return (op.value,)
        if op.f == "cas":
            old, new = op.value
            return (new,) if current == old else None
        if self.workload == "counter":
            return (current + op.value,)
        return (current | {op.value},)

    def run(self) -> bool | None:
        n = len(self.regions)
        start = (frozenset(), (0,) * n, ((0,),) * n, (0,) * len(self.fidx), (self.initial,))
        try:
            return self.search(*start)
        except _GiveUp:
            return None

    def search(self, done, copies, held, floors, versions) -> bool:
        state = (done, copies, held, floors, versions)
        if state in self.seen:
            return False
        if len(self.seen) >= self.budget:
            raise _GiveUp
        self.seen.add(state)
        if len(done) == len(self.ops):
            return True
        pending = [j for j in range(len(self.ops)) if j not in done]
        finals_next = all(self.ops[j].final for j in pending)
        if finals_next and self.store == "async":
            top = len(versions) - 1  # before final reads every region holds the newest
            if any(c != top for c in copies):
                copies = (top,) * len(copies)
                held = tuple(h if h[-1] == top else h + (top,) for h in held)
        for j in pending:
            op = self.ops[j]
            if not self.preds[j] <= done:
                continue
            if op.final and not finals_next:
                continue
            nd = done | {j}
            r = self.where(op)
            cur = versions[copies[r]]
            if op.mismatch:
                if cur != op.value[0] and self.search(nd, copies, held, floors, versions):
                    return True
                continue
            if op.f == "read":
                want = self.expect(op)
                if op.sc:
                    if cur == want and self.search(nd, copies, held, floors, versions):
                        return True
                    continue
                h = held[r]
                f = self.fidx[op.region]
                for pos in range(floors[f], len(h)):
                    if versions[h[pos]] == want:
                        fl = list(floors)
                        fl[f] = pos
                        if self.search(nd, copies, held, tuple(fl), versions):
                            return True
                continue
            if not op.ok and self.search(nd, copies, held, floors, versions):
                return True  # an unknown outcome that never took effect
            new = self.apply(cur, op)
            if new is None:
                continue  # an acknowledged cas matched; an unknown one that did not: dropped

            vs = versions + new
            if self.search(nd, *_hold(copies, held, r, len(vs) - 1), floors, vs):
                return True
        if self.store == "async":  # a version reaches another region
            for r in range(len(copies)):
                for v in range(copies[r] + 1, len(versions)):
                    if self.search(done, *_hold(copies, held, r, v), floors, versions):
                        return True
        return False


def _hold(copies: tuple, held: tuple, r: int, v: int) -> tuple[tuple, tuple]:
    """(copies, held) once region r holds version v."""
    cs = list(copies)
    cs[r] = v
    hs = list(held)
    hs[r] = held[r] + (v,)
    return tuple(cs), tuple(hs)


class _GiveUp(Exception):
    pass

