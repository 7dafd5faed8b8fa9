"""Set checks: adds of unique elements to per-key sets (UpdateItem ADD on a string set).

Every read must hold only elements some add attempted, and never an element whose every
add definitely failed (both modes). Under MRSC an SC read holds every element whose add
was acknowledged before the read began, the final reads in every region hold every
acknowledged add ("no acknowledged add lost"), and EC reads never lose an element an
earlier EC read in the same region saw (sets only grow), and adds and SC reads are
linearizable (`linearizability`, exact without a search). Under async last-writer-wins an add writes the whole item as
a new version, so adds in other regions overwrite each other: an element a region lost
where no write from another region could have overwritten it breaks A01/A05
(`async_losses`); the other missing elements are stale reads and lost adds, expected and
reported by `checkers.anomalies`. In both modes no read holds an element before any add
of it began. The final-read summary follows Jepsen's set checker
(ok, lost, recovered, unexpected). Reads are judged as bitmasks of element ids
(`checkers.set_reads`, issue 23): each read costs a few big-int operations, and its
elements are built only when a test fails, to explain the anomaly; the whole check is
linear in the number of reads and elements added, plus n log n.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from checkers import observe as ob
from checkers.observe import Pair
from checkers.core import collector_paused
from checkers.set_reads import SetReads, elements, set_reads
from results.history import FAIL, INFO, OK


def canon(v: Any) -> tuple:
    """A set read in the form convergence compares."""
    return tuple(sorted(elements(v), key=repr))


class KeyAdds:
    """One key's add attempts: per element, and the acknowledged ones in end order."""

    def __init__(self, adds: Iterable[Pair]):
        self.attempts: dict[Any, list[Pair]] = defaultdict(list)
        for p in adds:
            self.attempts[ob.freeze(p.invoke.value)].append(p)
        self.ack_end: dict[Any, int] = {}
        for e, ps in self.attempts.items():
            ends = [p.end for p in ps if p.type == OK]
            if ends:
                self.ack_end[e] = min(ends)
        self.succeeded_maybe = frozenset(e for e, ps in self.attempts.items()
                                         if any(p.type != FAIL for p in ps))
        self.acked = sorted(self.ack_end.items(), key=lambda kv: kv[1])
        # element -> the earliest invocation of an add of it that may have happened
        self.first_start = {e: min(p.start for p in ps if p.type != FAIL)
                            for e, ps in self.attempts.items() if e in self.succeeded_maybe}
        self.by_first_start = sorted(self.first_start.items(), key=lambda kv: kv[1])


def adds_by_key(pairs: Sequence[Pair]) -> dict[Any, KeyAdds]:
    return ob.memo(pairs, "set_adds", lambda: _adds_by_key(pairs))


def _adds_by_key(pairs: Sequence[Pair]) -> dict[Any, KeyAdds]:
    groups: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.invoke.f == "add":
            groups[p.invoke.key].append(p)
    keys = set(groups) | {p.invoke.key for p in pairs if p.invoke.f == "read"}
    return {k: KeyAdds(groups.get(k, [])) for k in keys}


def _ok_reads(pairs: Sequence[Pair]):
    return (p for p in pairs if p.type == OK and p.invoke.f == "read")


def unexpected_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds]) -> list[dict]:
    """Elements never added, added only by adds that failed, or read before any add of
    them was invoked (both modes: a read returns what some write wrote, and a write takes
    effect inside its interval; Knossos's model of an operation)."""
    out = _read_before_add_anomalies(pairs, adds)
    reads = set_reads(pairs)
    outside: dict[Any, int] = {}  # key -> mask of every element not in succeeded_maybe
    for p in _ok_reads(pairs):
        key = p.invoke.key
        ka = adds[key]
        out_mask = outside.get(key)
        if out_mask is None:
            out_mask = outside[key] = ~reads.key(key).mask(ka.succeeded_maybe)
        if not reads.mask(p) & out_mask:  # the common case: a few big-int operations
            continue
        region = ob.region_of(p)
        present = elements(ob.read_value(p))
        head = (f"{ob.read_kind(p)} of {key} in {region} at {ob.secs(p.start)} (op "
                f"{p.invoke.index}) holds")
        never, failed = [], []
        for e in present - ka.succeeded_maybe:
            tries = ka.attempts.get(e)
            if tries is None:
                never.append(e)
            elif all(t.type == FAIL for t in tries):
                failed.append((e, tries))
        if never:
            out.append(ob.anomaly(
                "never-added", expected=False, key=key, region=region, ops=[p.invoke.index],
                elements=never[:20],
                explanation=f"{head} {ob.show(never)}, never added to {key}"))
        for e, tries in failed:
            kind, reason = ob.failure_kind(tries)
            out.append(ob.anomaly(
                kind, expected=False, key=key, region=region,
                ops=[p.invoke.index] + [t.invoke.index for t in tries],
                explanation=(f"{head} {ob.show(e)}, but every add of it (op "
                             f"{', '.join(str(t.invoke.index) for t in tries)}) failed"
                             f"{reason}, so it was never added")))
    return out


def _read_before_add_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds]) -> list[dict]:
    """Reads holding an element whose every add that may have happened began after the
    read ended. Reads are swept in order of end against the elements invoked by then, so
    a read costs a subset test in C unless it holds such an element."""
    by_key: dict[Any, list[Pair]] = defaultdict(list)
    for p in _ok_reads(pairs):
        by_key[p.invoke.key].append(p)
    index = set_reads(pairs)
    out = []
    for key, reads in by_key.items():
        ka = adds[key]
        ke = index.key(key)
        # elements some add of which may have happened but was not invoked yet
        pending = ke.mask(ka.first_start)
        order, i = ka.by_first_start, 0
        for p in sorted(reads, key=lambda p: p.end):
            while i < len(order) and order[i][1] <= p.end:
                pending &= ~ke.bit(order[i][0])
                i += 1
            if not index.mask(p) & pending:
                continue
            invoked = {e for e, _ in order[:i]}
            present = elements(ob.read_value(p))
            early = [e for e in present - invoked if e in ka.first_start]
            if not early:
                continue
            e = min(early, key=repr)
            first = min((t for t in ka.attempts[e] if t.type != FAIL), key=lambda t: t.start)
            out.append(ob.anomaly(
                "read-before-write", expected=False, key=key, region=ob.region_of(p),
                ops=[p.invoke.index, first.invoke.index], elements=sorted(early, key=repr)[:20],
                explanation=(f"{ob.read_kind(p)} of {key} in {ob.region_of(p)} at "
                             f"{ob.secs(p.start)} (op {p.invoke.index}) holds {ob.show(e)} and "
                             f"completed at {ob.secs(p.end)}, before any add of it began "
                             f"(op {first.invoke.index}, at {ob.secs(first.start)})")))
    return out


def async_losses(pairs: Sequence[Pair], adds: dict[Any, KeyAdds],
                 margin_ns: int) -> tuple[list[dict], dict[Any, set]]:
    """Computed once per history (`_async_losses` says what it finds)."""
    return ob.memo(pairs, ("set_async_losses", margin_ns),
                   lambda: _async_losses(pairs, adds, margin_ns))


def _async_losses(pairs: Sequence[Pair], adds: dict[Any, KeyAdds],
                  margin_ns: int) -> tuple[list[dict], dict[Any, set]]:
    """Async: elements a region lost for no reason last-writer-wins allows.

    Each add rewrites the whole item as a new version (local elements plus its own), so a
    region's copy loses an element only when a version from another region with a higher
    timestamp replaces it (A06, A14). Evidence that region R held element e: an add of e
    acknowledged in R (A01) or a read in R that returned e (an EC read too: copies hold
    only what their leader held, G2). A later SC read in R (final reads included) without
    e is allowed only if some write from another region, invoked before that read ended,
    can carry a timestamp above e's add: it did not end before the first add of e began
    (`observe.RemoteWrites`, with twice the injected clock skew as margin), and is not an
    add of e itself (which holds e). Anything else
    is a violation: read-your-writes (A01) when the evidence was R's own add,
    non-monotonic-read (A05) when it was a read, lost-add when the read is a final one.
    Returns (violations, key -> elements reported), one anomaly per element and region."""
    remote = ob.RemoteWrites(pairs, fs=("add",))
    index = set_reads(pairs)
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    finals: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.type != OK or p.invoke.f not in ("add", "read"):
            continue
        evidence, judged = groups[(ob.region_of(p), p.invoke.key)]
        evidence.append(p)
        if p.invoke.f == "read" and ob.is_sc(p):
            judged.append(p)
            if ob.is_final(p):
                finals[p.invoke.key].append(p)
    out: list[dict] = []
    reported: dict[Any, set] = defaultdict(set)
    for (region, key), (evidence, judged) in groups.items():
        # after the final heal every region holds the same version, the newest by
        # last-writer-wins (A06, A08): a final read anywhere shows what R's copy became,
        # so it is judged against R's evidence too, whether or not R has a final read
        judged = judged + [p for p in finals.get(key, ()) if ob.region_of(p) != region]
        if not judged:
            continue
        ka = adds[key]
        ke = index.key(key)
        evidence.sort(key=lambda p: p.end)
        held: dict[Any, Pair] = {}  # element -> its evidence
        held_mask = 0  # the elements of `held`
        i = 0
        for r in sorted(judged, key=lambda p: p.start):
            while i < len(evidence) and evidence[i].end < r.start:
                q = evidence[i]
                i += 1
                if q.invoke.f == "add":
                    e = ob.freeze(q.invoke.value)
                    held[e] = q
                    held_mask |= ke.bit(e)
                else:
                    held_mask = hold_read(held, held_mask, q, index)
            lacking = held_mask & ~index.mask(r)
            if not lacking:
                continue
            held_mask ^= lacking  # judged once: a later read lacking it adds nothing
            for e in ke.decode(lacking):
                q = held.pop(e)
                # the adds of e itself hold e: only another write can replace it
                own_adds = [t.invoke.index for t in ka.attempts.get(e, ())]
                limit = remote.latest_end(key, region, r.end, exclude=own_adds) + margin_ns
                if ka.first_start.get(e, NEG) <= limit:
                    continue  # a concurrent write from another region may have won
                own = q.invoke.f == "add"
                # a quiet read (suite/quiet.py) is a final read of its round
                kind = ("lost-add" if ob.is_final(r) or ob.is_quiet(r) else
                        "read-your-writes" if own else "non-monotonic-read")
                seen = (f"its add (op {q.invoke.index}) was acknowledged in {region} at "
                        f"{ob.secs(q.end)}" if own else
                        f"op {q.invoke.index} read it there, done at {ob.secs(q.end)}")
                reported[key].add(e)
                where = ob.region_of(r)
                if where != region:
                    seen += (f"; after the final heal {where} holds the version {region} "
                             f"converged on (A06, A08)")
                out.append(ob.anomaly(
                    kind, expected=False, key=key, region=where,
                    ops=[r.invoke.index, q.invoke.index], elements=[e],
                    explanation=(f"{ob.read_kind(r)} of {key} in {where} at "
                                 f"{ob.secs(r.start)} (op {r.invoke.index}) lacks "
                                 f"{ob.show(e)}, though {seen}, and no write from a region "
                                 f"other than {region} could have overwritten it by "
                                 f"last-writer-wins")))
    return out, reported


NEG = float("-inf")


def hold_read(held: dict[Any, Pair], held_mask: int, q: Pair, index) -> int:
    """Record read q as the evidence of each element it holds that has none yet (the
    first evidence is kept: `held.setdefault(e, q)` for every element) and return the
    new mask of `held`. Only q's delta over `held` is visited, taken on the masks
    (`checkers.set_reads`): a read repeats most of what the reads before it held, so the
    loop runs per new element (issue 23: at 1.15M operations the per-element loop was a
    third of the async set check)."""
    new = index.mask(q) & ~held_mask
    if new:
        for e in index.key(q.invoke.key).decode(new):
            held[e] = q
    return held_mask | new


def stale_set_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds], *,
                        expected: bool, include_final: bool = False,
                        skip: Iterable[int] = ()) -> list[dict]:
    """SC reads missing an element whose add was acknowledged before the read began
    (reads whose index is in `skip` left out: judged as violations elsewhere)."""
    skip = frozenset(skip)
    reads: dict[Any, list[Pair]] = defaultdict(list)
    for p in _ok_reads(pairs):
        if ob.is_sc(p) and (include_final or not ob.is_final(p)) \
                and p.invoke.index not in skip:
            reads[p.invoke.key].append(p)
    index = set_reads(pairs)
    out = []
    # at 1M async operations about 400k reads are stale (issue 23): only the first
    # MAX_EXAMPLES, all `ob.result` lists, are explained; the rest are counted
    listed = unlisted = 0
    for key, ps in reads.items():
        ka = adds[key]
        ke = index.key(key)
        acked_before = 0  # the mask of them: grows as reads are visited in start order
        i = 0
        for p in sorted(ps, key=lambda p: p.start):
            while i < len(ka.acked) and ka.acked[i][1] < p.start:
                acked_before |= ke.bit(ka.acked[i][0])
                i += 1
            present = index.mask(p)
            missing_mask = acked_before & ~present
            if not missing_mask:
                continue
            if listed >= ob.MAX_EXAMPLES:
                unlisted += 1  # counted only: `ob.result` lists MAX_EXAMPLES per kind
                continue
            listed += 1
            # the missing element acknowledged last: walk back from the newest ack
            j = i - 1
            while ke.has(present, ka.acked[j][0]):
                j -= 1
            example, missing = ka.acked[j][0], missing_mask.bit_count()
            region = ob.region_of(p)
            acked = min((t for t in ka.attempts[example] if t.type == OK),
                        key=lambda t: t.end)
            out.append(ob.anomaly(
                "stale-read", expected=expected, key=key, region=region,
                ops=[p.invoke.index, acked.invoke.index], missing=missing,
                explanation=(f"SC read of {key} in {region} at {ob.secs(p.start)} (op "
                             f"{p.invoke.index}) lacks {missing} element(s) whose adds "
                             f"were acknowledged before it began, e.g. {ob.show(example)} (op "
                             f"{acked.invoke.index} in {ob.region_of(acked)}, acknowledged at "
                             f"{ob.secs(acked.end)})")))
    if unlisted:
        out.append(ob.unlisted("stale-read", expected=expected, count=unlisted))
    return out


def lost_add_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds], *,
                       expected: bool, exclude: dict[Any, set] | None = None) -> list[dict]:
    """Final reads (every region) missing an acknowledged add: one anomaly per key whose
    `count` is the number of elements lost (those in `exclude` left out: reported as
    violations elsewhere)."""
    from checkers.async_props import final_reads
    out = []
    for key, per in final_reads(pairs).items():
        ka = adds[key]
        skip = (exclude or {}).get(key, ())
        lost: dict[Any, list[str]] = defaultdict(list)
        for region, p in sorted(per.items()):
            for e in ka.ack_end.keys() - elements(ob.read_value(p)):
                if e not in skip:
                    lost[e].append(region)
        if not lost:
            continue
        example = next(iter(sorted(lost, key=lambda e: ka.ack_end[e])))
        out.append(ob.anomaly(
            "lost-add", expected=expected, key=key, region=None,
            ops=[p.invoke.index for p in per.values()], lost=len(lost), count=len(lost),
            elements=sorted(lost, key=repr)[:20],
            explanation=(f"After the final heal {len(lost)} acknowledged add(s) to {key} are "
                         f"missing from the final reads, e.g. {ob.show(example)} "
                         f"(acknowledged at {ob.secs(ka.ack_end[example])}) is missing in "
                         f"{', '.join(lost[example])}")))
    return out


_EPS = 1e-3  # ns: "strictly after" in the earliest schedule below


def linearizability(pairs: Sequence[Pair]) -> tuple[list[dict], dict | None]:
    """MRSC (M06): is each key's history of adds and SC reads linearizable, for a grow-only
    set of unique elements? Exact, in n log n per key, without a search.

    A linearization puts each add of element e at a point x_e in its interval (an `info`
    add: any time after it began, or never; `fail` adds never happened: Knossos) and each
    SC read r at a point y_r in its interval, with e in r's value exactly when x_e < y_r.
    So the reads' values must form a chain C_1 < C_2 < ... (a read in group G_i returns
    C_i), every element of D_i = C_i - C_(i-1) is added after every read of G_(i-1) and
    before every read of G_i, and acknowledged elements no read holds are added after the
    last group. These are difference constraints along one path; the earliest schedule
    (each point as early as its lower bound and its predecessors allow) satisfies them all
    exactly when some schedule does, so the first point pushed past its upper bound is
    the counterexample. Returns (anomalies, counterexample of the first invalid key)."""
    by_key: dict[Any, tuple[list, list]] = defaultdict(lambda: ([], []))
    for p in pairs:
        if p.invoke.f == "add" and p.type != FAIL:
            by_key[p.invoke.key][0].append(p)
        elif p.invoke.f == "read" and p.type == OK and ob.is_sc(p):
            by_key[p.invoke.key][1].append(p)
    index = set_reads(pairs)
    out: list[dict] = []
    first_cx = None
    for key, (adds, reads) in by_key.items():
        found = _set_key_linearizable(key, adds, reads, index)
        if found is not None:
            out.append(found)
            if first_cx is None:
                first_cx = found["counterexample"]
    return out, first_cx


def _set_key_linearizable(key, adds: list[Pair], reads: list[Pair],
                          index: SetReads) -> dict | None:
    inf = float("inf")
    lo: dict[Any, float] = {}
    hi: dict[Any, float] = {}
    add_op: dict[Any, Pair] = {}
    for p in adds:
        e = ob.freeze(p.invoke.value)
        if e not in lo or p.start < lo[e]:
            lo[e], add_op[e] = p.start, p
        if p.type == OK:
            hi[e] = min(hi.get(e, inf), p.end)
    ke = index.key(key)
    groups: dict[int, list[Pair]] = defaultdict(list)  # a read's mask -> the reads
    for r in reads:
        groups[index.mask(r)].append(r)
    chain = sorted(groups, key=int.bit_count)

    def fail(op: Pair, why: str, concurrent: Iterable[Pair] = ()) -> dict:
        region = ob.region_of(op)
        what = ob.read_kind(op) if op.invoke.f == "read" else "add"
        text = (f"On {key} in {region} at {ob.secs(op.start)}: {what} (op "
                f"{op.invoke.index}) cannot be linearized: {why}")
        conc = [q.invoke.index for q in concurrent][:20]
        cx = {"key": key, "op": op.invoke.index, "prefix": [], "states": [],
              "concurrent": conc, "explanation": text}
        return ob.anomaly("nonlinearizable", expected=False, key=key, region=region,
                          ops=[op.invoke.index] + conc, explanation=text, counterexample=cx)

    for a, b in zip(chain, chain[1:]):
        if a & ~b:
            ra, rb = groups[a][0], groups[b][0]
            return fail(rb, f"it and op {ra.invoke.index} each hold an element the other "
                            f"lacks ({ob.show(min(ke.decode(a & ~b), key=repr))} and "
                            f"{ob.show(min(ke.decode(b & ~a), key=repr))}), and a set "
                            f"only grows", [ra])
    prev_reads: list[Pair] = []
    after = -inf  # P_i: the latest point of the previous group's reads
    covered = 0  # the mask of the previous group's value
    for c in chain + [None]:
        new = (ke.decode(c & ~covered) if c is not None else
               [e for e in hi if not ke.has(covered, e)])
        latest_add, latest_op = -inf, None  # Q_i
        for e in sorted(new, key=repr):
            if e not in lo:
                continue  # never added: reported by unexpected_anomalies
            x = max(lo[e], after + _EPS)
            if x > hi.get(e, inf):
                return fail(add_op[e], f"{ob.show(e)} must be added after "
                            f"{len(prev_reads)} SC read(s) that lack it, the last of which "
                            f"cannot end before {ob.secs(after)}, but its add was "
                            f"acknowledged at {ob.secs(hi[e])}", prev_reads[-3:])
            if x > latest_add:
                latest_add, latest_op = x, add_op[e]
        if c is None:
            break
        group = groups[c]
        after = -inf
        for r in group:
            y = max(r.start, latest_add + _EPS)
            if y > r.end:
                e = ob.show(ob.freeze(latest_op.invoke.value))
                return fail(r, f"it holds {c.bit_count()} element(s), and {e} (op "
                            f"{latest_op.invoke.index}) cannot have been added before "
                            f"{ob.secs(latest_add)}, after the read ended", [latest_op])
            after = max(after, y)
        prev_reads, covered = group, c
    return None


class SetLinearizable:
    """MRSC set: linearizability per key of adds and SC reads (`linearizability`), with
    the counterexample where the report looks for it."""

    def check(self, test, history, opts) -> dict:
        with collector_paused():
            pairs = ob.client_pairs(history)
            found, cx = linearizability(pairs)
        keys = len({p.invoke.key for p in pairs if p.invoke.f in ("add", "read")})
        out = ob.result(found, model="set", keys=keys,
                        invalid_keys=[a["key"] for a in found][:ob.MAX_EXAMPLES])
        if cx is not None:
            out["counterexample"] = cx
        return out


def ec_monotonic_anomalies(pairs: Sequence[Pair]) -> list[dict]:
    """MRSC: an EC read holds every element an earlier EC read in its region saw."""
    groups = ob.reads_by_region_and_key(p for p in _ok_reads(pairs) if not ob.is_sc(p))
    index = set_reads(pairs)
    out = []
    for (region, key), reads in groups.items():
        ke = index.key(key)
        seen = 0  # the mask of everything EC reads done before this one saw
        earlier: list[Pair] = []  # those reads, in order of end
        for p, done in ob.completed_before_each(reads):
            for q in done:
                seen |= index.mask(q)
            earlier += done
            lacking = seen & ~index.mask(p)
            if lacking:
                e = min(ke.decode(lacking), key=repr)
                q = next(q for q in earlier if ke.has(index.mask(q), e))
                out.append(ob.anomaly(
                    "non-monotonic-read", expected=False, key=key, region=region,
                    ops=[q.invoke.index, p.invoke.index], stream="EC",
                    explanation=(f"EC reads of {key} in {region} went back in time: op "
                                 f"{q.invoke.index} saw {ob.show(e)} (done at "
                                 f"{ob.secs(q.end)}), but op {p.invoke.index} (begun at "
                                 f"{ob.secs(p.start)}) no longer holds it")))
    return out


def final_summary(pairs: Sequence[Pair], adds: dict[Any, KeyAdds]) -> dict:
    """Jepsen-style counts over the final reads: ok, lost, recovered, unexpected."""
    from checkers.async_props import final_reads
    counts = {"attempted": 0, "acknowledged": 0, "ok": 0, "lost": 0, "recovered": 0,
              "unexpected": 0}
    finals = final_reads(pairs)
    for key, ka in adds.items():
        per = finals.get(key)
        counts["attempted"] += len(ka.attempts)
        counts["acknowledged"] += len(ka.ack_end)
        if not per:
            continue
        finals_seen = [elements(ob.read_value(p)) for p in per.values()]
        union, inter = frozenset().union(*finals_seen), frozenset.intersection(*finals_seen)
        counts["ok"] += sum(1 for e in ka.ack_end if e in inter)
        counts["lost"] += sum(1 for e in ka.ack_end if e not in inter)
        counts["recovered"] += sum(1 for e, ts in ka.attempts.items()
                                   if e in union and e not in ka.ack_end
                                   and any(t.type == INFO or t.complete is None for t in ts))
        counts["unexpected"] += sum(1 for e in union if e not in ka.attempts)
    counts["keys_with_final_reads"] = len(finals)
    return counts


class SetChecker:
    """The set's promises in `mode` ("async" or "strong")."""

    def __init__(self, mode: str):
        self.strong = mode == "strong"

    def check(self, test, history, opts) -> dict:
        with collector_paused():
            return self._check(history)

    def _check(self, history) -> dict:
        pairs = ob.client_pairs(history)
        adds = adds_by_key(pairs)
        found = unexpected_anomalies(pairs, adds)
        if not self.strong:
            found += async_losses(pairs, adds, ob.skew_margin_ns(history))[0]
        if self.strong:
            found += stale_set_anomalies(pairs, adds, expected=False)
            found += lost_add_anomalies(pairs, adds, expected=False)
            found += ec_monotonic_anomalies(pairs)
        summary = final_summary(pairs, adds)
        reads = sum(1 for _ in _ok_reads(pairs))
        return ob.result(found, judged=reads > 0, reads=reads, final=summary)
