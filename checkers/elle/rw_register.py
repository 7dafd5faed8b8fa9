"""Read-write registers: version orders where they can be recovered, dependency edges,
and the anomalies that need no cycle (Elle's rw-register test, elle/rw_register.clj;
Kingsbury & Alvaro, VLDB 2020, section 4.2).

A register read shows one value, not its history, so the version order has to be
inferred, and only where it is sound:
- initial state: the unwritten register (nil) precedes every written value;
- (options) write-follows-read inside a transaction (`wfr_keys`), each process's order
  (`sequential_keys`: sound when every process sees its own history in order, as
  strong-session models promise), real-time order per key (`linearizable_keys`: sound
  when each key is linearizable, as strict serializability implies).
A version order with a cycle is itself an anomaly ("cyclic-versions"), and that key then
contributes no edges. Only a transaction's last write of a key installs a version
(Adya's committed versions); earlier writes are intermediate and reading one is G1b.

Edges: ww from v1's writer to v2's writer, rw from v1's readers to v2's writer, for
each inferred v1 < v2; wr from a value's writer to its readers. Values are unique per key
(the workload's contract), so a value names its writer.
"""

from __future__ import annotations

from typing import Any, Sequence

from checkers.elle.graph import RW, WR, WW, Graph, sccs
from checkers.elle.list_append import lost_update_cases
from checkers.elle.txn import FAIL, INFO, OK, Txn

NIL = ("nil",)


def _ext(t: Txn) -> tuple[dict, dict, dict]:
    """(external reads: first read of k before any write of k; final writes; first
    version of each key the txn touched: its external read, else its first write)."""
    reads: dict = {}
    writes: dict = {}
    first: dict = {}
    for f, k, v in t.mops:
        if f == "w":
            writes[k] = v
            first.setdefault(k, v)
        elif f == "r" and k not in writes and k not in reads:
            if v is None and t.type == INFO:
                continue
            reads[k] = NIL if v is None else v
            first.setdefault(k, reads[k])
    return reads, writes, first


class Analysis:
    def __init__(self, txns: Sequence[Txn], *, wfr_keys: bool = False,
                 sequential_keys: bool = False, linearizable_keys: bool = False):
        self.txns = txns
        self.writer: dict = {}
        self.failed: dict = {}
        self.intermediate: dict = {}
        self.readers: dict = {}
        # each transaction's _ext, kept only for the version-order options that look it
        # up again (three dicts a transaction: a third of the memory at a million);
        # explain() recomputes the few it needs
        self.ext: dict = {}
        keep = wfr_keys or sequential_keys or linearizable_keys
        writer, readers = self.writer, self.readers
        for t in txns:
            if t.type == FAIL:
                for f, k, v in t.mops:
                    if f == "w":
                        self.failed[(k, v)] = t.id
                continue
            if len(t.mops) == 1 and not keep:  # the usual case, without _ext's dicts
                f, k, v = t.mops[0]
                if f == "w":
                    writer[(k, v)] = t.id
                elif f == "r" and not (v is None and t.type == INFO):
                    rl = readers.get((k, NIL if v is None else v))
                    if rl is None:
                        readers[(k, NIL if v is None else v)] = [t.id]
                    else:
                        rl.append(t.id)
                continue
            reads, writes, _ = ext = _ext(t)
            if keep:
                self.ext[t.id] = ext
            seen_w: dict = {}
            for f, k, v in t.mops:
                if f == "w":
                    if k in seen_w:
                        self.intermediate[(k, seen_w[k])] = t.id
                    seen_w[k] = v
            for k, v in writes.items():
                writer[(k, v)] = t.id
            for k, v in reads.items():
                readers.setdefault((k, v), []).append(t.id)
        # version graphs: k -> {v: set(successors)}, and where each edge came from
        self.versions: dict = {}
        self.sources: dict = {}
        versions, sources = self.versions, self.sources
        for (k, v) in writer:  # self._order(k, NIL, v, "initial-state"), inline
            if v == NIL:
                continue
            vg = versions.get(k)
            if vg is None:
                versions[k] = {NIL: {v: 1}}
                sources[k] = {"initial-state"}
            else:
                vg[NIL][v] = 1
        if wfr_keys:
            for tid, (reads, writes, _) in self.ext.items():
                for k, v in writes.items():
                    if k in reads:
                        self._order(k, reads[k], v, "wfr-keys")
        if sequential_keys:
            self._chain(lambda t: t.process, "sequential-keys")
        if linearizable_keys:
            self._realtime_keys()
        self.cyclic: dict = {}
        for k, vg in self.versions.items():
            if len(vg) < 2:  # one row (nil's, or a single version's): no cycle possible
                continue
            comps = sccs(vg)
            if comps:
                self.cyclic[k] = comps

    def _order(self, k: Any, a: Any, b: Any, source: str) -> None:
        if a == b:
            return
        vg = self.versions.setdefault(k, {})  # a version with no successor has no row
        vg.setdefault(a, {})[b] = 1
        self.sources.setdefault(k, set()).add(source)

    def _last_version(self, tid: int, k: Any) -> Any:
        reads, writes, _ = self.ext[tid]
        return writes.get(k, reads.get(k))

    def _chain(self, group, source: str) -> None:
        last: dict = {}
        for t in sorted((t for t in self.txns if t.type == OK), key=lambda t: t.invoke_time):
            g = group(t)
            _, _, first = self.ext[t.id]
            for k, v in first.items():
                p = last.get((g, k))
                if p is not None:
                    self._order(k, p, v, source)
            for k in first:
                last[(g, k)] = self._last_version(t.id, k)

    def _realtime_keys(self) -> None:
        """Per key, v1 < v2 when a transaction ending on v1 completed before one
        starting from v2 was invoked (the frontier reduction of add_realtime)."""
        by_key: dict = {}
        for t in self.txns:
            if t.type == FAIL:
                continue
            for k in self.ext[t.id][2]:
                by_key.setdefault(k, []).append(t)
        for k, ts in by_key.items():
            events = []
            for t in ts:
                events.append((t.invoke_time, 1, t.id))
                if t.type == OK and t.complete_time is not None:
                    events.append((t.complete_time, 0, t.id))
            events.sort(key=lambda e: (e[0], -e[1]))
            frontier: set = set()
            preds: dict = {}
            for _, kind, tid in events:
                if kind == 1:
                    preds[tid] = tuple(frontier)
                    for a in preds[tid]:
                        self._order(k, self._last_version(a, k), self.ext[tid][2][k],
                                    "linearizable-keys")
                else:
                    frontier.difference_update(preds.pop(tid, ()))
                    frontier.add(tid)

    def graph(self, n: int) -> Graph:
        g = Graph(n)
        writer, readers = self.writer, self.readers
        for (k, v), rs in readers.items():
            w = writer.get((k, v))
            if w is not None:
                for r in rs:
                    g.link(w, r, WR)
        for k, vg in self.versions.items():
            if k in self.cyclic:
                continue
            for a, succ in vg.items():
                wa = writer.get((k, a))
                ra = readers.get((k, a), ())
                for b in succ:
                    wb = writer.get((k, b))
                    if wb is None:
                        continue
                    if wa is not None:
                        g.link(wa, wb, WW)
                    for r in ra:
                        g.link(r, wb, RW)
        return g

    def anomalies(self) -> dict[str, list]:
        out: dict[str, list] = {}
        txns = self.txns
        for t in txns:
            if t.type == FAIL:
                continue
            state: dict = {}
            for f, k, v in t.mops:
                if f == "w":
                    state[k] = v
                    continue
                if f != "r" or (v is None and t.type == INFO):
                    continue
                # internal: elle.rw-register/internal-cases keeps :ok transactions only
                # (an :info completion's reads are not known to have happened as shown)
                if t.type == OK and k in state and state[k] != v:
                    out.setdefault("internal", []).append(
                        {"op": t, "mop": (f, k, v), "expected": state[k]})
                state[k] = v
                if t.type != OK:
                    continue
                w = self.failed.get((k, v))
                if w is not None:
                    out.setdefault("G1a", []).append(
                        {"op": t, "mop": (f, k, v), "writer": txns[w], "element": v})
                w = self.intermediate.get((k, v))
                if w is not None and w != t.id:
                    out.setdefault("G1b", []).append(
                        {"op": t, "mop": (f, k, v), "writer": txns[w], "element": v})
        for k, comps in self.cyclic.items():
            for c in comps:
                out.setdefault("cyclic-versions", []).append(
                    {"key": k, "scc": sorted((None if x is NIL else x for x in c),
                                             key=repr),
                     "sources": sorted(self.sources.get(k, ()))})
        lu = lost_update_cases(txns, frozenset(("w",)))
        if lu:
            out["lost-update"] = lu
        return out

    def explain(self, a: Txn, b: Txn, rel: int) -> dict | None:
        if a.type == FAIL or b.type == FAIL:
            return None
        ea, eb = _ext(a), _ext(b)
        if rel == WR:
            for k, v in eb[0].items():
                if self.writer.get((k, v)) == a.id:
                    return {"type": "wr", "key": k, "value": v}
        elif rel in (WW, RW):
            src = ea[1] if rel == WW else ea[0]
            for k, v in src.items():
                for k2, v2 in eb[1].items():
                    if k2 == k and v2 in self.versions.get(k, {}).get(v, {}):
                        return {"type": "ww" if rel == WW else "rw", "key": k,
                                "value": None if v is NIL else v, "value'": v2}
        return None
