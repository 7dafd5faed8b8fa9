"""List-append: version orders from the reads, dependency edges, and the anomalies that
need no cycle (Elle's list-append test, Kingsbury & Alvaro, "Elle: Inferring Isolation
Anomalies from Experimental Observations", VLDB 2020, section 4).

Each key holds a list; transactions append unique values and read whole lists. A read
of [1 2 3] shows the version order 1 < 2 < 3 directly, so the longest read of a key
orders every append it contains, and every other read must be a prefix of it; a read
that is not shows two timelines ("incompatible-order"). From that order:

- ww: T2 appended v2 right after T1's v1 (Adya's write dependency, x_i << x_j adjacent);
  an append nobody read comes, as far as we can tell, after the last observed element;
- wr: T2 read a list ending in T1's append (read dependency);
- rw: T1 read the list ending just before T2's append (anti-dependency: T2 installed the
  version after the one T1 read).

Without cycles (each as Elle names it): G1a (aborted read: a read shows a failed
transaction's append), G1b (intermediate read: a read ends in an append its writer
followed with another append to the same key), dirty-update (a failed append in the
version order is followed by a committed one), duplicate-elements (a read holds one
value twice: no version order makes that), internal (a read disagrees with the
transaction's own earlier reads and appends), future-read (a read shows an append its
own transaction makes later), lost-update (two committed transactions read the same
version of a key and both appended to it: Adya's H_lu).
"""

from __future__ import annotations

from typing import Any, Sequence

from checkers.elle.graph import RW, WR, WW, Graph
from checkers.elle.txn import FAIL, INFO, OK, Txn

INIT = ("init",)  # the empty list's "element"


def lost_update_cases(txns: Sequence[Txn], write_fs: frozenset) -> list[dict]:
    """Committed transactions that read the same version of a key and then wrote it
    (Elle's lost-update-cases; Adya's H_lu)."""
    groups: dict[tuple, list[Txn]] = {}
    for t in txns:
        if t.type != OK:
            continue
        reads: dict = {}
        written: set = set()
        for f, k, v in t.mops:
            if f in write_fs:
                if k in reads and k not in written:
                    groups.setdefault((k, reads[k]), []).append(t)
                written.add(k)
            elif f == "r" and k not in reads and k not in written:
                reads[k] = v
    return [{"key": k, "value": list(v) if isinstance(v, tuple) else v, "txns": ts}
            for (k, v), ts in groups.items() if len(ts) > 1]


class Analysis:
    """Indexes over a list-append history; builds the graph and the non-cycle anomalies."""

    def __init__(self, txns: Sequence[Txn]):
        self.txns = txns
        possible = [t for t in txns if t.type != FAIL]
        self.writer: dict = {}        # (k, v) -> txn id (ok / info)
        self.failed: dict = {}        # (k, v) -> txn id (fail)
        self.intermediate: dict = {}  # (k, v) -> txn id: not the txn's last append to k
        longest: dict = {}            # k -> longest read tuple
        self.reads_by_key: dict = {}  # k -> set of distinct read tuples
        readers: dict = {}            # (k, last element or INIT) -> [txn ids]
        writer, intermediate = self.writer, self.intermediate
        for t in txns:
            last_append: dict = {}
            is_failed = t.type == FAIL
            for f, k, v in t.mops:
                if f == "append":
                    if is_failed:
                        self.failed[(k, v)] = t.id
                    else:
                        writer[(k, v)] = t.id
                        prev = last_append.get(k)
                        if prev is not None:
                            intermediate[(k, prev)] = t.id
                        last_append[k] = v
        for t in possible:
            tid = t.id
            info = t.type == INFO
            for f, k, v in t.mops:
                if f != "r" or (v is None and info):
                    continue
                if v is None:
                    v = ()
                cur = longest.get(k)
                if cur is None or len(v) > len(cur):
                    longest[k] = v
                rk = self.reads_by_key.get(k)
                if rk is None:
                    self.reads_by_key[k] = {v}
                else:
                    rk.add(v)
                key = (k, v[-1] if v else INIT)
                r = readers.get(key)
                if r is None:
                    readers[key] = [tid]
                else:
                    r.append(tid)
        # version order per key: the longest read, duplicates dropped
        self.order: dict = {}
        self.position: dict = {}
        for k, vs in longest.items():
            if len(set(vs)) != len(vs):
                seen: set = set()
                vs = tuple(x for x in vs if not (x in seen or seen.add(x)))
            self.order[k] = vs
            for i, x in enumerate(vs):
                self.position[(k, x)] = i
        self.readers = readers

    def previous_element(self, k: Any, v: Any) -> Any:
        """The element appended just before v (Elle's previously-appended-element): its
        predecessor in the version order, or, for an append nobody read, the last
        observed element (it came after that), or INIT."""
        i = self.position.get((k, v))
        order = self.order.get(k, ())
        if i is None:
            return order[-1] if order else INIT
        return order[i - 1] if i > 0 else INIT

    def graph(self, n: int) -> Graph:
        g = Graph(n)
        out = g.out
        writer, readers, prev_el = self.writer, self.readers, self.previous_element

        def link(a: int, b: int, rel: int) -> None:
            if a != b:
                row = out[a]
                if row is None:
                    out[a] = {b: rel}
                else:
                    row[b] = row.get(b, 0) | rel

        for t in self.txns:
            if t.type == FAIL:
                continue
            tid = t.id
            info = t.type == INFO
            for f, k, v in t.mops:
                if f == "append":
                    p = prev_el(k, v)
                    if p is not INIT:
                        w = writer.get((k, p))
                        if w is not None:
                            link(w, tid, WW)
                    for r in readers.get((k, p), ()):
                        link(r, tid, RW)
                elif f == "r" and v:
                    w = writer.get((k, v[-1]))
                    if w is not None:
                        link(w, tid, WR)
                elif f == "r" and v is None and not info:
                    pass
        return g

    # --- anomalies without cycles -------------------------------------------------------

    def anomalies(self) -> dict[str, list]:
        out: dict[str, list] = {}
        txns = self.txns
        failed, intermediate, writer = self.failed, self.intermediate, self.writer
        for t in txns:
            if t.type == FAIL:
                continue
            own_later: dict = {}
            for i, (f, k, v) in enumerate(t.mops):
                if f == "append":
                    own_later.setdefault((k, v), i)
            state: dict = {}
            for i, (f, k, v) in enumerate(t.mops):
                if f == "append":
                    s = state.get(k)
                    state[k] = (s[0], s[1] + (v,)) if s is not None else (False, (v,))
                    continue
                if f != "r" or v is None:
                    continue
                if len(set(v)) != len(v):
                    dups = sorted({x for x in v if v.count(x) > 1}, key=repr)
                    out.setdefault("duplicate-elements", []).append(
                        {"op": t, "mop": (f, k, v), "duplicates": dups})
                s = state.get(k)
                if s is not None:
                    known, vals = s
                    ok_ = (v == vals) if known else (v[len(v) - len(vals):] == vals
                                                    if len(v) >= len(vals) else False)
                    if not ok_:
                        out.setdefault("internal", []).append(
                            {"op": t, "mop": (f, k, v),
                             "expected": list(vals) if known else ["..."] + list(vals)})
                state[k] = (True, v)
                if t.type != OK:
                    continue
                for x in v:
                    j = own_later.get((k, x))
                    if j is not None and j > i:
                        out.setdefault("future-read", []).append(
                            {"op": t, "mop": (f, k, v), "element": x})
                    w = failed.get((k, x))
                    if w is not None:
                        out.setdefault("G1a", []).append(
                            {"op": t, "mop": (f, k, v), "writer": txns[w], "element": x})
                if v:
                    w = intermediate.get((k, v[-1]))
                    if w is not None and w != t.id:
                        out.setdefault("G1b", []).append(
                            {"op": t, "mop": (f, k, v), "writer": txns[w],
                             "element": v[-1]})
        # incompatible orders: every read of a key must be a prefix of its longest read
        for k, reads in self.reads_by_key.items():
            longest = max(reads, key=len)
            for r in sorted(reads, key=len):
                if longest[:len(r)] != r:
                    out.setdefault("incompatible-order", []).append(
                        {"key": k, "values": [list(r), list(longest)]})
        # dirty updates: a failed append followed by a committed one in a version order
        for k, vs in self.order.items():
            t1_type, values = OK, []
            for v in vs:
                if (k, v) in failed:
                    t2_type = FAIL
                else:
                    w = writer.get((k, v))
                    if w is None:
                        continue  # nobody wrote it: not an ordering question
                    t2_type = txns[w].type
                values = values + [v]
                if t2_type == OK:
                    if t1_type == FAIL:
                        out.setdefault("dirty-update", []).append(
                            {"key": k, "values": values})
                    t1_type, values = OK, [v]
                elif t2_type == FAIL:
                    if t1_type != FAIL:
                        t1_type, values = FAIL, [v]
        lu = lost_update_cases(txns, frozenset(("append",)))
        if lu:
            out["lost-update"] = lu
        return out

    def explain(self, a: Txn, b: Txn, rel: int) -> dict | None:
        """Why a -rel-> b, from the data (Elle's pair explainers)."""
        if rel == WW:
            for f, k, v in b.mops:
                if f == "append":
                    p = self.previous_element(k, v)
                    if p is not INIT and self.writer.get((k, p)) == a.id:
                        return {"type": "ww", "key": k, "value": p, "value'": v}
        elif rel == WR:
            for f, k, v in b.mops:
                if f == "r" and v and self.writer.get((k, v[-1])) == a.id:
                    return {"type": "wr", "key": k, "value": v[-1]}
        elif rel == RW:
            for f, k, v in b.mops:
                if f == "append":
                    p = self.previous_element(k, v)
                    if a.id in self.readers.get((k, p), ()):
                        return {"type": "rw", "key": k,
                                "value": "init" if p is INIT else p, "value'": v}
        return None
