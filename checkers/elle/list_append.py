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
from gtcheck.errors import BadInput

INIT = ("init",)  # the empty list's "element"


def lost_update_cases(txns: Sequence[Txn], write_fs: frozenset) -> list[dict]:
    """Committed transactions that read the same version of a key and then wrote it
    (Elle's lost-update-cases; Adya's H_lu)."""
    groups: dict[tuple, list[Txn]] = {}
    for t in txns:
        if t.type != OK or len(t.mops) < 2:  # one micro-op cannot read, then write
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


def _committed_info(txns: Sequence[Txn]) -> set:
    """The :info transactions whose recorded reads may be used: those one of whose
    appends a committed read shows (so every explaining order includes them, reads and
    all). An :info transaction may not have happened (Jepsen), and one that did not
    read nothing: building edges from its recorded reads reported cycles no serial
    order needs (G-single-item, G2-item through a read-only or unobserved :info txn;
    found by the differential test against tests/checkers/txn_oracle.py, seeds 244 and
    442 of list-append with info reads). Elle (elle.list-append/read-index) uses every
    non-nil :info read; this keeps the ones that are sound. Costs nothing when no :info
    transaction recorded a read."""
    maybe = [t for t in txns if t.type == INFO and any(
        f == "r" and v is not None for f, _, v in t.mops)]
    if not maybe:
        return set()
    longest: dict = {}  # k -> the longest committed read (its elements, as a set)
    for t in txns:
        if t.type == OK:
            for f, k, v in t.mops:
                if f == "r" and v and len(v) > len(longest.get(k, ())):
                    longest[k] = v
    seen = {k: set(v) for k, v in longest.items()}
    return {t.id for t in maybe
            if any(f == "append" and v in seen.get(k, ()) for f, k, v in t.mops)}


class Analysis:
    """Indexes over a list-append history; builds the graph and the non-cycle anomalies.

    Written for speed (a million transactions): per-key nested dicts instead of (key,
    value) tuples, one pass to index, and the per-read checks (duplicates, prefixes)
    done in C by comparing against each key's longest read: a read that is a prefix of
    a duplicate-free longest read needs no further look."""

    def __init__(self, txns: Sequence[Txn]):
        self.txns = txns
        writer: dict = {}        # k -> {v: txn id} (ok / info appends)
        failed: dict = {}        # k -> {v: txn id} (failed appends)
        inter: dict = {}         # k -> {v: txn id}: not the txn's last append to k
        longest: dict = {}       # k -> longest read (tuple)
        readers: dict = {}       # k -> {last element or INIT: [txn ids]}
        reads: list = []         # (k, v, txn id) for every known read
        appends: list = []       # (k, v, txn id) for every ok / info append
        mixed: list = []         # txns touching one key with several micro-ops
        r_append, a_append = reads.append, appends.append
        committed_info = _committed_info(txns)
        for t in txns:
            tid = t.id
            mops = t.mops
            if t.type == FAIL:
                for f, k, v in mops:
                    if f == "append":
                        failed.setdefault(k, {})[v] = tid
                continue
            # an :info transaction's recorded reads count only when it certainly took
            # effect (_committed_info); else, like its nil reads, they are skipped
            info = t.type == INFO
            unread = info and tid not in committed_info
            if len(mops) > 1 and len({m[1] for m in mops}) < len(mops):
                mixed.append(t)
                last_append: dict = {}
                for f, k, v in mops:
                    if f == "append":
                        p = last_append.get(k)
                        if p is not None:
                            inter.setdefault(k, {})[p] = tid
                        last_append[k] = v
            for f, k, v in mops:
                if f == "append":
                    wk = writer.get(k)  # values are unique: check.duplicate_writes
                    if wk is None:
                        writer[k] = {v: tid}
                    else:
                        wk[v] = tid
                    a_append((k, v, tid))
                elif f == "r":
                    if v is None:
                        if info:
                            continue
                        v = ()
                    elif unread:
                        continue
                    r_append((k, v, tid))
                    cur = longest.get(k)
                    if cur is None or len(v) > len(cur):
                        longest[k] = v
                    last = v[-1] if v else INIT
                    rk = readers.get(k)
                    if rk is None:
                        readers[k] = {last: [tid]}
                    else:
                        rl = rk.get(last)
                        if rl is None:
                            rk[last] = [tid]
                        else:
                            rl.append(tid)
        order: dict = {}
        position: dict = {}
        self.duplicated_keys = set()
        for k, vs in longest.items():
            pos = {x: i for i, x in enumerate(vs)}
            if len(pos) != len(vs):
                self.duplicated_keys.add(k)
                seen: set = set()
                vs = tuple(x for x in vs if not (x in seen or seen.add(x)))
                pos = {x: i for i, x in enumerate(vs)}
            order[k] = vs
            position[k] = pos
        self.writer, self.failed, self.inter = writer, failed, inter
        self.longest, self.readers, self.reads, self.appends = longest, readers, reads, appends
        self.mixed, self.order, self.position = mixed, order, position

    def previous_element(self, k: Any, v: Any) -> Any:
        """The element appended just before v (Elle's previously-appended-element): its
        predecessor in the version order, or, for an append nobody read, the last
        observed element (it came after that), or INIT."""
        pos = self.position.get(k)
        order = self.order.get(k, ())
        i = pos.get(v) if pos else None
        if i is None:
            return order[-1] if order else INIT
        return order[i - 1] if i > 0 else INIT

    def graph(self, n: int) -> Graph:
        g = Graph(n)
        out = g.out
        writer, readers, order, position = self.writer, self.readers, self.order, \
            self.position
        empty: dict = {}
        # edges are linked inline (no helper call): this loop runs per micro-op of a
        # million-transaction history, and a call per edge costs a fifth of the time
        for k, v, tid in self.reads:
            if v:
                w = writer.get(k, empty).get(v[-1])
                if w is not None and w != tid:
                    row = out[w]
                    if row is None:
                        out[w] = {tid: WR}
                    else:
                        row[tid] = row.get(tid, 0) | WR
        for k, v, tid in self.appends:
            pos = position.get(k)
            i = pos.get(v) if pos else None
            if i is None:
                o = order.get(k)
                p = o[-1] if o else INIT
            else:
                p = order[k][i - 1] if i > 0 else INIT
            if p is not INIT:
                w = writer[k].get(p)
                if w is not None and w != tid:
                    row = out[w]
                    if row is None:
                        out[w] = {tid: WW}
                    else:
                        row[tid] = row.get(tid, 0) | WW
            rk = readers.get(k)
            if rk:
                for r in rk.get(p, ()):
                    if r != tid:
                        row = out[r]
                        if row is None:
                            out[r] = {tid: RW}
                        else:
                            row[tid] = row.get(tid, 0) | RW
        return g

    # --- anomalies without cycles -------------------------------------------------------

    def anomalies(self) -> dict[str, list]:
        out: dict[str, list] = {}
        txns = self.txns
        failed, inter, writer, longest = self.failed, self.inter, self.writer, self.longest
        dup_keys = self.duplicated_keys
        reported_orders: set = set()
        empty: dict = {}
        # keys whose longest read holds an element no append of the history (ok, info or
        # fail) wrote: only their reads, and reads that are no prefix of it, are looked
        # at element by element for garbage-read (below)
        garbage_keys = {k for k, L in longest.items()
                        if any(x not in writer.get(k, empty) and x not in
                               failed.get(k, empty) for x in L)}
        for k, v, tid in self.reads:
            t = None
            L = longest[k]
            prefix = v is L or L[:len(v)] == v
            if (k in garbage_keys or not prefix) and txns[tid].type == OK:
                self._garbage(k, v, txns[tid], out)
            if not prefix:
                pair_ = (k, v)
                if pair_ not in reported_orders:
                    reported_orders.add(pair_)
                    out.setdefault("incompatible-order", []).append(
                        {"key": k, "values": [list(v), list(L)]})
            if (not prefix or k in dup_keys) and len(set(v)) != len(v):
                t = txns[tid]
                dups = sorted({x for x in v if v.count(x) > 1}, key=repr)
                out.setdefault("duplicate-elements", []).append(
                    {"op": t, "mop": ("r", k, v), "duplicates": dups})
            fk = failed.get(k)
            if fk and txns[tid].type == OK:
                for x in v:
                    w = fk.get(x)
                    if w is not None:
                        out.setdefault("G1a", []).append(
                            {"op": txns[tid], "mop": ("r", k, v), "writer": txns[w],
                             "element": x})
            ik = inter.get(k)
            if ik and v:
                w = ik.get(v[-1])
                if w is not None and w != tid and txns[tid].type == OK:
                    out.setdefault("G1b", []).append(
                        {"op": txns[tid], "mop": ("r", k, v), "writer": txns[w],
                         "element": v[-1]})
        for t in self.mixed:
            if t.type == OK:  # Elle's internal-cases: (t/filter h/ok?) -- :ok txns only
                self._within(t, out)
            if t.type != FAIL:
                self._reordered(t, out)
        # dirty updates: a failed append followed by a committed one in a version order
        for k in failed:
            vs = self.order.get(k, ())
            t1_type, values = OK, []
            for v in vs:
                if v in failed[k]:
                    t2_type = FAIL
                else:
                    w = writer.get(k, {}).get(v)
                    if w is None:
                        continue  # nobody wrote it: not an ordering question
                    t2_type = txns[w].type
                values = values + [v]
                if t2_type == OK:
                    if t1_type == FAIL:
                        out.setdefault("dirty-update", []).append(
                            {"key": k, "values": values})
                    t1_type, values = OK, [v]
                elif t2_type == FAIL and t1_type != FAIL:
                    t1_type, values = FAIL, [v]
        lu = lost_update_cases(self.mixed, frozenset(("append",)))
        if lu:
            out["lost-update"] = lu
        return out

    def _reordered(self, t: Txn, out: dict) -> None:
        """reordered-appends: a transaction's appends to one key show up in the version
        order out of its own program order (it appended 1 then 2; the reads say 2 came
        first). A transaction takes effect as its program runs, atomically (Adya's
        serial histories; any model's committed versions are a transaction's final
        state), so no execution puts its own later append before its earlier one, even
        under read uncommitted. Elle sees it only when a read ends on the earlier append
        (G1b, intermediate read): its ww edge between the two is a self-loop, dropped.
        As future-read is a trivial wr cycle T -> T, this is a trivial ww cycle, hence
        G0 (models.IMPLIED). Found by the differential test (seed 1549 of list-append,
        tests/checkers/txn_oracle.py). Checked for :ok and :info transactions: an
        :info one whose appends were observed took effect, program and all."""
        position = self.position
        last: dict = {}  # k -> (position, value) of the txn's latest observed append
        for f, k, v in t.mops:
            if f != "append":
                continue
            i = position.get(k, {}).get(v)
            if i is None:
                continue
            p = last.get(k)
            if p is not None and i < p[0]:
                out.setdefault("reordered-appends", []).append(
                    {"op": t, "key": k, "values": [p[1], v],
                     "order": list(self.order[k][i:p[0] + 1])})
            last[k] = (i, v)

    def _garbage(self, k: Any, v: tuple, t: Txn, out: dict) -> None:
        """garbage-read: a committed read holding an element that no transaction of the
        history appended to k, whatever its outcome. Every read returns a version some
        transaction installed, or the initial one (Adya 1999, section 3.1: a read r_j(x_i)
        reads the version x_i written by T_i), and a history records every write
        invocation (Jepsen), so no execution explains such a read under any model, read
        uncommitted included. Elle's version order is inferred from the reads and says
        nothing here (the element has no writer, hence no edge): without this case such
        a history was VALID (found by the differential test against the brute-force
        oracle, tests/checkers/txn_oracle.py). List-append only: Elle's rw-register
        accepts reads of values nobody wrote (its corpus expects rw-register.edn, which
        reads x = 3, valid), one of the incompletenesses that workload is allowed."""
        wk = self.writer.get(k, {})
        fk = self.failed.get(k, {})
        unwritten = [x for x in v if x not in wk and x not in fk]
        if unwritten:
            out.setdefault("garbage-read", []).append(
                {"op": t, "mop": ("r", k, v), "elements": unwritten})

    @staticmethod
    def _within(t: Txn, out: dict) -> None:
        """internal and future-read: a committed transaction's reads against its own
        micro-ops (elle.list-append/op-int-case, after Cerone et al.'s axiom INT: a read
        must agree with the transaction's own latest read or append of the key). A nil
        read of a committed transaction is the empty list, so appending x then reading
        nil is internal (Elle's FaunaDB example: [[:append 0 6] [:r 0 nil]])."""
        appended_at: dict = {}
        for i, (f, k, v) in enumerate(t.mops):
            if f == "append":
                appended_at.setdefault((k, v), i)
        state: dict = {}
        for i, (f, k, v) in enumerate(t.mops):
            if f == "append":
                s = state.get(k)
                state[k] = (s[0], s[1] + (v,)) if s is not None else (False, (v,))
                continue
            if f != "r":
                continue
            if v is None:
                v = ()
            s = state.get(k)
            if s is not None:
                known, vals = s
                fine = (v == vals) if known else \
                    (len(v) >= len(vals) and v[len(v) - len(vals):] == vals)
                if not fine:
                    out.setdefault("internal", []).append(
                        {"op": t, "mop": (f, k, v),
                         "expected": list(vals) if known else ["..."] + list(vals)})
            state[k] = (True, v)
            if t.type == OK:
                for x in v:
                    j = appended_at.get((k, x))
                    if j is not None and j > i:
                        out.setdefault("future-read", []).append(
                            {"op": t, "mop": (f, k, v), "element": x})

    def explain(self, a: Txn, b: Txn, rel: int) -> dict | None:
        """Why a -rel-> b, from the data (Elle's pair explainers)."""
        if rel == WW:
            for f, k, v in b.mops:
                if f == "append":
                    p = self.previous_element(k, v)
                    if p is not INIT and self.writer.get(k, {}).get(p) == a.id:
                        return {"type": "ww", "key": k, "value": p, "value'": v}
        elif rel == WR:
            for f, k, v in b.mops:
                if f == "r" and v and self.writer.get(k, {}).get(v[-1]) == a.id:
                    return {"type": "wr", "key": k, "value": v[-1]}
        elif rel == RW:
            for f, k, v in b.mops:
                if f == "append":
                    p = self.previous_element(k, v)
                    if a.id in self.readers.get(k, {}).get(p, ()):
                        return {"type": "rw", "key": k,
                                "value": "init" if p is INIT else p, "value'": v}
        return None
