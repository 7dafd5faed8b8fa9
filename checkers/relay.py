"""The A10 (no relay) check: did a write reach a region through a third one?

Async replicators ship a region's own writes over the direct link only (SEMANTICS.md
A10), so while the link A-B is cut, a write that A accepted after the cut began cannot be
in B until the link heals. A relayed write breaks no consistency promise -- last writer
wins keeps its stamp wherever it travels -- so the consistency checkers rightly say
nothing; it breaks the documented behaviour A10 (what `conform` calls a FAIL of A10),
so the async register's `no-relay` checker (checkers/modes.py) judges it here, beside
the evidence that A10 held (checkers/anomalies.py, "no-relay"), and `gtcheck validate`
uses the same probe to judge the `relay` bug switch's recipe.

`relayed_writes(history)` returns one finding per read that shows it: a successful read
in B, completed before the cut A-B ended, of a value whose only write was made in A and
invoked after the cut began (a `cut-oneway` A -> B forbids that direction only) (register values are unique per run, so a value names its
write; absent, which every delete writes and every key starts as, names none). The cut
begins when its nemesis operation completed ok and ends at the heal's invocation
(`results.history.fault_periods`), so only a cut certainly in force counts. Pure
function of the history.
"""

from __future__ import annotations

import bisect
from typing import Any, Sequence

from checkers import observe as ob
from checkers.core import not_judged
from checkers.observe import MAX_EXAMPLES
from results.history import OK, Op, fault_periods


def _pair_regions(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "a" in value and "b" in value:
        return value["a"], value["b"]
    return None


def _cut_directions(history: Sequence[Op]) -> list[tuple[int, int | None, str, str]]:
    """(start, end, from, to) per direction cut: both of a `cut`, the one of a
    `cut-oneway` (A -> B only: A's writes cannot reach B but through a third region)."""
    out = []
    for fp in fault_periods(history):
        pair_ = _pair_regions(fp.value)
        if pair_ and fp.f in ("cut", "cut-oneway"):
            a, b = pair_
            out.append((fp.start, fp.end, a, b))
            if fp.f == "cut":
                out.append((fp.start, fp.end, b, a))
    return out


def _region(p) -> str | None:
    return p.invoke.region or (p.complete.region if p.complete is not None else None)


def relayed_writes(history: Sequence[Op]) -> list[dict]:
    """Reads that show a write crossing a cut link (module docstring), as anomalies."""
    cuts = _cut_directions(history)
    if not cuts:
        return []
    pairs = ob.client_pairs(history)  # the composed check's pairs, made once
    writes: dict[Any, list] = {}
    for p in pairs:
        if p.invoke.f in ("write", "cas") and p.type == OK:
            value = p.invoke.value[1] if p.invoke.f == "cas" else p.invoke.value
            if value is not None:   # absent: written by every delete, and the start
                writes.setdefault((p.invoke.key, value), []).append(p)
    found = []
    for p in pairs:
        if p.invoke.f != "read" or p.type != OK or p.complete is None:
            continue
        ws = writes.get((p.invoke.key, p.complete.value))
        if not ws or len(ws) != 1:
            continue
        w = ws[0]
        for start, end, src, dst in cuts:
            if (_region(w) == src and _region(p) == dst and w.invoke.time >= start
                    and (end is None or p.complete.time < end)):
                found.append({
                    "kind": "relayed-write", "expected": False, "key": p.invoke.key,
                    "region": dst, "ops": [w.invoke.index, p.invoke.index],
                    "explanation": (
                        f"{dst} read {p.complete.value!r} of {p.invoke.key} (op "
                        f"{p.invoke.index}), written in {src} (op {w.invoke.index}) "
                        f"after the link {src}-{dst} was cut and before it healed: "
                        "the write was relayed through a third region (A10)")})
    return found


class NoRelayChecker:
    """A10 judged: the evidence that it held (the `inner` checker's "no-relay" reads, an
    expected anomaly) plus a violation, kind "relayed-write", for each read that shows a
    write crossed a cut link (`relayed_writes`). `cut_reads` counts the reads made at an
    end of a cut link during the cut; `relay_chances` those of them that could have
    shown a relay (of a key written at the other end after the cut began, before the
    read ended). Invalid when a write was relayed; otherwise the evidence checker's
    verdict when there was a chance, and "not judged" (checkers.core.not_judged: left
    out of the run's verdict, never evidence) when no link was cut -- A10 speaks only of
    a cut link -- or no read had a chance to show a relay."""

    def __init__(self, inner: Any):
        self.inner = inner

    def check(self, test, history, opts) -> dict:
        if not _cut_directions(history):
            return not_judged("no link was cut in this run (A10 speaks of a cut link)",
                              anomaly_counts={}, anomalies=[], cut_reads=0,
                              relay_chances=0)
        res = dict(self.inner.check(test, history, opts))
        relayed = relayed_writes(history)
        counts = dict(res.get("anomaly_counts") or {})
        chances = relay_chances(history)
        if relayed:
            counts["relayed-write"] = len(relayed)
            res["valid"] = False
        elif chances == 0:
            res = {**res, **not_judged(
                "no read at an end of a cut link, during the cut, of a key written at "
                "the other end after the cut began: no read could have shown a relay")}
        res["anomaly_counts"] = counts
        res["anomalies"] = list(res.get("anomalies") or []) + relayed[:MAX_EXAMPLES]
        res["cut_reads"] = cut_reads(history)
        res["relay_chances"] = chances
        return res


def relay_chances(history: Sequence[Op]) -> int:
    """Successful reads in a region a cut direction leads to, completed during the cut,
    of a key that an ok write at the direction's source, invoked after the cut began,
    had written before the read completed: the reads a relay would have shown."""
    cuts = _cut_directions(history)
    if not cuts:
        return 0
    pairs = ob.client_pairs(history)
    written: dict[tuple, list[int]] = {}  # (key, region) -> ok writes' invocation times
    for p in pairs:
        if p.invoke.f in ("write", "cas") and p.type == OK:
            written.setdefault((p.invoke.key, _region(p)), []).append(p.invoke.time)
    for times in written.values():
        times.sort()

    def written_between(key: Any, region: str, t0: int, t1: int) -> bool:
        times = written.get((key, region), ())
        i = bisect.bisect_left(times, t0)
        return i < len(times) and times[i] <= t1

    n = 0
    for p in pairs:
        if p.invoke.f != "read" or p.type != OK or p.complete is None:
            continue
        done = p.complete.time
        if any(_region(p) == dst and done >= start and (end is None or done < end)
               and written_between(p.invoke.key, src, start, done)
               for start, end, src, dst in cuts):
            n += 1
    return n


def cut_reads(history: Sequence[Op]) -> int:
    """Successful reads in a region a cut direction leads to, completed during the cut."""
    cuts = [(start, end, {dst}) for start, end, _src, dst in _cut_directions(history)]
    if not cuts:
        return 0
    n = 0
    for p in ob.client_pairs(history):
        if p.invoke.f == "read" and p.type == OK and p.complete is not None and any(
                _region(p) in ends and p.complete.time >= start
                and (end is None or p.complete.time < end) for start, end, ends in cuts):
            n += 1
    return n
