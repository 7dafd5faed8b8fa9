"""Set checks: adds of unique elements to per-key sets (UpdateItem ADD on a string set).

Every read must hold only elements some add attempted, and never an element whose every
add definitely failed (both modes). Under MRSC an SC read holds every element whose add
was acknowledged before the read began, the final reads in every region hold every
acknowledged add ("no acknowledged add lost"), and EC reads never lose an element an
earlier EC read in the same region saw (sets only grow). Under async last-writer-wins an
add writes the whole item as a new version, so concurrent adds in other regions overwrite
each other: missing elements are stale reads and lost adds, expected and reported by
`checkers.anomalies`, never failures. The final-read summary follows Jepsen's set checker
(ok, lost, recovered, unexpected). Each read costs its own size plus a binary search, so
the whole check is linear in the history's size plus n log n.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from checkers import observe as ob
from checkers.observe import Pair
from results.history import FAIL, INFO, OK


def elements(v: Any) -> frozenset:
    """A set read's elements (no item reads as the empty set). Built in C when the
    elements are hashable already (strings, numbers), the usual case."""
    if v is None:
        return frozenset()
    if isinstance(v, list | tuple | set | frozenset):
        try:
            return frozenset(v)
        except TypeError:
            return frozenset(ob.freeze(x) for x in v)
    raise ValueError(f"set read value is not a collection: {v!r}")


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



def adds_by_key(pairs: Sequence[Pair]) -> dict[Any, KeyAdds]:
    groups: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.invoke.f == "add":
            groups[p.invoke.key].append(p)
    keys = set(groups) | {p.invoke.key for p in pairs if p.invoke.f == "read"}
    return {k: KeyAdds(groups.get(k, [])) for k in keys}


def _ok_reads(pairs: Sequence[Pair]):
    return (p for p in pairs if p.type == OK and p.invoke.f == "read")


def unexpected_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds]) -> list[dict]:
    """Elements never added, or added only by adds that failed (both modes)."""
    out = []
    for p in _ok_reads(pairs):
        key, region = p.invoke.key, ob.region_of(p)
        ka = adds[key]
        present = elements(ob.read_value(p))
        if present <= ka.succeeded_maybe:  # the common case, checked in C
            continue
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


def stale_set_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds], *,
                        expected: bool, include_final: bool = False) -> list[dict]:
    """SC reads missing an element whose add was acknowledged before the read began."""
    reads: dict[Any, list[Pair]] = defaultdict(list)
    for p in _ok_reads(pairs):
        if ob.is_sc(p) and (include_final or not ob.is_final(p)):
            reads[p.invoke.key].append(p)
    out = []
    for key, ps in reads.items():
        ka = adds[key]
        acked_before: set = set()  # grows as reads are visited in start order
        i = 0
        for p in sorted(ps, key=lambda p: p.start):
            while i < len(ka.acked) and ka.acked[i][1] < p.start:
                acked_before.add(ka.acked[i][0])
                i += 1
            present = elements(ob.read_value(p))
            if acked_before <= present:
                continue
            missing = acked_before - present
            example = max(missing, key=lambda e: ka.ack_end[e])
            region = ob.region_of(p)
            acked = min((t for t in ka.attempts[example] if t.type == OK),
                        key=lambda t: t.end)
            out.append(ob.anomaly(
                "stale-read", expected=expected, key=key, region=region,
                ops=[p.invoke.index, acked.invoke.index], missing=len(missing),
                explanation=(f"SC read of {key} in {region} at {ob.secs(p.start)} (op "
                             f"{p.invoke.index}) lacks {len(missing)} element(s) whose adds "
                             f"were acknowledged before it began, e.g. {ob.show(example)} (op "
                             f"{acked.invoke.index} in {ob.region_of(acked)}, acknowledged at "
                             f"{ob.secs(acked.end)})")))
    return out


def lost_add_anomalies(pairs: Sequence[Pair], adds: dict[Any, KeyAdds], *,
                       expected: bool) -> list[dict]:
    """Final reads (every region) missing an acknowledged add: one anomaly per key."""
    from checkers.async_props import final_reads
    out = []
    for key, per in final_reads(pairs).items():
        ka = adds[key]
        lost: dict[Any, list[str]] = defaultdict(list)
        for region, p in sorted(per.items()):
            for e in ka.ack_end.keys() - elements(ob.read_value(p)):
                lost[e].append(region)
        if not lost:
            continue
        example = next(iter(sorted(lost, key=lambda e: ka.ack_end[e])))
        out.append(ob.anomaly(
            "lost-add", expected=expected, key=key, region=None,
            ops=[p.invoke.index for p in per.values()], lost=len(lost),
            elements=sorted(lost, key=repr)[:20],
            explanation=(f"After the final heal {len(lost)} acknowledged add(s) to {key} are "
                         f"missing from the final reads, e.g. {ob.show(example)} "
                         f"(acknowledged at {ob.secs(ka.ack_end[example])}) is missing in "
                         f"{', '.join(lost[example])}")))
    return out


def ec_monotonic_anomalies(pairs: Sequence[Pair]) -> list[dict]:
    """MRSC: an EC read holds every element an earlier EC read in its region saw."""
    groups = ob.reads_by_region_and_key(p for p in _ok_reads(pairs) if not ob.is_sc(p))
    out = []
    for (region, key), reads in groups.items():
        seen: set = set()  # everything EC reads done before this one saw
        earlier: list[Pair] = []  # those reads, in order of end
        for p, done in ob.completed_before_each(reads):
            for q in done:
                seen |= elements(ob.read_value(q))
            earlier += done
            present = elements(ob.read_value(p))
            if not seen <= present:
                e = min(seen - present, key=repr)
                q = next(q for q in earlier if e in elements(ob.read_value(q)))
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
        pairs = ob.client_pairs(history)
        adds = adds_by_key(pairs)
        found = unexpected_anomalies(pairs, adds)
        if self.strong:
            found += stale_set_anomalies(pairs, adds, expected=False)
            found += lost_add_anomalies(pairs, adds, expected=False)
            found += ec_monotonic_anomalies(pairs)
        summary = final_summary(pairs, adds)
        reads = sum(1 for _ in _ok_reads(pairs))
        return ob.result(found, judged=reads > 0, reads=reads, final=summary)
