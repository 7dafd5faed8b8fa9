"""The transaction dependency graph, its strongly connected components, and cycle search.

Vertices are transaction ids; an edge a -> b carries a bit set of relationships (Adya's
direct serialization graph): WW (b overwrote a's version: write dependency), WR (b read
a's version: read dependency), RW (b overwrote the version a read: anti-dependency),
plus PROCESS (same process, a completed before b) and REALTIME (a completed before b was
invoked), which strong-session and strict models add (Elle's process-graph and
realtime-graph).

Why hand-rolled and not networkx: on a 100,000-transaction history (about 490,000 edges)
building a networkx DiGraph and finding its strongly connected components took 1.2 CPU
seconds, against 0.07 s for Kahn's trim plus Tarjan on this plain dict adjacency (about
18 times less; `bench/bench_elle.py` measures both in every run): networkx alone would
spend most of the budget of 20 us per transaction (50,000/s). networkx is used where it
is fast enough: laying out a found cycle for the report (a handful of vertices,
checkers/elle/draw.py).

Cycle search follows Elle (elle/txn.clj, cycle-anomaly-specs): each anomaly is a
specification (relationships a cycle may use, relationships that must appear exactly
once / more than once / at least once / never twice in a row, and whether a process or
realtime edge is required), searched by breadth-first search over (vertex, path-state)
pairs inside one SCC, so the cycle found is a shortest one meeting the specification.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence

WW, WR, RW, PROCESS, REALTIME = 1, 2, 4, 8, 16
REL_NAMES = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime"}
_REL_ORDER = (WW, WR, RW, PROCESS, REALTIME)


class Graph:
    """adjacency: out[a] = {b: rel bits}; no self edges (Elle's graphs have none)."""

    __slots__ = ("out", "n")

    def __init__(self, n: int):
        self.n = n
        self.out: list[dict[int, int] | None] = [None] * n

    def link(self, a: int, b: int, rel: int) -> None:
        if a == b:
            return
        row = self.out[a]
        if row is None:
            self.out[a] = {b: rel}
        else:
            row[b] = row.get(b, 0) | rel

    def link_all_to(self, sources: Iterable[int], b: int, rel: int) -> None:
        for a in sources:
            self.link(a, b, rel)

    def edge_count(self) -> int:
        return sum(len(r) for r in self.out if r)

    def rels(self, a: int, b: int) -> int:
        row = self.out[a]
        return row.get(b, 0) if row else 0


def cyclic_part(out: Sequence[dict | None]) -> list[int]:
    """The vertices left after repeatedly removing those with no incoming edge (Kahn's
    topological sort): empty exactly when the graph is acyclic, and every cycle lies in
    what is left. Cheap (one pass over the edges), so Tarjan runs only on the rest."""
    n = len(out)
    indeg = [0] * n
    for row in out:
        if row:
            for w in row:
                indeg[w] += 1
    todo = [v for v in range(n) if not indeg[v]]
    pop, push = todo.pop, todo.append
    while todo:
        row = out[pop()]
        if row:
            for w in row:
                d = indeg[w] - 1
                indeg[w] = d
                if not d:
                    push(w)
    return [v for v in range(n) if indeg[v]]


def sccs(out: Sequence[dict | None], vertices: Iterable[int] | None = None,
         mask: int = -1) -> list[list[int]]:
    """Strongly connected components with 2+ vertices (iterative Tarjan), over the edges
    whose bits intersect `mask`."""
    get = out.get if isinstance(out, dict) else out.__getitem__
    n = len(out)
    index = {}
    low = {}
    on_stack = set()
    stack: list[int] = []
    result: list[list[int]] = []
    counter = 0
    verts = range(n) if vertices is None else vertices
    if isinstance(out, dict) and vertices is None:
        verts = list(out)
    allowed = None if vertices is None else set(vertices) if not isinstance(vertices, set) \
        else vertices
    for root in verts:
        if root in index or not get(root):
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(get(root).items()))]
        while work:
            v, it = work[-1]
            advanced = False
            for w, bits in it:
                if not bits & mask or (allowed is not None and w not in allowed):
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    row = get(w)
                    work.append((w, iter(row.items()) if row else iter(())))
                    advanced = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    result.append(comp)
    return result


# --- real-time and process order --------------------------------------------------------

def add_realtime(g: Graph, txns: Sequence) -> None:
    """a -> b when a completed before b was invoked, transitively reduced the way Elle's
    realtime-graph is: b's predecessors are the completed transactions not already
    known to precede another completed one (the "frontier" at b's invocation)."""
    # (time, 0 = invocation / 1 = completion, id): at equal times invocations sort
    # first, so equal times stay concurrent rather than claiming an order. Each event is
    # one int, (time * 2 + kind) * n + id (a mixed radix, so ints sort as those tuples
    # would, negative times too): no tuple per event, and a sort of plain ints
    n = max(len(txns), max((t.id for t in txns), default=0) + 1)
    events = [t.invoke_time * 2 * n + t.id for t in txns]
    events += [(t.complete_time * 2 + 1) * n + t.id for t in txns
               if t.complete_time is not None and t.type == "ok"]
    events.sort()
    frontier: set[int] = set()
    preds: dict[int, tuple] = {}
    out = g.out
    for e in events:
        q, tid = divmod(e, n)
        if not q & 1:
            p = tuple(frontier)
            preds[tid] = p
            for a in p:
                row = out[a]
                if row is None:
                    out[a] = {tid: REALTIME}
                else:
                    row[tid] = row.get(tid, 0) | REALTIME
        else:
            p = preds.pop(tid, ())
            if p:
                frontier.difference_update(p)
            frontier.add(tid)


def add_process(g: Graph, txns: Sequence) -> None:
    """a -> b when b is the next committed transaction of a's process."""
    last: dict = {}
    for t in sorted((t for t in txns if t.type == "ok"), key=lambda t: t.invoke_time):
        prev = last.get(t.process)
        if prev is not None:
            g.link(prev, t.id, PROCESS)
        last[t.process] = t.id


# --- cycle search -----------------------------------------------------------------------

@dataclass(frozen=True)
class CycleSpec:
    """What a cycle of one anomaly type looks like (Elle's cycle-anomaly-specs)."""
    name: str
    rels: int                 # relationships any edge may use
    single: int = 0           # must appear exactly once
    multiple: int = 0         # must appear at least twice
    required: int = 0         # must appear at least once
    nonadjacent: int = 0      # never two in a row (also around the cycle's end)
    variant: int = 0          # PROCESS or REALTIME: at least one such edge
    typed: bool = False       # the found cycle's classification must equal `name`

    @property
    def allowed(self) -> int:
        return self.rels | self.single | self.multiple | self.required | self.nonadjacent


def explained(bits: int) -> int:
    """The one relationship an edge is explained by (Elle's combined explainer tries the
    ww, wr and rw explainers in that order, then process / real-time order)."""
    for rel in _REL_ORDER:
        if bits & rel:
            return rel
    return 0


def classify(steps: Sequence[int]) -> str:
    """Elle's cycle explainer (elle/txn.clj): the anomaly a cycle of these edges shows.
    One rw edge: G-single; several, two of them adjacent: G2-item; several, never
    adjacent: G-nonadjacent; none but a wr: G1c; only ww: G0 (Adya's definitions);
    "-realtime" / "-process" when a real-time / process edge is part of it."""
    rels = [explained(s) for s in steps]
    rw = rels.count(RW)
    if rw == 1:
        base = "G-single-item"
    elif rw > 1:
        pairs = zip(rels, rels[1:] + rels[:1])
        base = "G2-item" if any(a == RW and b == RW for a, b in pairs) \
            else "G-nonadjacent-item"
    elif WR in rels:
        base = "G1c"
    else:
        base = "G0"
    if REALTIME in rels:
        return base + "-realtime"
    if PROCESS in rels:
        return base + "-process"
    return base


class SearchBudgetExceeded(Exception):
    """A cycle search visited more states than its budget allowed (Elle's
    cycle-search-timeout): the caller reports it, the verdict becomes at best unknown."""


def find_cycle(out: Sequence[dict | None], scc: Sequence[int], spec: CycleSpec, *,
               budget: int = 200_000) -> tuple[list[int], list[int]] | None:
    """A shortest cycle in `scc` meeting `spec`: (vertices [v0 .. v0], each edge's full
    relationship bits), or None. As in Elle's search, an edge is projected onto the
    spec's relationships and counts as, say, an rw edge only when rw is all that is left
    of it. `budget` bounds the states visited: past it, the shortest cycle found so far
    is returned, or SearchBudgetExceeded raised if there is none."""
    members = set(scc)
    allowed = spec.allowed
    counted = spec.single | spec.multiple | spec.nonadjacent
    best: tuple[list[int], list[int]] | None = None
    visited_total = 0
    for start in sorted(scc):
        # state: (vertex, counted edges (0..2), required seen, variant seen,
        #         last edge counted, first edge counted)
        init = (start, 0, False, False, False, None)
        parent: dict = {init: None}
        q = deque([init])
        found = None
        while q and found is None:
            state = q.popleft()
            v, cnt, req, var, last, first = state
            row = out[v]
            if not row:
                continue
            for w, bits in row.items():
                if w not in members:
                    continue
                usable = bits & allowed
                if not usable:
                    continue
                is_c = bool(counted) and not usable & ~counted
                if spec.nonadjacent and is_c and last:
                    continue
                ncnt = min(cnt + is_c, 2)
                if spec.single and ncnt > 1:
                    continue
                nreq = req or (bool(spec.required) and not usable & ~spec.required)
                nvar = var or bool(usable & spec.variant)
                nfirst = is_c if first is None else first
                if w == start:
                    if ((not spec.single or ncnt == 1)
                            and (not spec.multiple or ncnt >= 2)
                            and (not spec.required or nreq)
                            and (not spec.variant or nvar)
                            and not (spec.nonadjacent and is_c and nfirst)):
                        found = (state, bits)
                        break
                    continue
                nstate = (w, ncnt, nreq, nvar, is_c, nfirst)
                if nstate in parent:
                    continue
                parent[nstate] = (state, bits)
                q.append(nstate)
                visited_total += 1
            if visited_total > budget:
                if best is None:
                    raise SearchBudgetExceeded(spec.name)
                return best
        if found is not None:
            state, bits = found
            verts, steps = [start], [bits]
            while parent[state] is not None:
                verts.append(state[0])
                state, b = parent[state]
                steps.append(b)
            verts.append(start)
            verts.reverse()
            steps.reverse()
            if spec.typed and classify(steps) != spec.name:
                continue
            if best is None or len(steps) < len(best[1]):
                best = (verts, steps)
            if len(best[1]) == 2:
                break
    return best


# --- cycle existence (Elle's cycle-exists specs) ---------------------------------------

def has_cycle(out: Sequence[dict | None], scc: Sequence[int], first: int,
              then: int = 0) -> list[int] | None:
    """Some SCC (2+ vertices, or a self-loop) of the edges in `first` (extended, when
    `then` is given, by first-then-`then` compositions: Elle's sequential extension for
    snapshot isolation), restricted to `scc`; its vertices, smallest first, or None."""
    members = set(scc)
    sub: dict[int, dict[int, int]] = {}
    for a in scc:
        row = out[a]
        if not row:
            continue
        sub[a] = {b: 1 for b, bits in row.items() if b in members and bits & first}
    if then:
        for a in list(sub):
            ext = sub[a]
            for b in list(ext):
                row = out[b]
                if not row:
                    continue
                for c, bits in row.items():
                    if c in members and bits & then:
                        if c == a:
                            return [a]
                        ext[c] = 1
    comps = sccs(sub, vertices=sorted(sub))
    if not comps:
        return None
    return sorted(min(comps, key=len))
