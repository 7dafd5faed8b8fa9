"""The set-full checker: per element and per region, was it lost, stale, or never read --
and, for free, how long replication took between every ordered pair of regions.

This is Jepsen's `jepsen.checker/set-full` carried over to regions. There, every element
added to a set has a *known* time (its add was acknowledged, or a read first showed it)
and is then *stable* (every read begun after it was known saw it), *stale* (some read
begun after it was known missed it, but later reads saw it: the gap is its staleness),
*lost* (known, yet the last read lacks it) or *never read* (no read began after it was
known). The set-full workload (workloads/set_full.py) makes every element its own item,
written once with PutItem in one region and read repeatedly, by scans of the table, in
every region with SC and EC reads; so the same questions are asked per region, and the
answer for a region other than the writing one is a replication fact.

What is a violation, by SEMANTICS.md ID:
- both modes: a read holds an element no add attempted, or one whose every add failed
  ("never-added", "failed-write-visible": Jepsen's :fail means it did not happen).
- async (MREC): A01 an SC read in the writing region begun after the add was acknowledged
  holds it ("read-your-writes"); A05 once a read in a region showed an element, every read
  of the same kind (SC or EC) there begun after that read completed holds it
  ("non-monotonic-read"); A08/A09 after the final heal every region's final reads hold
  every known element ("lost-add"). A03 remote staleness (and G2 an EC read's, even in
  the writing region) is allowed: reported as expected "stale-read", with its length.
- MRSC: M06 every SC read, in any region, begun after an add was acknowledged anywhere
  holds it ("stale-read", a violation here); M15 the final reads everywhere hold every
  known element ("lost-add"); reads never go back in time ("non-monotonic-read", M06 for
  SC; EC reads never going back is the EC promise this project judges, checkers/set.py).
  M07 EC staleness is allowed and reported.

Deletes (issue 21): the workload deletes some acknowledged elements, each once, in the
region that added it, where the delete is stamped above the add (so by last-writer-wins
it wins everywhere, A06). A read that may have followed a delete (one that ended after
the delete was invoked) may lack the element: it is not lost, stale or vanished (nor is an
expiring element, whose add carries `ttl`, any time after its add began: the TTL sweeper
deletes it, emulator/ttl.py; convergence judges where it ends; unless its expiry was
extended with an acknowledged `extend`, which shows that no TTL delete came before it,
and none may after, A12). What is
a violation ("resurrected", A06/A12; M06): an element shown again in a region after a
read there of the same kind lacked it that had itself followed a read holding it (the
region's copy went present, deleted, present: the versions only move forward, A05); an
SC read begun after the delete was acknowledged holding it, in the deleting region
(async A01, read-your-writes) or anywhere (MRSC M06, stale-read); a final SC read begun
after the acknowledged delete holding it (the heal must bring the delete everywhere).

Replication lag (`lag_check`): for an element acknowledged in region A at time `ack` and
first seen in region B by the read R1, the element became visible in B after the previous
read R0 of the same kind there began (R0 missed it) and before R1 completed (R1 saw it),
so its lag lies in `[max(R0.start, add.start) - ack, R1.end - ack]`; the estimate is the
middle of that interval. Async uses SC reads (B's leader copy: where replicated writes
land). MRSC uses EC reads (B's local copy): an SC read there fences and so waits for B to
apply everything acknowledged before it, which measures the read, not the replication.
A negative lag is real: under MRSC the journal leader's region may apply a write before
the writing region's client hears its acknowledgement. The bounds' width is the read
spacing in B, so the figures are as sharp as the read rate makes them. Per ordered pair
the result gives the quantiles of the lower bound, the estimate and the upper bound, and
(sorted, thinned to at most `LAG_SAMPLES_MAX`) the estimates for the report's plot.

Cost: one pass over the reads per region and kind with set operations done in C, plus a
binary search per (element, region, kind): linear in the total size of the reads.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from checkers import observe as ob
from checkers import set as set_checks
from checkers.observe import Pair
from results.history import FAIL, OK

SC, EC = "sc", "ec"
LAG_SAMPLES_MAX = 2000
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
MS = 1_000_000


@dataclass
class Stream:
    """One region's reads of one kind (SC or EC), in order of start, and for each element
    the first of them that held it."""

    reads: list[Pair]
    present: list[frozenset]
    starts: list[int] = field(init=False)
    first: dict[Any, int] = field(init=False)  # element -> index of the first read holding it
    _gaps: dict[Any, list[int]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.starts = [p.start for p in self.reads]
        self.first = {}
        seen: set = set()
        for i, els in enumerate(self.present):
            new = els - seen
            if new:
                seen |= new
                for e in new:
                    self.first[e] = i

    def misses_after(self, t: int, e: Any, *, final: bool = False) -> list[int]:
        """Indices of reads begun after `t` and before the first read holding `e` (so
        missing it); final reads only when `final`."""
        lo = bisect.bisect_right(self.starts, t)
        hi = self.first.get(e, len(self.reads))
        return [i for i in range(lo, hi) if final or not ob.is_final(self.reads[i])]

    def all_misses_after(self, t: int, e: Any) -> list[int]:
        """Indices of every non-final read begun after `t` that lacks `e`: those before
        the first read holding it and those after it that no longer hold it (a read
        begun later may miss what an earlier-begun, overlapping read showed). The
        promises that bind every SC read begun after the acknowledgement (A01, M06)
        judge all of them, not only the first gap."""
        lo = bisect.bisect_right(self.starts, t)
        later = [i for i in self.gaps().get(e, ()) if i >= lo
                 and not ob.is_final(self.reads[i])]
        return self.misses_after(t, e) + later

    def gaps(self) -> dict[Any, list[int]]:
        """element -> indices of the reads after its first holding read that lack it;
        computed once, on demand (one set difference per read: linear in the reads'
        size)."""
        if self._gaps is None:
            gaps: dict[Any, list[int]] = defaultdict(list)
            seen: set = set()
            for i, els in enumerate(self.present):
                for e in seen - els:
                    gaps[e].append(i)
                seen |= els
            self._gaps = dict(gaps)
        return self._gaps


@dataclass
class Analysis:
    """What the set-full and replication-lag checkers judge, computed once per history."""

    adds: set_checks.KeyAdds
    origin: dict[Any, str | None]        # element -> region of its first add
    known: dict[Any, int]                 # element -> known time (ack, or first read's end)
    streams: dict[tuple[str, str], Stream]
    finals: dict[str, list[Pair]]         # region -> ok final SC reads
    regions: list[str]
    pairs: list[Pair]
    reads: int
    deleted_from: dict[Any, int] = field(default_factory=dict)   # e -> first delete's start
    delete_acked: dict[Any, Pair] = field(default_factory=dict)  # e -> first ok delete

    def may_be_deleted(self, e: Any, read: Pair) -> bool:
        """Whether a delete of `e` may have taken effect before `read` ended."""
        t = self.deleted_from.get(e)
        return t is not None and t < read.end


def _region_list(test: Any, pairs: Iterable[Pair]) -> list[str]:
    given = test.get("regions") if isinstance(test, Mapping) else getattr(test, "regions", None)
    regions = list(given or [])
    for p in pairs:
        r = ob.region_of(p)
        if r is not None and r not in regions:
            regions.append(r)
    return regions


_last: tuple[Sequence, int, Analysis] | None = None


def analyse(test: Any, history: Sequence) -> Analysis:
    """The per-element, per-region view of a set-full history (cached for the last
    history, which both checkers of a run are handed)."""
    global _last
    if _last is not None and _last[0] is history and _last[1] == len(history):
        return _last[2]
    pairs = ob.client_pairs(history)
    adds = set_checks.KeyAdds([p for p in pairs if p.invoke.f == "add"])
    origin: dict[Any, str | None] = {}
    for e, tries in adds.attempts.items():
        origin[e] = ob.region_of(min(tries, key=lambda p: p.start))
    known: dict[Any, int] = dict(adds.ack_end)
    ok_reads = sorted((p for p in pairs if p.type == OK and p.invoke.f == "read"),
                      key=lambda p: p.start)
    grouped: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    finals: dict[str, list[Pair]] = defaultdict(list)
    present_of: dict[int, frozenset] = {}
    for p in ok_reads:
        els = set_checks.elements(ob.read_value(p))
        present_of[id(p)] = els
        region = ob.region_of(p)
        grouped[(region, SC if ob.is_sc(p) else EC)].append(p)
        if ob.is_sc(p) and ob.is_final(p):
            finals[region].append(p)
        for e in els:  # an element no add acknowledged is known once a read has shown it
            if e not in adds.ack_end and (e not in known or p.end < known[e]):
                known[e] = p.end
    streams = {g: Stream(ps, [present_of[id(p)] for p in ps]) for g, ps in grouped.items()}
    deleted_from: dict[Any, int] = {}
    delete_acked: dict[Any, Pair] = {}
    # A12: TTL deletes only an item whose expiry has passed when the delete is made. An
    # extension (a conditional update of the expiry, made only while the item exists) that
    # was acknowledged found the element still there and moved its expiry into the future:
    # no TTL delete came before it, and none may come after.
    extended = {p.invoke.value for p in pairs if p.invoke.f == "extend" and p.type == OK}
    for p in pairs:
        if p.invoke.f == "add" and p.invoke.extra.get("ttl") and p.type != FAIL:
            # an expiring element (TTL): the sweeper may delete it any time after its add
            e = p.invoke.value
            if e in extended:
                continue
            deleted_from[e] = min(deleted_from.get(e, p.start), p.start)
            continue
        if p.invoke.f != "delete" or p.type == FAIL:
            continue
        e = p.invoke.value
        deleted_from[e] = min(deleted_from.get(e, p.start), p.start)
        if p.type == OK and (e not in delete_acked or p.end < delete_acked[e].end):
            delete_acked[e] = p
    result = Analysis(adds=adds, origin=origin, known=known, streams=streams,
                      finals=dict(finals), regions=_region_list(test, pairs), pairs=pairs,
                      reads=len(ok_reads), deleted_from=deleted_from,
                      delete_acked=delete_acked)
    _last = (history, len(history), result)
    return result


def _mode(test: Any, default: str) -> str:
    m = test.get("mode") if isinstance(test, Mapping) else getattr(test, "mode", None)
    return m or default


# --- anomalies -----------------------------------------------------------------------

def _lost(a: Analysis) -> tuple[list[dict], dict[tuple, bool]]:
    """Known elements missing from a final SC read begun after they were known (A08,
    A09, M15): one anomaly per (element, region). Returns them and {(e, region): True}."""
    out, lost = [], {}
    for region, finals in sorted(a.finals.items()):
        sc = a.streams.get((region, SC))
        held = [(p, set_checks.elements(ob.read_value(p))) for p in finals]
        for e, t in a.known.items():
            missing = [p for p, els in held if p.start > t and e not in els
                       and not a.may_be_deleted(e, p)]
            if not missing:
                continue
            lost[(e, region)] = True
            p = missing[0]
            first = sc.first.get(e) if sc is not None else None
            seen = sc.reads[first] if first is not None else None
            how = ("vanished" if seen is not None and seen.start < p.start
                   else "never-visible")
            had = (f"; it had been visible there to op {seen.invoke.index} at "
                   f"{ob.secs(seen.end)}" if how == "vanished" else
                   "; no SC read there ever showed it")
            out.append(ob.anomaly(
                "lost-add", expected=False, key=p.invoke.key, region=region,
                ops=[p.invoke.index] + _add_ops(a, e), element=e, how=how,
                explanation=(f"element {e} ({_known_words(a, e)}) is missing from the "
                             f"final SC read in {region} (op {p.invoke.index}, begun at "
                             f"{ob.secs(p.start)}){had}")))
    return out, lost


def _add_ops(a: Analysis, e: Any) -> list[int]:
    return [t.invoke.index for t in a.adds.attempts.get(e, [])][:3]


def _known_words(a: Analysis, e: Any) -> str:
    if e in a.adds.ack_end:
        return f"acknowledged in {a.origin.get(e)} at {ob.secs(a.adds.ack_end[e])}"
    return f"added in {a.origin.get(e)}, outcome unknown, first seen at {ob.secs(a.known[e])}"


def _vanished(a: Analysis) -> list[dict]:
    """Reads that no longer hold an element an earlier read of the same kind in the same
    region showed (A05; M06): one anomaly per (element, region, kind)."""
    out = []
    for (region, kind), s in sorted(a.streams.items()):
        seen_by: dict[Any, Pair] = {}
        seen: set = set()
        present = {id(p): els for p, els in zip(s.reads, s.present)}
        reported: set = set()
        for p, done in ob.completed_before_each(s.reads):
            for q in done:
                new = present[id(q)] - seen
                if new:
                    seen |= new
                    for e in new:
                        seen_by[e] = q
            gone = {e for e in seen - present[id(p)] if not a.may_be_deleted(e, p)}
            for e in sorted(gone - reported, key=repr):
                reported.add(e)
                q = seen_by[e]
                name = "SC" if kind == SC else "EC"
                out.append(ob.anomaly(
                    "non-monotonic-read", expected=False, key=p.invoke.key, region=region,
                    ops=[q.invoke.index, p.invoke.index], element=e, stream=name,
                    explanation=(f"{name} reads in {region} went back in time: op "
                                 f"{q.invoke.index} showed element {e} (done at "
                                 f"{ob.secs(q.end)}), op {p.invoke.index} (begun at "
                                 f"{ob.secs(p.start)}) no longer holds it")))
    return out


def _staleness(a: Analysis, strong: bool, lost: Mapping[tuple, bool]) -> tuple[list[dict],
                                                                                  dict]:
    """Per (element, region): reads begun after the element was known that missed it.

    Violations: async A01 SC reads in the writing region after the acknowledgement;
    MRSC M06 SC reads anywhere after the acknowledgement. Everything else is expected
    staleness (A03, G2, M07), one "stale-read" per (element, region) with its length.
    Also returns the per-region outcome counts (stable / stale / lost / never read) and
    the worst stale examples."""
    out: list[dict] = []
    counts = {r: {"stable": 0, "stale": 0, "lost": 0, "never_read": 0} for r in a.regions}
    worst: list[tuple[int, Any, str]] = []
    for e, t in a.known.items():
        acked = a.adds.ack_end.get(e)
        for region in a.regions:
            row = counts.setdefault(region, {"stable": 0, "stale": 0, "lost": 0,
                                             "never_read": 0})
            if lost.get((e, region)):
                row["lost"] += 1
                continue
            streams = {k: a.streams.get((region, k)) for k in (SC, EC)}
            if not any(s is not None and bisect.bisect_right(s.starts, t) < len(s.reads)
                       for s in streams.values()):
                row["never_read"] += 1
                continue
            misses = {k: ([i for i in s.misses_after(t, e)
                           if not a.may_be_deleted(e, s.reads[i])] if s is not None else [])
                      for k, s in streams.items()}
            judged = acked is not None and (strong or region == a.origin.get(e))
            if judged and streams[SC] is not None:
                # A01 / M06 bind every SC read begun after the acknowledgement, also one
                # begun after an earlier-begun read (overlapping it) had shown the element
                misses[SC] = [i for i in streams[SC].all_misses_after(t, e)
                              if not a.may_be_deleted(e, streams[SC].reads[i])]
            if not misses[SC] and not misses[EC]:
                row["stable"] += 1
                continue
            row["stale"] += 1
            seen_at = [s.reads[s.first[e]].end for s in streams.values()
                       if s is not None and e in s.first]
            stale_ns = (min(seen_at) - t) if seen_at else None
            if stale_ns is not None:
                worst.append((stale_ns, e, region))
            if judged and misses[SC]:
                sc = streams[SC]
                p = sc.reads[misses[SC][0]]
                kind = "stale-read" if strong else "read-your-writes"
                rule = ("M06: an SC read reflects every write acknowledged anywhere before "
                        "it" if strong else "A01: an SC read in the writing region sees "
                        "the write at once")
                out.append(ob.anomaly(
                    kind, expected=False, key=p.invoke.key, region=region,
                    ops=[p.invoke.index] + _add_ops(a, e), element=e,
                    missed_by=len(misses[SC]),
                    explanation=(f"SC read in {region} at {ob.secs(p.start)} (op "
                                 f"{p.invoke.index}) lacks element {e}, "
                                 f"{_known_words(a, e)} before it began"
                                 f" ({len(misses[SC])} SC read(s) there missed it; {rule})")))
                continue
            n = len(misses[SC]) + len(misses[EC])
            first_miss = min((streams[k].reads[i] for k in (SC, EC) for i in misses[k]),
                             key=lambda p: p.start)
            took = (f"first seen there {stale_ns / MS:.0f} ms after it was known"
                    if stale_ns is not None else "never seen there")
            out.append(ob.anomaly(
                "stale-read", expected=True, key=first_miss.invoke.key, region=region,
                ops=[first_miss.invoke.index] + _add_ops(a, e), element=e, missed_by=n,
                stale_ms=None if stale_ns is None else round(stale_ns / MS, 3),
                explanation=(f"element {e} ({_known_words(a, e)}) was missed by {n} "
                             f"read(s) in {region} begun after that, first op "
                             f"{first_miss.invoke.index} at {ob.secs(first_miss.start)}; "
                             f"{took} (allowed: A03, G2, M07)")))
    worst.sort(key=lambda w: (-w[0], repr(w[1])))
    worst_rows = [{"element": e, "region": r, "stale_ms": round(ns / MS, 3)}
                  for ns, e, r in worst[:10]]
    return out, {"regions": counts, "worst_stale": worst_rows}


def _resurrected(a: Analysis, strong: bool) -> list[dict]:
    """Deleted elements shown again (module paragraph, "Deletes"): one anomaly per
    (element, region) at most."""
    out: list[dict] = []
    done: set = set()

    def report(kind: str, e: Any, region: str, ops: list[int], text: str) -> None:
        if (e, region) not in done:
            done.add((e, region))
            out.append(ob.anomaly(kind, expected=False, key="set-full", region=region,
                                  ops=ops, element=e, explanation=text))
    for e in sorted(a.deleted_from, key=repr):
        for (region, kind), s in sorted(a.streams.items()):
            # present, then absent, then present again, each read ended before the next
            # began: the region's copy went back from the delete's version to the add's
            held_end = absent_end = None
            held_p = absent_p = None
            for p, els in zip(s.reads, s.present):
                if e in els:
                    if absent_end is not None and p.start > absent_end:
                        name = "SC" if kind == SC else "EC"
                        report("resurrected", e, region,
                               [held_p.invoke.index, absent_p.invoke.index, p.invoke.index],
                               f"element {e} was deleted, and {name} reads in {region} "
                               f"showed it (op {held_p.invoke.index}), then lacked it (op "
                               f"{absent_p.invoke.index}, done at {ob.secs(absent_end)}), "
                               f"then showed it again (op {p.invoke.index}, begun at "
                               f"{ob.secs(p.start)}): the delete was undone (A05, A06, A12)")
                        break
                    if held_end is None or p.end < held_end:
                        held_end, held_p = p.end, p
                elif held_end is not None and p.start > held_end and (
                        absent_end is None or p.end < absent_end):
                    absent_end, absent_p = p.end, p
        d = a.delete_acked.get(e)
        if d is None:
            continue
        where = ob.region_of(d)
        for (region, kind), s in sorted(a.streams.items()):
            if kind != SC or not (strong or region == where):
                continue
            i = bisect.bisect_right(s.starts, d.end)
            for p, els in zip(s.reads[i:], s.present[i:]):
                if e in els:
                    final = ob.is_final(p)
                    rule = ("the final reads after the heal must all lack it (A06, A12)"
                            if final else "M06" if strong else "A01")
                    report("resurrected" if final else "stale-read" if strong
                           else "read-your-writes", e, region,
                           [p.invoke.index, d.invoke.index],
                           f"SC read in {region} at {ob.secs(p.start)} (op "
                           f"{p.invoke.index}) holds element {e}, whose delete was "
                           f"acknowledged in {where} at {ob.secs(d.end)} (op "
                           f"{d.invoke.index}) before it began; {rule}")
                    break
        for region, finals in sorted(a.finals.items()):
            for p in finals:
                if p.start > d.end and e in set_checks.elements(ob.read_value(p)):
                    report("resurrected", e, region, [p.invoke.index, d.invoke.index],
                           f"final SC read in {region} (op {p.invoke.index}, begun at "
                           f"{ob.secs(p.start)}) holds element {e}, whose delete was "
                           f"acknowledged in {where} at {ob.secs(d.end)} (op "
                           f"{d.invoke.index}): after the heal the delete must have "
                           f"reached every region (A06, A12)")
                    break
    return out


_last_judged: tuple[Sequence, int, bool, tuple[list[dict], dict, int]] | None = None


def judge(test: Any, history: Sequence, strong: bool) -> tuple[list[dict], dict, int]:
    """Every anomaly of a set-full history (violations and allowed staleness alike), the
    per-element summary, and the number of ok reads; cached for the last history."""
    global _last_judged
    last = _last_judged
    if last is not None and last[0] is history and last[1] == len(history) \
            and last[2] == strong:
        return last[3]
    a = analyse(test, history)
    found = set_checks.unexpected_anomalies(a.pairs, set_checks.adds_by_key(a.pairs))
    lost, lost_at = _lost(a)
    found += lost
    found += _vanished(a)
    found += _resurrected(a, strong)
    stale, summary = _staleness(a, strong, lost_at)
    found += stale
    lost_elements = sorted({e for e, _ in lost_at}, key=repr)
    summary = {"elements": {"attempted": len(a.adds.attempts),
                            "acknowledged": len(a.adds.ack_end), "known": len(a.known),
                            "lost": len(lost_elements)},
               "lost": lost_elements[:50], "final_regions": sorted(a.finals), **summary}
    out = (found, summary, a.reads)
    _last_judged = (history, len(history), strong, out)
    return out


class SetFullChecker:
    """The set-full promises of `mode` ("async" or "strong"); see the module paragraph.

    With `allowed=True` it is the informational view: only the staleness the mode allows
    (reported as expected "stale-read"s, never a failure). The two views are separate
    results because a result's anomalies of one kind are read as all expected or all
    violations (suite.core.anomaly_counts), and "stale-read" is both here: a violation
    for an MRSC SC read, allowed for a remote async read."""

    def __init__(self, mode: str, *, allowed: bool = False):
        self.mode, self.allowed = mode, allowed

    def check(self, test, history, opts) -> dict:
        strong = _mode(test, self.mode) == "strong"
        found, summary, reads = judge(test, history, strong)
        if self.allowed:
            stale = [x for x in found if x["expected"]]
            return ob.result(stale, judged=reads > 0, reads=reads,
                             stale_elements=len(stale),
                             worst_stale=summary["worst_stale"])
        return ob.result([x for x in found if not x["expected"]], judged=reads > 0,
                         reads=reads, **summary)


# --- replication lag -----------------------------------------------------------------

def _quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    v = sorted(values)
    return {name: round(v[min(len(v) - 1, int(q * len(v)))] if q < 1 else v[-1], 3)
            for name, q in QUANTILES}


def _thin(values: Sequence[float], n: int) -> list[float]:
    v = sorted(values)
    if len(v) <= n:
        return [round(x, 3) for x in v]
    step = (len(v) - 1) / (n - 1)
    return [round(v[round(i * step)], 3) for i in range(n)]


def lag_check(test, history, opts) -> dict:
    """Replication lag per ordered region pair, from the SC reads (async) or the EC reads
    (MRSC; module paragraph). Informational: always valid; pairs with no element seen
    have count 0."""
    a = analyse(test, history)
    kind = EC if _mode(test, "async") == "strong" else SC
    samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    never: dict[tuple[str, str], int] = defaultdict(int)
    final_only: dict[tuple[str, str], int] = defaultdict(int)
    for e, ack in a.adds.ack_end.items():
        src = a.origin.get(e)
        add_start = min(p.start for p in a.adds.attempts[e])
        for dst in a.regions:
            if dst == src:
                continue
            s = a.streams.get((dst, kind))
            i = s.first.get(e) if s is not None else None
            if i is None:
                never[(src, dst)] += 1
                continue
            r1 = s.reads[i]
            if ob.is_final(r1):  # not read in B between the ack and the final phase: the
                final_only[(src, dst)] += 1  # bounds would span the final wait, not the lag
                continue
            lo_t = max(s.reads[i - 1].start, add_start) if i > 0 else add_start
            samples[(src, dst)].append(((lo_t - ack) / MS, (r1.end - ack) / MS))
    pairs_out: dict[str, dict] = {}
    for src in a.regions:
        for dst in a.regions:
            if src == dst:
                continue
            got = samples.get((src, dst), [])
            mids = [(lo + hi) / 2 for lo, hi in got]
            pairs_out[f"{src}->{dst}"] = {
                "from": src, "to": dst, "count": len(got),
                "never_seen": never.get((src, dst), 0),
                "first_seen_by_final_read": final_only.get((src, dst), 0),
                "lower_ms": _quantiles([lo for lo, _ in got]),
                "estimate_ms": _quantiles(mids),
                "upper_ms": _quantiles([hi for _, hi in got]),
                # how sharp the figures are: the width of the bounds, set by the read rate
                "resolution_ms": _quantiles([hi - lo for lo, hi in got]).get("p50"),
                "samples_ms": _thin(mids, LAG_SAMPLES_MAX)}
    name = "SC" if kind == SC else "EC"
    return {"valid": True, "pairs": pairs_out, "unit": "ms", "reads": name,
            "method": (f"per element acknowledged in region A: from its acknowledgement to "
                       f"its first appearance in an {name} read in region B, bounded by "
                       f"that read's end and the previous {name} read's start there; the "
                       f"estimate is the middle")}


def lag_summary(result: Mapping[str, Any]) -> list[str]:
    """Lines for the console: estimate quantiles per ordered pair."""
    lines = []
    for name, row in sorted((result.get("pairs") or {}).items()):
        q = row.get("estimate_ms") or {}
        if not row.get("count"):
            lines.append(f"  {name:<28} no element seen")
            continue
        lines.append(f"  {name:<28} n={row['count']:<5} p50={q['p50']:.0f} ms  "
                     f"p90={q['p90']:.0f} ms  max={q['max']:.0f} ms")
    return lines


def checkers_for(mode: str) -> dict[str, Any]:
    """The set-full workload's checkers in `mode`: its promises, the replication lag
    (informational), convergence of the final reads, availability and latency."""
    from checkers.core import FnChecker
    from checkers.modes import observed_checkers
    tail = observed_checkers(mode, set_checks.canon)
    return {"set-full": SetFullChecker(mode),
            "stale-reads": SetFullChecker(mode, allowed=True),
            "replication-lag": FnChecker(lag_check, "replication-lag"), **tail}
