"""What asynchronous (last-writer-wins) global tables promise, as register checkers.

SEMANTICS.md A01/A05/A06/A08/A09: a write is durable and visible in its own region first
(SC read-your-writes in-region); reads of one item in one region never go back in time;
conflicts resolve by last writer wins, so once faults heal every region converges on the
write with the highest timestamp; and, as for any store, a read returns only values that
were written, and a write that definitely failed is never seen. These are promises: a
violation makes the run invalid. What async replication allows (stale reads across
regions, lost increments, non-linearizable histories, the no-relay effect) lives in
`checkers.anomalies` and is only reported.

Going back in time is judged without version numbers, from the fact that written values are
unique and a region's copy of an item moves through versions of increasing timestamp: a
region holds each value during one contiguous stretch of time. Every ok SC read in region R
(and every write or cas acknowledged in R, which was applied there within its interval)
is an observation "R held v at some moment in [start, end]". If v was observed ending
before w's observation began, and w was observed ending before v's began, R went v, w, v:
impossible. Any cycle of such "before" edges implies one of length two (the value with the
earliest end closes it), so checking pairs is complete; a sweep finds them in n log n.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any, Callable, Iterable, Mapping, Sequence

from checkers import observe as ob
from checkers.observe import NEG_INF, WRITE_FS, Pair
from results.history import OK

INF = float("inf")


# --- per-region order (monotonic reads, read-your-writes) ----------------------------

class _Seen:
    """One value's observations in one region: the earliest end and the latest start."""

    __slots__ = ("value", "end", "end_pair", "start", "start_pair")

    def __init__(self, value: Any):
        self.value = value
        self.end: float = float("inf")
        self.end_pair: Pair | None = None
        self.start: float = NEG_INF
        self.start_pair: Pair | None = None

    def add(self, p: Pair) -> None:
        if p.end < self.end:
            self.end, self.end_pair = p.end, p
        if p.start > self.start:
            self.start, self.start_pair = p.start, p

    def add_end(self, p: Pair) -> None:
        """Evidence the value was held at some moment before `p` ended (an EC read, for
        the leader's SC stream: a copy holds only what its leader held earlier, G2)."""
        if p.end < self.end:
            self.end, self.end_pair = p.end, p


def _observations(pairs: Sequence[Pair], stream: str) -> dict[tuple, dict[Any, _Seen]]:
    """(region, key) -> value -> _Seen, for the SC stream (SC reads and acknowledged
    writes, EC reads as evidence of the past) or the EC stream (EC reads)."""
    sc, ec = ob.memo(pairs, "observations", lambda: _observe(pairs))
    return sc if stream == "sc" else ec


def _observe(pairs: Iterable[Pair]) -> tuple[dict[tuple, dict[Any, _Seen]],
                                             dict[tuple, dict[Any, _Seen]]]:
    """Both streams' observations, in one pass over the history."""
    # (`ob.is_sc`, `ob.region_of`, `ob.read_value` and `_Seen.add` / `add_end` inlined:
    # this loop visits every operation of the history)
    sc_groups: dict[tuple, dict[Any, _Seen]] = defaultdict(dict)
    ec_groups: dict[tuple, dict[Any, _Seen]] = defaultdict(dict)
    freeze = ob.freeze
    for p in pairs:
        c = p.complete
        if c is None or c.type != OK:
            continue
        inv = p.invoke
        f = inv.f
        ec_read = False
        if f == "read":
            consistent = inv.consistent
            if consistent is None:
                consistent = c.consistent
            ec_read = consistent is False
            values = (freeze(c.value),)
        elif f in WRITE_FS:
            values = (freeze(ob.written_value(p)),)
            if f == "cas" and isinstance(inv.value, list | tuple):
                values += (freeze(inv.value[0]),)
        else:
            continue
        region = inv.region
        if region is None:
            region = c.region
        start, end = inv.time, c.time
        # the SC stream: an EC read is evidence only of the past (its end)
        g = sc_groups[(region, inv.key)]
        for v in values:
            seen = g.get(v)
            if seen is None:
                seen = g[v] = _Seen(v)
            if end < seen.end:
                seen.end, seen.end_pair = end, p
            if not ec_read and start > seen.start:
                seen.start, seen.start_pair = start, p
        if ec_read:  # the EC stream: EC reads
            g = ec_groups[(region, inv.key)]
            v = values[0]
            seen = g.get(v)
            if seen is None:
                seen = g[v] = _Seen(v)
            if end < seen.end:
                seen.end, seen.end_pair = end, p
            if start > seen.start:
                seen.start, seen.start_pair = start, p
    deleted = ob.deleted_keys(pairs)
    for groups in (sc_groups, ec_groups):
        for (_, key), g in groups.items():
            if key in deleted:
                # A deleted item is absent again later: "no item" is a value held in
                # several stretches, so it cannot stand in an order of unique values
                # (issue 21); its reads are judged by the timing rules (provably_older).
                g.pop(None, None)
                continue
            initial = g.get(None)
            if initial is not None:  # the item starts absent: "no item" held from time 0
                initial.end, initial.end_pair = NEG_INF, None
    return sc_groups, ec_groups


def _two_cycles(seen: Iterable[_Seen]) -> list[tuple[_Seen, _Seen]]:
    """Pairs (v, w) with v observed before w and w observed before v, n log n."""
    items = list(seen)
    by_end = sorted(items, key=lambda s: s.end)
    by_start = sorted(items, key=lambda s: s.start)
    top: list[_Seen] = []  # the two largest starts among added items, distinct values
    i, found, done = 0, [], set()
    for w in by_start:
        while i < len(by_end) and by_end[i].end < w.start:
            s = by_end[i]  # kept as a stable sort on -start of top + [s] would keep it
            if not top:
                top = [s]
            elif len(top) == 1:
                top = [top[0], s] if top[0].start >= s.start else [s, top[0]]
            elif s.start > top[0].start:
                top = [s, top[0]]
            elif s.start > top[1].start:
                top = [top[0], s]
            i += 1
        best = next((t for t in top if t is not w), None)
        if best is not None and best.start > w.end:
            k = frozenset((id(best), id(w)))
            if k not in done:
                done.add(k)
                found.append((best, w))
    return found


def _is_read(p: Pair | None) -> bool:
    return p is not None and p.invoke.f == "read"


def _is_write(p: Pair | None) -> bool:
    return p is not None and p.invoke.f in WRITE_FS


def _order_anomaly(v: _Seen, w: _Seen, *, region: str, key: Any, stream: str,
                   expected: bool) -> dict:
    # The cycle: v seen (v.end_pair) before w (w.start_pair); w seen (w.end_pair) before v
    # (v.start_pair). Tell it as first value a, then b, then a again, choosing the telling
    # whose "again" observation is a read.
    o1 = (v, w)  # a=v: first=v.end_pair, mid=w, again=v.start_pair
    o2 = (w, v)
    if w.value is None:
        a, b = o2
    elif v.value is None:
        a, b = o1
    else:
        a, b = o1 if _is_read(v.start_pair) or not _is_read(w.start_pair) else o2
    first, mid_start, mid_end, again = a.end_pair, b.start_pair, b.end_pair, a.start_pair
    name = "SC" if stream == "sc" else "EC"
    involved = [p for p in (first, mid_start, mid_end, again) if p is not None]
    ops = sorted({p.invoke.index for p in involved})
    if stream == "sc" and _is_write(mid_end) and not _is_write(again):
        if first is None:
            text = (f"SC read of {key} in {region} at {ob.secs(again.start)} (op "
                    f"{again.invoke.index}) found no item, but write {ob.show(b.value)} had been "
                    f"acknowledged in {region} at {ob.secs(mid_end.end)} (op "
                    f"{mid_end.invoke.index}) before the read began")
        else:
            text = (f"SC read of {key} in {region} at {ob.secs(again.start)} (op "
                    f"{again.invoke.index}) returned {ob.show(a.value)}, but write "
                    f"{ob.show(b.value)} had been acknowledged in {region} at "
                    f"{ob.secs(mid_end.end)} (op {mid_end.invoke.index}) after "
                    f"{ob.show(a.value)} was seen there (op {first.invoke.index}, done at "
                    f"{ob.secs(first.end)})")
        return ob.anomaly("read-your-writes", expected=expected, key=key, region=region,
                          ops=ops, explanation=text)
    if first is None:
        text = (f"{name} reads of {key} in {region} went back in time: op "
                f"{again.invoke.index} found no item at {ob.secs(again.start)} after "
                f"{ob.show(b.value)} had been seen there (op {mid_end.invoke.index}, done at "
                f"{ob.secs(mid_end.end)})")
    elif mid_start is mid_end:
        text = (f"{name} reads of {key} in {region} went back in time: "
                f"{ob.show(a.value)} was seen (op {first.invoke.index}, done at "
                f"{ob.secs(first.end)}), then {ob.show(b.value)} (op {mid_start.invoke.index}, "
                f"{ob.secs(mid_start.start)} to {ob.secs(mid_start.end)}), then "
                f"{ob.show(a.value)} again (op {again.invoke.index}, begun at "
                f"{ob.secs(again.start)})")
    else:
        text = (f"{name} reads of {key} in {region} went back in time: "
                f"{ob.show(a.value)} was seen (op {first.invoke.index}, done at "
                f"{ob.secs(first.end)}) before {ob.show(b.value)} (op "
                f"{mid_start.invoke.index}, begun at {ob.secs(mid_start.start)}), and "
                f"{ob.show(b.value)} (op {mid_end.invoke.index}, done at "
                f"{ob.secs(mid_end.end)}) before {ob.show(a.value)} again (op "
                f"{again.invoke.index}, begun at {ob.secs(again.start)})")
    return ob.anomaly("non-monotonic-read", expected=expected, key=key, region=region,
                      ops=ops, explanation=text, stream=name)


def region_order_anomalies(pairs: Sequence[Pair], *, stream: str = "sc",
                           expected: bool = False, writes: Mapping | None = None,
                           margin_ns: int = 0) -> list[dict]:
    """Monotonic reads (and, in the SC stream, read-your-writes) per key per region: the
    cycles among observations, then (given `writes`) reads provably older than a value
    an earlier read in the region saw (in the SC stream, EC reads count as earlier
    evidence: a copy holds only what its leader held, G2)."""
    out = []
    ambiguous = reused_values(pairs, margin_ns)
    for (region, key), seen in _observations(pairs, stream).items():
        unique = [s for s in seen.values() if (key, s.value) not in ambiguous]
        for v, w in _two_cycles(unique):
            out.append(_order_anomaly(v, w, region=region, key=key, stream=stream,
                                      expected=expected))
    if writes is not None:
        flagged = {i for a in out for i in a["ops"]}
        out += older_than_seen_anomalies(pairs, writes, stream=stream, margin_ns=margin_ns,
                                         expected=expected, skip=flagged)
    return out


def reused_values(pairs: Sequence[Pair], margin_ns: int = 0) -> dict[tuple, int]:
    """(key, value) -> number of its write attempts that may have happened, for values
    that break the unique-values precondition of the order checks: written by more than
    one attempt that may have happened, with a write of another value of the key that
    may have taken effect between them (its interval, widened by the clock-skew margin,
    meets the span from the first attempt's start to the last one's end). Each attempt
    that happened made a version of its own (A06), so a region may hold such a value,
    then the other, then the value again: "v, w, v" proves nothing for it. (A retry of
    a value with no other write in between makes adjacent versions: still unique.)"""
    return ob.memo(pairs, ("reused_values", margin_ns),
                   lambda: _reused_values(pairs, margin_ns))


def _reused_values(pairs: Sequence[Pair], margin_ns: int) -> dict[tuple, int]:
    writes = ob.register_writes(pairs)
    by_key: dict[Any, list[Pair]] = defaultdict(list)
    multi = []
    for (key, value), attempts in writes.items():
        maybe = attempts.happened_maybe
        by_key[key] += maybe
        # absence (deletes, issue 21) is written many times by design: the order checks
        # leave it out and judge it by timing (`provably_older`), so it breaks nothing
        if len(maybe) > 1 and value is not None:
            multi.append((key, value, maybe))
    out: dict[tuple, int] = {}
    for key, value, maybe in multi:
        lo = min(p.start for p in maybe) - margin_ns
        ends = [p.end for p in maybe]
        hi = float("inf") if None in ends else max(ends) + margin_ns
        mine = {p.invoke.index for p in maybe}
        if any(q.invoke.index not in mine and q.start < hi
               and (q.end is None or q.end > lo) for q in by_key[key]):
            out[(key, value)] = len(maybe)
    return out


def version_order_anomalies(pairs: Sequence[Pair], writes: Mapping[tuple, ob.WriteAttempts],
                            *, expected: bool = False) -> list[dict]:
    """Regions that saw an item's versions in orders no single timestamp order explains.

    Every region's copy moves through versions of increasing timestamp, and timestamps
    are one order shared by all regions (A05, A06). In region R, v observed ending before
    w's observation began (the SC stream of `_observations`) says ts(v) < ts(w); a cycle
    of such facts, gathered over all regions, is a violation even when no single region
    went back (E1 saw 3 after 4, E2 saw 4 after 3). Per region the facts are an interval
    order, encoded in linear size with one chain of time nodes (v -> the time node of the
    end of v's latest observation -> ... -> w when that time is before w's start); a
    topological sort of the union finds a cycle in linear time. Values written more than
    once (retries, several versions) are left out. Cycles within one region are the
    per-region check's (and cannot form here)."""
    by_key: dict[Any, list[tuple[str, dict]]] = defaultdict(list)
    for (region, key), seen in _observations(pairs, "sc").items():
        by_key[key].append((region, seen))
    out = []
    for key, per_region in by_key.items():
        if len(per_region) < 2:
            continue
        ids: dict[Any, int] = {}  # value -> its node
        succ: list[list[int]] = []  # node -> successors
        region_of_node: list[str | None] = []  # a time node's region (None: a value)

        for region, seen in per_region:
            items = []
            for v, sn in seen.items():
                if v is not None:
                    a = writes.get((key, v))
                    if a is None or len(a.happened_maybe) != 1:
                        continue
                if v not in ids:
                    ids[v] = len(succ)
                    succ.append([])
                    region_of_node.append(None)
                items.append(sn)
            # v's edges leave from the end of its latest observation (not its earliest
            # end): a weaker fact, still true, and no path in one region comes back to v
            lasts = [_last_end(sn) for sn in items]
            outs = sorted((e, k) for k, e in enumerate(lasts) if e != INF)
            by_end = [items[k] for _, k in outs]
            ends = [e for e, _ in outs]
            base = len(succ)  # the chain of time nodes, one per end, in time order
            chain = range(base, base + len(by_end))
            succ.extend([] for _ in by_end)
            region_of_node.extend([region] * len(by_end))
            for i, sn in enumerate(by_end):
                succ[ids[sn.value]].append(chain[i])
                if i:
                    succ[chain[i - 1]].append(chain[i])
            for sn in items:
                if sn.start_pair is None:
                    continue
                i = bisect.bisect_left(ends, sn.start)  # ends[:i] < start
                if i:
                    succ[chain[i - 1]].append(ids[sn.value])
        cycle = _find_cycle(succ)
        if cycle is None:
            continue
        regions = sorted({region_of_node[n] for n in cycle if region_of_node[n]})
        if len(regions) < 2:
            continue
        value_of = {i: v for v, i in ids.items()}
        values = [value_of[n] for n in cycle if n in value_of]
        shown = " before ".join(ob.show(v) for v in values + values[:1])
        ops_ = []
        for region, seen in per_region:
            for v in values:
                sn = seen.get(v)
                if sn is not None and sn.start_pair is not None:
                    ops_.append(sn.start_pair.invoke.index)
        out.append(ob.anomaly(
            "version-order", expected=expected, key=key, region=None,
            ops=sorted(set(ops_))[:20], values=values[:20],
            explanation=(f"Regions {', '.join(regions)} saw the versions of {key} in orders "
                         f"no single timestamp order explains: together their reads put "
                         f"{shown}")))
    return out


def _last_end(sn: _Seen) -> float:
    return sn.start_pair.end if sn.start_pair is not None else sn.end


def _find_cycle(succ: list[list[int]]) -> list[int] | None:
    """A cycle of a directed graph (nodes 0..n-1), or None: Kahn's sort, then a walk back
    along predecessors among the nodes left."""
    n = len(succ)
    indeg = [0] * n
    for outs in succ:
        for m in outs:
            indeg[m] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    removed = 0
    while stack:
        i = stack.pop()
        removed += 1
        for m in succ[i]:
            indeg[m] -= 1
            if indeg[m] == 0:
                stack.append(m)
    if removed == n:
        return None
    left = {i for i in range(n) if indeg[i] > 0}
    pred: dict[int, int] = {}
    for i in left:
        for m in succ[i]:
            if m in left:
                pred.setdefault(m, i)
    start = next(iter(left))
    seen_at: dict[int, int] = {}
    walk = []
    while start not in seen_at:
        seen_at[start] = len(walk)
        walk.append(start)
        start = pred[start]
    return list(reversed(walk[seen_at[start]:]))


def _cas_order_anomalies(pairs: Sequence[Pair], observed: Mapping[tuple, dict],
                         writes: Mapping | None, *, expected: bool,
                         skip: set[int] = frozenset()) -> list[dict]:
    """A successful cas old -> new in region R is evidence that R held old immediately
    before new: an SC observation of old in R begun after the cas ended means R went
    back in time (A01, A05). Only a second write of old could make a new version of it
    (an older version arriving later loses to the cas's by last-writer-wins), so values
    with more than one write attempt that may have happened are left alone."""
    out = []
    for p in pairs:
        if p.invoke.f != "cas" or p.type != OK or not isinstance(p.invoke.value, list | tuple):
            continue
        old, new = (ob.freeze(x) for x in p.invoke.value)
        if old == new:
            continue
        region, key = ob.region_of(p), p.invoke.key
        seen = observed.get((region, key), {}).get(old)
        if seen is None or seen.start_pair is None or not seen.start > p.end:
            continue
        if seen.start_pair.invoke.index in skip:
            continue
        if old is not None:
            attempts = (writes or {}).get((key, old))
            if attempts is None or len(attempts.happened_maybe) != 1:
                continue
        again = seen.start_pair
        got = "found no item" if old is None else f"returned {ob.show(old)}"
        out.append(_went_back(p, old, new, again, got, expected))
    return out


def _went_back(p: Pair, old, new, again: Pair, got: str, expected: bool) -> dict:
    key, region = p.invoke.key, ob.region_of(p)
    return ob.anomaly(
        "non-monotonic-read", expected=expected, key=key, region=region,
        ops=[p.invoke.index, again.invoke.index], stream="SC",
        explanation=(f"cas of {key} in {region} (op {p.invoke.index}) replaced "
                     f"{ob.show(old)} by {ob.show(new)}, done at {ob.secs(p.end)}, then "
                     f"op {again.invoke.index} there {got} (begun at "
                     f"{ob.secs(again.start)}): the region went back in time"))


def _cas_straddle_anomalies(pairs: Sequence[Pair], observed: Mapping[tuple, dict],
                            writes: Mapping, margin_ns: int, *,
                            skip: set[int] = frozenset()) -> list[dict]:
    """An SC read in R overlapping a successful cas old -> new in R, returning a third
    value v: if the cas took effect first, R held new before v, so v must be newer than
    new; if after, R held v before old, so old newer than v. When every write of v ended
    before the cas began (v older than new) and old was seen in R before the read began
    (old before v), neither order works (A01, A05)."""
    reads = {g: [p for p, is_sc in zip(ps, sc) if is_sc]
             for g, (ps, sc) in _ok_reads(pairs).items()}
    index = {g: (sorted(ps, key=lambda p: p.start), max(p.end - p.start for p in ps))
             for g, ps in reads.items() if ps}
    out = []
    for c in pairs:
        if c.invoke.f != "cas" or c.type != OK or not isinstance(c.invoke.value, list | tuple):
            continue
        g = (ob.region_of(c), c.invoke.key)
        if g not in index:
            continue
        old, new = (ob.freeze(x) for x in c.invoke.value)
        o_seen = observed.get(g, {}).get(old)
        if old == new or o_seen is None:
            continue
        if old is not None:  # a second version of old could explain "old again"
            attempts = writes.get((c.invoke.key, old))
            if attempts is None or len(attempts.happened_maybe) != 1:
                continue
        rs, longest = index[g]
        lo = bisect.bisect_left(rs, c.start - longest, key=lambda p: p.start)
        hi = bisect.bisect_right(rs, c.end, key=lambda p: p.start)
        for r in rs[lo:hi]:
            if r.end < c.start or r.invoke.index in skip:
                continue
            v = ob.freeze(ob.read_value(r))
            if v in (old, new) or v is None or not o_seen.end < r.start:
                continue
            if not provably_older(v, c.invoke.key, c, writes, margin_ns):
                continue
            got = f"returned {ob.show(v)}, older than {ob.show(new)}"
            out.append(_went_back(c, old, new, r, got, False))
            break
    return out


def _ok_reads(pairs: Sequence[Pair]) -> dict[tuple, tuple[list[Pair], list[bool]]]:
    """(region, key) -> its ok reads in invocation order, and whether each is SC: grouped
    once per history for the order checks that walk them (both streams of
    `older_than_seen_anomalies`, `_cas_straddle_anomalies`)."""
    return ob.memo(pairs, "ok_reads_by_region_and_key", lambda: _group_ok_reads(pairs))


def _group_ok_reads(pairs: Iterable[Pair]) -> dict[tuple, tuple[list[Pair], list[bool]]]:
    # (`ob.region_of` and `ob.is_sc` inlined: this visits every operation of the history)
    groups: dict[tuple, tuple[list[Pair], list[bool]]] = {}
    for p in pairs:
        inv = p.invoke
        if inv.f != "read" or p.type != OK:
            continue
        c = p.complete
        region = inv.region
        if region is None:
            region = c.region
        consistent = inv.consistent
        if consistent is None:
            consistent = c.consistent
        g = groups.get((region, inv.key))
        if g is None:
            g = groups[(region, inv.key)] = ([], [])
        g[0].append(p)
        g[1].append(consistent is not False)
    return groups


def older_than_seen_anomalies(pairs: Sequence[Pair], writes: Mapping[tuple, ob.WriteAttempts],
                              *, stream: str, margin_ns: int, expected: bool = False,
                              skip: set[int] = frozenset()) -> list[dict]:
    """Reads in a region returning a value provably older than one an earlier read in the
    same region (same stream) returned: every write of the older value was acknowledged
    before any write of the newer one began, so every copy holds them in that order.

    (The real-time sweep of `ob.completed_before_each`, over arrays: it visits every read
    of the history, once per stream.)"""
    out = []
    freeze = ob.freeze
    sc_stream = stream == "sc"
    for (region, key), (reads, sc) in _ok_reads(pairs).items():
        if not sc_stream:  # the EC stream: its EC reads only
            reads = [p for p, is_sc in zip(reads, sc) if not is_sc]
            if not reads:
                continue
            sc = [False] * len(reads)
        floors: dict[Any, float] = {}
        n = len(reads)
        values = [freeze(p.complete.value) for p in reads]  # ok reads: completed
        starts = [p.invoke.time for p in reads]
        ends = [p.complete.time for p in reads]
        by_end = sorted(range(n), key=ends.__getitem__)
        i, best, best_floor = 0, -1, NEG_INF
        for k in sorted(range(n), key=starts.__getitem__):
            start = starts[k]
            while i < n and ends[by_end[i]] < start:  # reads done before this one began
                q = by_end[i]
                v = values[q]
                f = floors.get(v)
                if f is None:  # the version's lowest possible write time
                    a = writes.get((key, v))
                    first = a.first_invoke() if a is not None else None
                    f = floors[v] = NEG_INF if v is None or first is None else first
                if f > best_floor:
                    best, best_floor = q, f
                i += 1
            if best < 0:
                continue
            p = reads[k]
            if p.invoke.index in skip or sc[k] != sc_stream:
                continue
            value = values[k]
            if value == values[best]:
                continue
            a = writes.get((key, value))
            if value is None and a is None:  # never deleted: absent only at the start
                end = NEG_INF
            else:  # a value, or absent written by deletes: the latest it can be written
                end = a.latest_end() if a is not None else None
            if end is None or not best_floor > end + margin_ns:
                continue
            seen = reads[best]
            name = "SC" if sc_stream else "EC"
            got = "found no item" if value is None else f"returned {ob.show(value)}"
            out.append(ob.anomaly(
                "non-monotonic-read", expected=expected, key=key, region=region,
                ops=[seen.invoke.index, p.invoke.index], stream=name,
                explanation=(f"{name} reads of {key} in {region} went back in time: op "
                             f"{seen.invoke.index} returned {ob.show(ob.read_value(seen))} "
                             f"(done at {ob.secs(seen.end)}), then op {p.invoke.index} {got} "
                             f"(begun at {ob.secs(p.start)}), a value whose writes were all "
                             f"acknowledged before any write of "
                             f"{ob.show(ob.read_value(seen))} began")))
    return out


def provably_older(value: Any, key: Any, newer: Pair | None,
                   writes: Mapping[tuple, ob.WriteAttempts], margin_ns: int) -> bool:
    """Whether `newer` (an acknowledged write) certainly carries a later version than
    every write of `value`: all of them were acknowledged before `newer` was invoked
    (by more than the clock-skew margin). Unknown or crashed writes prove nothing."""
    if newer is None or ob.freeze(ob.written_value(newer)) == value:
        return False
    attempts = writes.get((key, value))
    if value is None and attempts is None:  # the initial absence, never deleted again
        return True
    if attempts is None:
        return False
    end = attempts.latest_end()
    return end is not None and newer.start > end + margin_ns


def ryw_anomalies(pairs: Sequence[Pair], writes: Mapping[tuple, ob.WriteAttempts], *,
                  margin_ns: int, skip: set[int] = frozenset()) -> list[dict]:
    """SC reads returning a value provably older than a write acknowledged in the same
    region before the read began."""
    newest = ob.index_newest_acked(pairs, by_region=True)
    out = []
    freeze = ob.freeze
    for p in pairs:
        # (`ob.is_sc`, `ob.region_of` and `ob.read_value` inlined: this visits every
        # operation of the history; an ok read has its completion)
        inv = p.invoke
        if inv.f != "read" or p.type != OK or inv.index in skip:
            continue
        c = p.complete
        consistent = inv.consistent
        if consistent is None:
            consistent = c.consistent
        if consistent is False:
            continue
        key, region = inv.key, inv.region
        if region is None:
            region = c.region
        idx = newest.get((key, region))
        newer = idx.before(p.start) if idx else None
        if newer is None:  # no write acknowledged there before: nothing to be older than
            continue
        value = freeze(c.value)
        if not provably_older(value, key, newer, writes, margin_ns):
            continue
        why = "" if value is None else (
            f", and every write of {ob.show(value)} was acknowledged before that write began")
        out.append(ob.anomaly(
            "read-your-writes", expected=False, key=key, region=region,
            ops=[p.invoke.index, newer.invoke.index],
            explanation=f"{ob.sc_read_said(p, value)}, but {ob.missed_write(newer)}{why}"))
    return out


def region_order_check(test, history, opts, *, ec_monotonic: bool = True) -> dict:
    pairs = ob.client_pairs(history)
    writes = ob.register_writes(pairs)
    margin = ob.skew_margin_ns(history)
    found = region_order_anomalies(pairs, stream="sc", margin_ns=margin)
    flagged = {i for a in found for i in a["ops"]}
    found += ryw_anomalies(pairs, writes, margin_ns=margin, skip=flagged)
    flagged = {i for a in found for i in a["ops"]}
    found += older_than_seen_anomalies(pairs, writes, stream="sc", margin_ns=margin,
                                       skip=flagged)
    flagged = {i for a in found for i in a["ops"]}
    found += _cas_order_anomalies(pairs, _observations(pairs, "sc"), writes, expected=False,
                                  skip=flagged)
    flagged = {i for a in found for i in a["ops"]}
    found += _cas_straddle_anomalies(pairs, _observations(pairs, "sc"), writes, margin,
                                     skip=flagged)
    if not found:  # a cycle across regions, when no region went back on its own
        found += version_order_anomalies(pairs, writes)
    if ec_monotonic:
        found += region_order_anomalies(pairs, stream="ec", writes=writes, margin_ns=margin)
    reads = sum(1 for p in pairs if p.invoke.f == "read" and p.type == OK)
    out = ob.result(found, judged=reads > 0, reads=reads)
    reused = reused_values(pairs, margin)
    if reused:
        # the order checks assume unique values: those written again with another write
        # in between were left out of them, so a clean result earned nothing for them
        (key, value), n = next(iter(sorted(reused.items(), key=repr)))
        out["reused_values"] = len(reused)
        if out["valid"] is True:
            out["valid"] = "unknown"
            out["reason"] = (f"{len(reused)} value(s) written more than once with another "
                             f"write in between (e.g. {ob.show(value)} to {key}, {n} "
                             f"attempts), so reads of them cannot be ordered: the order "
                             f"checks assume unique values per key and left them out")
    return out


# --- values: never written, failed, read before written -------------------------------

def written_value_anomalies(pairs: Sequence[Pair], *, which: str = "all",
                            expected: bool = False) -> list[dict]:
    """Reads (all, "sc" or "ec") returning a value no write attempted, a value whose every
    write failed, or a value before any write of it began. A successful cas observed its
    compared value (DynamoDB's condition held), so it counts as an SC read of it."""
    writes = ob.register_writes(pairs)
    out = []
    for p in pairs:
        if p.type != OK:
            continue
        f = p.invoke.f
        if f == "read":
            if which != "all" and ob.is_sc(p) != (which == "sc"):
                continue
            value = ob.freeze(ob.read_value(p))
            what = f"{ob.read_kind(p)} of {p.invoke.key}"
            did = "returned"
        elif f == "cas" and which != "ec" and isinstance(p.invoke.value, list | tuple) \
                and len(p.invoke.value) == 2:
            value = ob.freeze(p.invoke.value[0])
            what = f"cas of {p.invoke.key}"
            did = "succeeded comparing against"
        else:
            continue
        if value is None:
            continue
        key, region = p.invoke.key, ob.region_of(p)
        head = (f"{what} in {region} at {ob.secs(p.start)} (op "
                f"{p.invoke.index}) {did} {ob.show(value)}")
        attempts = writes.get((key, value))
        if attempts is None:
            out.append(ob.anomaly("unwritten-value", expected=expected, key=key,
                                  region=region, ops=[p.invoke.index],
                                  explanation=f"{head}, a value no write of {key} ever wrote"))
        elif attempts.all_failed:
            kind, reason = ob.failure_kind(attempts.pairs)
            n = len(attempts.pairs)
            which_w = (f"the write of {ob.show(value)} (op {attempts.pairs[0].invoke.index} in "
                       f"{ob.region_of(attempts.pairs[0])})" if n == 1 else
                       f"all {n} writes of {ob.show(value)}")
            out.append(ob.anomaly(
                kind, expected=expected, key=key, region=region,
                ops=[p.invoke.index] + [a.invoke.index for a in attempts.pairs],
                explanation=f"{head}, but {which_w} failed{reason}, so it never happened"))
        else:
            first = attempts.first_invoke()
            if first is not None and p.end < first:
                out.append(ob.anomaly(
                    "read-before-write", expected=expected, key=key, region=region,
                    ops=[p.invoke.index] + [a.invoke.index for a in attempts.happened_maybe],
                    explanation=(f"{head} and completed at {ob.secs(p.end)}, before any "
                                 f"write of {ob.show(value)} began (first at "
                                 f"{ob.secs(first)})")))
    return out


def written_values_check(test, history, opts) -> dict:
    pairs = ob.client_pairs(history)
    reads = sum(1 for p in pairs if p.invoke.f == "read" and p.type == OK)
    return ob.result(written_value_anomalies(pairs), judged=reads > 0, reads=reads)


# --- convergence and last-writer-wins ------------------------------------------------

def final_reads(pairs: Sequence[Pair]) -> dict[Any, dict[str, Pair]]:
    """key -> region -> the last ok final SC read there."""
    return ob.memo(pairs, "final_reads", lambda: _final_reads(pairs))


def _final_reads(pairs: Iterable[Pair]) -> dict[Any, dict[str, Pair]]:
    out: dict[Any, dict[str, Pair]] = defaultdict(dict)
    for p in pairs:
        if p.type == OK and p.invoke.f == "read" and ob.is_sc(p) and ob.is_final(p):
            per = out[p.invoke.key]
            r = ob.region_of(p)
            if r not in per or per[r].end < p.end:
                per[r] = p
    return out


def quiet_rounds(pairs: Iterable[Pair]) -> dict[Any, dict[Any, dict[str, Pair]]]:
    """round -> key -> region -> the last ok quiet SC read of that round (suite/quiet.py:
    after each heal the clients are held, replication settles, every region reads every
    key once; a quiet read is a final read of its round)."""
    out: dict[Any, dict[Any, dict[str, Pair]]] = defaultdict(lambda: defaultdict(dict))
    for p in pairs:
        if p.type == OK and p.invoke.f == "read" and ob.is_sc(p) and ob.is_quiet(p):
            per = out[ob.quiet_round(p)][p.invoke.key]
            r = ob.region_of(p)
            if r not in per or per[r].end < p.end:
                per[r] = p
    return out


def _quiet_window_clear(history, pairs: Sequence[Pair], per_key: Mapping[Any, Mapping],
                        ) -> tuple[bool, set]:
    """Whether a quiet round may be judged for convergence, and the keys it may not:
    A06 (and A08/A09: replication resumes after a heal and delivers what was held back)
    promises agreement only once writes stop and replication has settled, so the round
    is skipped if any fault was in force or began during it, and a key is skipped if a
    write to it could still take effect during the round (begun before the round ended
    and not ended, ok or fail, before it began: an `info` write may apply at any time,
    Knossos)."""
    from results.history import fault_periods
    reads = [p for per in per_key.values() for p in per.values()]
    lo, hi = min(p.start for p in reads), max(p.end for p in reads)
    for f in fault_periods(history, possible=True):  # an `info` fault may be in force
        if f.start <= hi and (f.end is None or f.end >= lo):
            return False, set()
    return True, writes_in_flight(pairs, per_key, lo, hi)


def writes_in_flight(pairs: Sequence[Pair], keys: Iterable, lo: int, hi: int) -> set:
    """The keys a write could still change between `lo` and `hi`: begun before `hi` and
    not ended, ok or fail, before `lo` (an `info` write may apply at any later time,
    Knossos/Jepsen)."""
    from results.history import FAIL
    keys = set(keys)
    return {p.invoke.key for p in pairs
            if p.invoke.f != "read" and p.invoke.key in keys and p.start <= hi and not (
                p.type in (OK, FAIL) and p.end is not None and p.end < lo)}


class Convergence:
    """After the final heal every region's final SC read of a key agrees (both modes);
    so does every quiet round's (suite/quiet.py), when no fault and no write overlaps it.

    `canon` maps a read value to the form compared (sets are compared as sets).

    `strong` (MRSC): a key a write could still change during its final reads (a write
    that timed out, Jepsen's :info, may take effect at any later time, even between two
    regions' final reads: test-all --quick --mode strong --seed 4, register x outage) is
    not judged here; its final reads are SC reads, which the mode's linearizability /
    SC-read checkers judge with the write's indeterminacy (M06). Counted as
    `final_keys_in_flight`."""

    def __init__(self, canon: Callable[[Any], Any] = ob.freeze, strong: bool = False):
        self.canon = canon
        self.strong = strong

    def _diverged(self, key, per: Mapping[str, Pair], when: str, **fields) -> dict | None:
        values = {r: self.canon(ob.read_value(p)) for r, p in per.items()}
        if len(set(values.values())) <= 1:
            return None
        parts = ", ".join(f"{ob.show(values[r])} in {r} (op {per[r].invoke.index})"
                          for r in sorted(per))
        return ob.anomaly(
            "divergence", expected=False, key=key, region=None,
            ops=[per[r].invoke.index for r in sorted(per)],
            explanation=f"{when} of {key} disagree: {parts}",
            values={r: ob.read_value(per[r]) for r in sorted(per)}, **fields)

    def check(self, test, history, opts) -> dict:
        from checkers.final_rounds import last_round_final, rounds_of
        test = test or {}
        history = last_round_final(history)  # the last final round's reads are final
        last_round = max(rounds_of(history), default=1)
        pairs = ob.client_pairs(history)
        finals = final_reads(pairs)
        regions = sorted((set(test.get("regions") or [])
                          or {ob.region_of(p) for p in pairs if ob.region_of(p)})
                         - {test.get("witness")})
        out, converged, missing, in_flight = [], 0, {}, 0
        for key, per in finals.items():
            lacking = [r for r in regions if r not in per]
            if lacking:
                missing[str(key)] = lacking
            a = self._diverged(key, per, "After the final heal the final SC reads" + (
                f" of the last final round ({last_round})" if last_round > 1 else ""),
                **({"final_round": last_round} if last_round > 1 else {}))
            if a is not None and self.strong and writes_in_flight(
                    pairs, (key,), min(p.start for p in per.values()),
                    max(p.end for p in per.values())):
                in_flight += 1
                continue
            if a is None:
                converged += 1
            else:
                out.append(a)
        rounds = quiet_rounds(pairs)
        judged_rounds, keys_judged = 0, 0
        for n, per_key in sorted(rounds.items(), key=lambda kv: str(kv[0])):
            clear, busy = _quiet_window_clear(history, pairs, per_key)
            if not clear:
                continue
            judged_rounds += 1
            for key, per in per_key.items():
                if key in busy or any(r not in per for r in regions):
                    continue  # a write may still land, or a region's read is missing
                keys_judged += 1
                first = min(p.start for p in per.values())
                a = self._diverged(key, per, f"In quiet round {n} (clients held after a "
                                   f"heal, no write or fault since; reads from "
                                   f"{ob.secs(first)}) the quiet SC reads", quiet_round=n)
                if a is not None:
                    out.append(a)
        return ob.result(out, judged=bool(finals) or keys_judged > 0, keys=len(finals),
                         converged=converged,
                         missing_final_reads=dict(list(missing.items())[:ob.MAX_EXAMPLES]),
                         keys_missing_final_reads=len(missing),
                         quiet_rounds=len(rounds), quiet_rounds_judged=judged_rounds,
                         quiet_keys_judged=keys_judged, final_keys_in_flight=in_flight,
                         final_rounds=last_round)


def lww_anomalies(pairs: Sequence[Pair], versions: Mapping | None,
                  margin_ns: int) -> tuple[list[dict], int]:
    """The converged value of each key must be the last-writer-wins winner."""
    writes = ob.register_writes(pairs)
    newest = ob.index_newest_acked(pairs, by_region=False)
    out, judged = [], 0
    for key, per in final_reads(pairs).items():
        values = {ob.freeze(ob.read_value(p)) for p in per.values()}
        if len(values) != 1:
            continue  # divergence is reported by the convergence checker
        judged += 1
        value = next(iter(values))
        last = max(per.values(), key=lambda p: p.start)
        idx = newest.get(key)
        newer = idx.before(last.start) if idx else None
        # The newest acknowledged write that provably supersedes the converged value.
        if provably_older(value, key, newer, writes, margin_ns):
            got = "no item" if value is None else ob.show(value)
            extra = ("" if value is None else
                     f", although every write of {ob.show(value)} had been acknowledged "
                     f"before that write began")
            out.append(ob.anomaly(
                "lww-winner", expected=False, key=key, region=None,
                ops=[p.invoke.index for p in per.values()] + [newer.invoke.index],
                explanation=(f"All regions converged on {got} for {key}, but write "
                             f"{ob.show(ob.written_value(newer))} (op {newer.invoke.index} in "
                             f"{ob.region_of(newer)}, acknowledged at {ob.secs(newer.end)}) "
                             f"carries a later timestamp{extra}")))
            continue
        if versions:
            out.extend(_version_anomalies(key, value, per, versions, writes))
    return out, judged


def _version_anomalies(key, value, per, versions, writes) -> list[dict]:
    entries = {r: v.get(key) for r, v in versions.items() if isinstance(v, Mapping)}
    entries = {r: e for r, e in entries.items() if isinstance(e, Mapping)}
    if not entries:
        return []
    ops = [p.invoke.index for p in per.values()]
    winner_region, winner = max(entries.items(),
                                key=lambda re: (re[1].get("timestamp") or 0,
                                                str(re[1].get("origin"))))
    out = []
    wv = ob.freeze(winner.get("value"))
    if wv != value:
        out.append(ob.anomaly(
            "lww-winner", expected=False, key=key, region=winner_region, ops=ops,
            explanation=(f"All regions converged on {ob.show(value)} for {key}, but the "
                         f"highest version timestamp ({winner.get('timestamp')}, from "
                         f"{winner.get('origin')}, held in {winner_region}) belongs to "
                         f"{ob.show(wv)}")))
        return out
    attempts = writes.get((key, value))
    origin = winner.get("origin")
    if attempts is not None and origin is not None:
        regions = {ob.region_of(p) for p in attempts.happened_maybe}
        if regions and origin not in regions:
            out.append(ob.anomaly(
                "lww-winner", expected=False, key=key, region=origin,
                ops=ops + [p.invoke.index for p in attempts.happened_maybe],
                explanation=(f"The winning version of {key} ({ob.show(value)}) claims origin "
                             f"{origin}, but {ob.show(value)} was written only in "
                             f"{', '.join(sorted(regions))}")))
    return out


def lww_check(test, history, opts) -> dict:
    pairs = ob.client_pairs(history)
    versions = opts.get("versions") if isinstance(opts, Mapping) else None
    found, judged = lww_anomalies(pairs, versions, ob.skew_margin_ns(history))
    return ob.result(found, judged=judged > 0, keys_judged=judged,
                     used_versions=bool(versions))
