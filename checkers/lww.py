"""A model checker for async (last-writer-wins) registers: is there one arbitration order
with per-region visibility that explains every read of a key?

The per-promise checks of `checkers.async_props` (monotonic reads, read-your-writes,
convergence, the LWW winner) each look at a few operations; a history can pass them all
while no single execution of an async global table explains it (issue 19, class 11).
This checker searches, per key, for such an execution of the model below, and when there
is none reports the smallest set of reads it could find that no execution explains
(shrunk until no read can be left out). "Allowed" means (SEMANTICS.md IDs):

- A06: the writes that took effect are totally ordered by their LWW timestamp; the order
  is unknown to the checker, which searches it. Timestamps come from synchronised clocks,
  so an acknowledged write ended, by more than twice the injected clock skew
  (`observe.skew_margin_ns`), before another began is older than it. Initially no item.
- A01, A05, A06: each region's leader copy walks forward through that order over time
  (it only ever moves to a newer version); a write takes effect in its own region at one
  moment inside its interval (an `info` write at any moment after its invocation, or
  never; a `fail` write never: Jepsen/Knossos) and becomes that region's version at once,
  so it is newer than everything the region held before; a version reaches another region
  at any moment after it took effect (relay or not: A10 is judged elsewhere), or never.
- An SC read (final and quiet reads included) returns its region's version at one moment
  inside its interval. A successful cas (conditional PutItem, evaluated on the local
  replica) took effect in its region while the region held its old value, immediately
  before the new one. A cas answered ConditionalCheckFailed is a non-event (its
  observation that the value differed is not used).
- G2, A05: an EC read in region R returns a version R's leader held at some moment no
  later than the read, and R's EC reads never go back (one monotone walk per region).
- A06, A08, A09: the final SC reads (after the final heal, replication drained) all return
  the last version of the order.
Deletes (issue 21) are writes of "no item": each delete is a version of its own (a
`Tombstone` named by its op), written for sure only by a delete known to have removed an
item (DeleteItem's ALL_OLD; deleting an absent item writes nothing under last-writer-wins),
any other delete as an `info` write. A read of no item on a key that was deleted names no
single version, so such reads are left out (fewer constraints: still sound, blind to what
only reads of absence show). The written values of a key must be unique (at most one
write attempt per value that may have happened); a key that breaks this is "unknown",
with the reason, as is a key whose search exceeds its budget. Reads of unknown outcome constrain
nothing.

Algorithm: the versions are placed in order, oldest first. A placement keeps, per region,
the earliest moment the leader (and the EC walk) can have reached it; these only grow, so
a version whose observations can no longer fit in their intervals dooms the branch at once
(each region's clock is kept below the earliest deadline of the observations still to
place). Candidates are the versions the real-time rule lets come next, tried earliest
deadline first: when the reads force the order (the common case) the first path
succeeds, in n log n. Only ambiguous stretches branch; dead states are remembered (a
state with the same versions placed and time bounds no lower than a dead one's is dead
too), and the search has a per-key budget of placements. Leaving operations out only
removes constraints (a kept read's write is always kept), so a sub-history no execution
explains proves the whole key unexplained: a key over budget is refuted by windows of
consecutive reads (`refute`), else left "unknown" with the reason; and counterexamples
are shrunk by delta debugging (`shrink`). `tests/checkers/lww_oracle.py` is the
independent brute-force oracle it is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from checkers import observe as ob
from results.history import FAIL, OK

INF = float("inf")
NEG = float("-inf")
_NO_OLD = object()  # a plain write (a cas carries its old value)
KIND = "no-lww-order"
BUDGET_BASE = 20_000      # placements per key, plus BUDGET_PER_VERSION per version
BUDGET_PER_VERSION = 50
SHRINK_KEYS = 5           # invalid keys whose counterexample is shrunk
SHRINK_TESTS = 400        # searches one shrink may run
SHRINK_BUDGET = 20_000    # placements per search while shrinking

_WRITE, _SC, _EC = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The version a delete writes: no item, named by the delete's op index."""

    index: int

    def __repr__(self) -> str:
        return f"no item (delete op {self.index})"


@dataclass(frozen=True, slots=True)
class Write:
    """A write or cas that may have taken effect (ok or info)."""

    index: int
    region: Any
    start: float
    end: float          # +inf for an unknown outcome
    ok: bool
    value: Any
    old: Any = _NO_OLD  # a cas's compared value

    @property
    def is_cas(self) -> bool:
        return self.old is not _NO_OLD


@dataclass(frozen=True, slots=True)
class Read:
    """An ok read: SC (final or not) or EC."""

    index: int
    region: Any
    start: float
    end: float
    sc: bool
    final: bool
    value: Any


def _fast_init(cls, fields: Sequence[str]):
    """`cls(*fields)` for a frozen slotted dataclass without its generated `__init__`
    (one `object.__setattr__` per field): the slots' own setters, as `results.history`
    makes its pairs. `key_ops` makes one per operation of a million-operation history."""
    new = object.__new__
    setters = tuple(cls.__dict__[n].__set__ for n in fields)

    def make(*values):
        obj = new(cls)
        for set_, v in zip(setters, values):
            set_(obj, v)
        return obj
    return make


_new_read = _fast_init(Read, ("index", "region", "start", "end", "sc", "final", "value"))
_new_write = _fast_init(Write, ("index", "region", "start", "end", "ok", "value", "old"))


@dataclass(slots=True)
class Outcome:
    """`explained` True (an execution exists), False (none does), None (unknown)."""

    explained: bool | None
    core: list[int] | None = None   # op indices of a set of reads/writes no model explains
    reason: str = ""
    steps: int = 0


class _GiveUp(Exception):
    pass


# --- the search ----------------------------------------------------------------------

def explain(writes: Sequence[Write], reads: Sequence[Read], *, margin: float = 0,
            budget: int | None = None) -> Outcome:
    """Whether some execution of the model (module docstring) explains one key's
    `writes` (ok / info; values unique) and `reads` (ok)."""
    by_value: dict[Any, Write] = {}
    for w in writes:
        if w.value is None or w.value in by_value:
            return Outcome(None, reason=f"value {ob.show(w.value)} written more than once"
                           if w.value is not None else "a write of no item")
        by_value[w.value] = w
    # reads and cas comparisons of values never written, or before their write began
    for r in reads:
        if r.value is None:
            continue
        w = by_value.get(r.value)
        if w is None:
            return Outcome(False, [r.index], f"read of {ob.show(r.value)}, never written")
        if r.end < w.start:
            return Outcome(False, sorted((r.index, w.index)),
                           f"read of {ob.show(r.value)} ended before its write began")
    for c in writes:
        if c.is_cas and c.ok and c.old is not None:
            w = by_value.get(c.old)
            if w is None:
                return Outcome(False, [c.index], f"cas compared {ob.show(c.old)}, never "
                               "written")
            if c.end < w.start:
                return Outcome(False, sorted((c.index, w.index)),
                               f"cas compared {ob.show(c.old)} before its write began")
    finals = [r for r in reads if r.final and r.sc]
    final_values = {r.value for r in finals}
    if len(final_values) > 1:
        a = finals[0]
        b = next(r for r in finals if r.value != a.value)
        return Outcome(False, sorted((a.index, b.index)), "final reads disagree")
    # the versions: ok writes, and info writes something observed (closed under cas olds)
    observed = {r.value for r in reads}
    observed.update(c.old for c in writes if c.is_cas and c.ok)
    must = {w.value for w in writes if w.ok}
    todo = [v for v in observed if v in by_value and v not in must]
    while todo:
        v = todo.pop()
        if v in must:
            continue
        must.add(v)
        w = by_value[v]
        if w.is_cas and w.old is not None:
            if w.old not in by_value:
                seen = next(r.index for r in reads if r.value == v)
                return Outcome(False, sorted((seen, w.index)),
                               f"cas compared {ob.show(w.old)}, never written")
            if w.old not in must:
                todo.append(w.old)
    if final_values:
        fv = next(iter(final_values))
        if fv is None and must:
            w = next(w for w in writes if w.value in must)
            return Outcome(False, sorted((finals[0].index, w.index)),
                           "final reads found no item after a write took effect")
    return _Search(sorted((w for w in writes if w.value in must), key=lambda w: w.start),
                   reads, margin, budget, next(iter(final_values)) if final_values
                   else _NO_OLD).run()


class _Search:
    def __init__(self, writes: list[Write], reads: Sequence[Read], margin: float,
                 budget: int | None, final_value: Any):
        regions = sorted({w.region for w in writes} | {r.region for r in reads}, key=str)
        self.nr = nr = len(regions)
        rix = {r: i for i, r in enumerate(regions)}
        nv = self.nv = len(writes) + 1          # version 0: no item
        self.start = [NEG] + [w.start for w in writes]
        self.origin = [-1] + [rix[w.region] for w in writes]
        vix = {w.value: i + 1 for i, w in enumerate(writes)}
        vix[None] = 0
        self.final = -1 if final_value is _NO_OLD else vix[final_value]
        self.cas_old = [-1] * nv
        obs: list[list[tuple[int, int, float, float]]] = [[] for _ in range(nv)]
        for i, w in enumerate(writes, 1):
            obs[i].append((_WRITE, self.origin[i], w.start, w.end))
            if w.is_cas:
                self.cas_old[i] = vix[w.old]
                obs[vix[w.old]].append((_SC, self.origin[i], w.start, w.end))
        for r in reads:
            obs[vix[r.value]].append((_SC if r.sc else _EC, rix[r.region], r.start, r.end))
        self.obs = obs
        # deadlines: clock ids 0..nr-1 the leaders, nr..2nr-1 the EC walks
        lists: list[list[tuple[float, int]]] = [[] for _ in range(2 * nr)]
        self.deadline = [INF] * nv
        for v, os_ in enumerate(obs):
            q = self.origin[v]
            for kind, r, _s, e in os_:
                if e < self.deadline[v]:
                    self.deadline[v] = e
                if e == INF:
                    continue
                lists[r].append((e, v))
                if q >= 0 and q != r:
                    lists[q].append((e, v))
                if kind == _EC:
                    lists[nr + r].append((e, v))
        for lst in lists:
            lst.sort()
        self.lists = lists
        self.ok_ends = sorted((w.end, i) for i, w in enumerate(writes, 1) if w.ok)
        self.margin = margin
        cas_by_old: dict[tuple[int, int], list[int]] = defaultdict(list)
        for v in range(1, nv):
            if self.cas_old[v] >= 0:
                cas_by_old[(self.origin[v], self.cas_old[v])].append(v)
        self.cas_by_old = cas_by_old
        self.budget = budget if budget is not None else (
            BUDGET_BASE + BUDGET_PER_VERSION * nv)
        self.steps = 0

    # state: placed, clock, ec, last, dptr, okptr, lo, mask, trail
    def run(self) -> Outcome:
        nr, nv = self.nr, self.nv
        self.placed = bytearray(nv)
        self.clock = [NEG] * nr
        self.ec = [NEG] * nr
        self.last = [0] * nr
        self.dptr = [0] * (2 * nr)
        self.okptr = 0
        self.hi = 1                # versions (in order of start) admitted to the pool
        self.pool: list[int] = []  # admitted versions, unplaced when last computed
        self.mask = 0
        self.trail: list[int] = []
        if self.final == 0 and nv > 1:
            return Outcome(False, reason="final reads found no item")
        try:
            ok = self._place(0)
            if ok and nv == 1:
                return Outcome(True, steps=self.steps)
            found = ok and self._dfs()
        except _GiveUp:
            return Outcome(None, reason=f"search budget of {self.budget} placements "
                           f"exceeded ({nv - 1} versions)", steps=self.steps)
        return Outcome(bool(found), reason="" if found else "no order explains the reads",
                       steps=self.steps)

    def _snapshot(self) -> tuple:
        return (self.clock[:], self.ec[:], self.last[:], self.dptr[:], self.okptr,
                self.hi, self.pool, self.mask, len(self.trail))

    def _restore(self, snap: tuple) -> None:
        clock, ec, last, dptr, self.okptr, self.hi, self.pool, self.mask, n = snap
        self.clock, self.ec, self.last, self.dptr = clock[:], ec[:], last[:], dptr[:]
        trail, placed = self.trail, self.placed
        while len(trail) > n:
            placed[trail.pop()] = 0

    def _key(self) -> tuple:
        return (self.mask, tuple(self.last))

    def _clocks(self) -> tuple:
        return tuple(self.clock) + tuple(self.ec)

    def _candidates(self) -> list[int]:
        placed, nv = self.placed, self.nv
        if len(self.trail) == nv - 1 and self.final > 0 and not placed[self.final]:
            v = self.final
            return [v] if self._cas_ready(v) else []
        ends, k = self.ok_ends, self.okptr
        while k < len(ends) and placed[ends[k][1]]:
            k += 1
        self.okptr = k
        limit = (ends[k][0] if k < len(ends) else INF) + self.margin
        start, hi = self.start, self.hi
        pool = [v for v in self.pool if not placed[v]]  # a new list: snapshots keep theirs
        while hi < nv and start[hi] <= limit:
            if not placed[hi]:
                pool.append(hi)
            hi += 1
        self.hi, self.pool = hi, pool
        final = self.final
        out = [v for v in pool if v != final and self._cas_ready(v)]
        if len(out) > 1:
            dl = self.deadline
            out.sort(key=lambda v: (dl[v], start[v]))
        return out

    def _cas_ready(self, v: int) -> bool:
        old = self.cas_old[v]
        return old < 0 or self.last[self.origin[v]] == old

    def _place(self, v: int) -> bool:
        """Place version v next; False when that breaks the model (state then junk)."""
        self.steps += 1
        if self.steps > self.budget:
            raise _GiveUp
        clock, ec, last = self.clock, self.ec, self.last
        q = self.origin[v]
        t = NEG if q < 0 else max(self.start[v], clock[q])
        newclock, newec = clock[:], ec[:]
        touched = set()
        for kind, r, s, e in self.obs[v]:
            if kind == _WRITE:
                lb = t
                if lb > e:
                    return False
                if lb > newclock[r]:
                    newclock[r] = lb
            elif kind == _SC:
                c = clock[r]
                lb = s if s > c else c
                if t > lb:
                    lb = t
                if lb > e:
                    return False
                if lb > newclock[r]:
                    newclock[r] = lb
            else:
                arr = clock[r] if clock[r] > t else t
                lb = max(s, ec[r], arr)
                if lb > e:
                    return False
                if arr > newclock[r]:
                    newclock[r] = arr
                if lb > newec[r]:
                    newec[r] = lb
            touched.add(r)
        self.placed[v] = 1
        self.trail.append(v)
        self.mask |= 1 << v
        for r in touched:
            prev = last[r]
            if prev != v:
                for c in self.cas_by_old.get((r, prev), ()):
                    if not self.placed[c]:
                        return False  # r moved past the old value that cas c needs
                last[r] = v
        self.clock, self.ec = newclock, newec
        nr, lists, dptr, placed = self.nr, self.lists, self.dptr, self.placed
        for cid in range(2 * nr):
            lst = lists[cid]
            k = dptr[cid]
            while k < len(lst) and placed[lst[k][1]]:
                k += 1
            dptr[cid] = k
            if k < len(lst):
                val = newclock[cid] if cid < nr else newec[cid - nr]
                if val > lst[k][0]:
                    return False
        return True

    def _dfs(self) -> bool:
        # dead states by (placed, last versions) -> their clocks: a state with the same
        # placed set and clocks no lower is dead too (clocks are lower bounds only)
        dead: dict[tuple, list[tuple]] = {}
        nv = self.nv
        cands = self._candidates()  # (advances the pool and pointers the snapshot keeps)
        stack = [[self._snapshot(), cands, 0]]
        while stack:
            frame = stack[-1]
            snap, cands, i = frame
            if i >= len(cands):
                self._restore(snap)
                dead.setdefault(self._key(), []).append(self._clocks())
                stack.pop()
                continue
            frame[2] = i + 1
            if i:  # the first candidate starts from the state the frame was made in
                self._restore(snap)
            v = cands[i]
            if not self._place(v):
                continue
            if len(self.trail) == nv:
                return True
            known = dead.get(self._key())
            if known:
                now = self._clocks()
                if any(all(d <= c for d, c in zip(k, now)) for k in known):
                    continue
            cands = self._candidates()
            stack.append([self._snapshot(), cands, 0])
        return False


# --- windows: refuting a key the whole search could not decide ----------------------

WINDOW_READS = (8, 32, 128)   # reads per window, windows half-overlapping
WINDOW_BUDGET = 5_000         # placements per window's search


def refute(writes: Sequence[Write], reads: Sequence[Read], *, margin: float = 0
           ) -> tuple[list[Write], list[Read]] | None:
    """A window of the history no execution explains, or None: consecutive reads (in
    order of start), with the writes their values and the cas among them need and every
    write overlapping their span; each window alone and with the final reads. Leaving
    operations out only removes constraints (module docstring), so an unexplained window
    proves the whole key unexplained."""
    by_value = {w.value: w for w in writes}
    finals = [r for r in reads if r.final and r.sc]
    body = sorted((r for r in reads if not (r.final and r.sc)), key=lambda r: r.start)
    for size in WINDOW_READS:
        step = max(1, size // 2)
        for i in range(0, max(1, len(body)), step):
            win = body[i:i + size]
            lo, hi = min(r.start for r in win), max(r.end for r in win)
            ws = {w.index: w for w in writes if w.start <= hi and w.end >= lo}
            for extra in ([], finals):
                rs = win + extra
                todo = [by_value[r.value] for r in rs if r.value in by_value]
                todo += list(ws.values())
                sub = dict(ws)
                while todo:
                    w = todo.pop()
                    sub[w.index] = w
                    if w.is_cas and w.old in by_value and by_value[w.old].index not in sub:
                        todo.append(by_value[w.old])
                sub_ws = sorted(sub.values(), key=lambda w: w.index)
                if explain(sub_ws, rs, margin=margin,
                           budget=WINDOW_BUDGET).explained is False:
                    return sub_ws, rs
                if not finals:
                    break
            if i + size >= len(body):
                break
        if size >= len(body):
            break
    return None


# --- shrinking -----------------------------------------------------------------------

def shrink(writes: Sequence[Write], reads: Sequence[Read], *, margin: float = 0,
           budget: int | None = None, tests: int = SHRINK_TESTS
           ) -> tuple[list[Write], list[Read], bool]:
    """A subset of the reads (then of the writes, keeping those the kept operations
    observe) that no execution explains, from which no single read or write can be left
    out (given the search's budget; at most `tests` searches, else the third value is
    False): 1-minimal, by delta debugging. Leaving operations out only removes
    constraints, so the subset's being unexplained proves the whole's."""
    left = [tests]

    def unexplained(ws, rs) -> bool:
        if left[0] <= 0:
            return False
        left[0] -= 1
        return explain(ws, rs, margin=margin, budget=budget).explained is False

    rs = _ddmin(list(reads), lambda sub: unexplained(writes, sub))
    by_value = {w.value: w for w in writes}

    def closed(ws: Sequence[Write]) -> list[Write]:
        """`ws` with the writes their cas compare against (so none becomes a cas of a
        value never written), and the writes of the values the kept reads return."""
        out = {w.index: w for w in ws}
        todo = list(ws) + [by_value[r.value] for r in rs if r.value in by_value]
        while todo:
            w = todo.pop()
            out[w.index] = w
            if w.is_cas and w.old in by_value and by_value[w.old].index not in out:
                todo.append(by_value[w.old])
        return sorted(out.values(), key=lambda w: w.index)

    ws = _ddmin(list(writes), lambda sub: unexplained(closed(sub), rs))
    return closed(ws), rs, left[0] > 0


def _ddmin(items: list, still_fails) -> list:
    n = 2
    while len(items) >= 1:
        size = max(1, len(items) // n)
        removed = False
        for k in range(0, len(items), size):
            rest = items[:k] + items[k + size:]
            if still_fails(rest):
                items = rest
                n = max(n - 1, 2)
                removed = True
                break
        if not removed:
            if size == 1:
                break
            n = min(len(items), n * 2)
    return items


# --- the checker ---------------------------------------------------------------------

def key_ops(pairs: Iterable) -> tuple[dict[Any, list[Write]], dict[Any, list[Read]],
                                      dict[Any, str]]:
    """Per key: the writes that may have happened, the ok reads, and the keys whose
    precondition fails (key -> reason): a value written by more than one attempt that may
    have happened, or a write of no item."""
    writes: dict[Any, list[Write]] = defaultdict(list)
    reads: dict[Any, list[Read]] = defaultdict(list)
    bad: dict[Any, str] = {}
    freeze = ob.freeze
    for p in pairs:
        inv = p.invoke
        f, key = inv.f, inv.key
        if f == "read":
            if p.type == OK:
                # (`ob.region_of`, `ob.is_sc`, `ob.is_final` and `ob.read_value` inlined:
                # this visits every read of the history; an ok read has its completion)
                c = p.complete
                region = inv.region
                if region is None:
                    region = c.region
                consistent = inv.consistent
                if consistent is None:
                    consistent = c.consistent
                final = bool(inv.extra.get("final")) or bool(c.extra.get("final"))
                reads[key].append(_new_read(inv.index, region, p.start, p.end,
                                            consistent is not False, final, freeze(c.value)))
        elif f in ob.WRITE_FS:
            if p.type == FAIL:
                continue
            v = p.invoke.value
            if f == "cas":
                if not isinstance(v, list | tuple) or len(v) != 2:
                    bad.setdefault(key, f"op {p.invoke.index}: a cas value is not [old, new]")
                    continue
                old, new = ob.freeze(v[0]), ob.freeze(v[1])
            else:
                old, new = _NO_OLD, ob.freeze(v)
            end = p.end if p.type == OK and p.end is not None else INF
            ok = p.type == OK
            if new is None:
                # a delete (issue 21): a version of its own, "no item", told apart from
                # every other delete and from the initial state by its op index. Only a
                # delete known to have removed an item wrote one (DeleteItem ALL_OLD; a
                # delete of an absent item writes nothing under last-writer-wins); any
                # other may have taken effect at any moment after its invocation, or never
                # (as an info write: Knossos).
                new = Tombstone(p.invoke.index)
                if ob.maybe_noop_delete(p):
                    ok, end = False, INF
            writes[key].append(_new_write(p.invoke.index, ob.region_of(p), p.start, end,
                                          ok, new, old))
    for key in [k for k, ws in writes.items() if any(isinstance(w.value, Tombstone)
                                                     for w in ws)]:
        # a read of no item names no one version when the key was deleted: any delete's
        # or the initial one. The search names one version per read, so those reads are
        # left out: fewer constraints, so a key still unexplained is a real violation
        # (sound), at the price of what only reads of absence would show.
        reads[key] = [r for r in reads[key] if r.value is not None]
    for key, ws in writes.items():
        seen: dict[Any, int] = {}
        for w in ws:
            if w.value is None:
                bad.setdefault(key, f"op {w.index} writes no item (a delete), which the "
                               "model cannot tell from the initial state")
            elif w.value in seen:
                bad.setdefault(key, f"value {ob.show(w.value)} was written by more than "
                               f"one attempt that may have happened (ops {seen[w.value]}, "
                               f"{w.index}): the version a read names is unknowable")
            else:
                seen[w.value] = w.index
    return writes, reads, bad


def lww_model_check(test, history, opts) -> dict:
    """The checker: per key, `explain`; an unexplained key is a violation whose anomaly
    lists a shrunk set of operations (first `SHRINK_KEYS` keys; the rest unshrunk)."""
    try:
        pairs = ob.client_pairs(history)
    except Exception as e:  # noqa: BLE001 - an unpairable history: say so, judge nothing
        return {"valid": "unknown", "reason": f"history cannot be paired: {e}",
                "anomalies": [], "anomaly_counts": {}}
    margin = ob.skew_margin_ns(history)
    writes, reads, bad = key_ops(pairs)
    keys = sorted(set(writes) | set(reads), key=str)
    found, unknown, explained, steps = [], {}, 0, 0
    shrunk = 0
    for key in keys:
        if key in bad:
            unknown[str(key)] = bad[key]
            continue
        ws, rs = writes.get(key, []), reads.get(key, [])
        out = explain(ws, rs, margin=margin)
        steps += out.steps
        if out.explained is None:
            window = refute(ws, rs, margin=margin)
            if window is None:
                unknown[str(key)] = out.reason
                continue
            ws, rs = window  # an unexplained window: the key is unexplained
            out = Outcome(False, reason=f"a window of {len(rs)} reads no order explains; "
                          f"the whole key's {out.reason}")
        if out.explained:
            explained += 1
        else:
            core, minimal = out.core, out.core is not None
            if core is None and shrunk < SHRINK_KEYS:
                shrunk += 1
                if len(rs) > WINDOW_READS[0] and not out.reason.startswith("a window"):
                    ws, rs = refute(ws, rs, margin=margin) or (ws, rs)  # a smaller start
                sw, sr, minimal = shrink(ws, rs, margin=margin, budget=SHRINK_BUDGET)
                core = sorted([w.index for w in sw] + [r.index for r in sr])
                core_reads = list(sr)
            else:
                core_reads = [r for r in rs if core is None or r.index in core]
            found.append(_anomaly(key, rs, core, core_reads, out.reason, minimal))
    judged = explained + len(found)
    res = ob.result(found, judged=judged > 0 and not unknown, keys=len(keys),
                    keys_explained=explained, unknown_keys=dict(list(unknown.items())[:20]),
                    unknown_key_count=len(unknown), steps=steps, margin_ns=margin)
    if unknown and res["valid"] is not False:
        res["valid"] = "unknown"
        first = next(iter(unknown.items()))
        res["reason"] = (f"{len(unknown)} key(s) not judged, e.g. {first[0]}: {first[1]}")
    elif not keys:
        res["reason"] = "nothing to check: no register reads or writes"
    return res


def _anomaly(key, rs: Sequence[Read], core: list[int] | None,
             core_reads: Sequence[Read], why: str, minimal: bool) -> dict:
    ops = core if core is not None else sorted(r.index for r in rs)
    shown = ", ".join(
        f"{'SC' if r.sc else 'EC'}{' final' if r.final else ''} read of "
        f"{ob.show(r.value)} in {r.region} (op {r.index})" for r in core_reads[:8])
    more = f" and {len(core_reads) - 8} more" if len(core_reads) > 8 else ""
    n_w = len([i for i in ops if i not in {r.index for r in core_reads}])
    text = (f"No last-writer-wins order of the writes of {key} with per-region "
            f"visibility explains these reads together: {shown or 'the reads'}{more}"
            f" (with {n_w} write(s); {why})" + (
                "; any read left out makes them explainable" if minimal else
                "; not shrunk to a minimal set (shrinking limit reached)"))
    return ob.anomaly(KIND, expected=False, key=key, region=None, ops=ops[:50],
                      explanation=text, reads=[r.index for r in core_reads][:50],
                      core_size=len(ops), minimal=minimal)


__all__ = ["Write", "Read", "Outcome", "explain", "shrink", "lww_model_check", "KIND"]
