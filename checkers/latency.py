"""Latency quantiles per region and operation, overall and per fault period.

MRSC makes latency part of the story (M06: an SC read costs about a write; M11/M12: losing
the nearest region or a link raises write latency; M16: conflicted writes retried take
visibly longer), so the report shows, for every region and operation, the count and the
p50 / p90 / p99 / max of successful operations (completion minus invocation), over the
whole run and within each segment of the timeline cut at fault boundaries (the same
segments as `checkers.availability`). Reads are split into "read-sc" and "read-ec"; other
operations keep their `f`. Failed and crashed operations have no meaningful latency and
are left out (availability counts them). Nearest-rank quantiles; sorting makes it n log n.
Latency is information: the result is always valid.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Sequence

from checkers import observe as ob
from checkers.availability import segment_finder, segments
from checkers.observe import Pair
from results.history import OK

QUANTILES = (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99))


def op_label(p: Pair) -> str:
    if p.invoke.f == "read":
        return "read-sc" if ob.is_sc(p) else "read-ec"
    return p.invoke.f


def quantile(sorted_ms: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of a non-empty sorted sequence."""
    return sorted_ms[min(len(sorted_ms) - 1, max(0, math.ceil(q * len(sorted_ms)) - 1))]


def summarize(latencies_ms: list[float]) -> dict:
    xs = sorted(latencies_ms)
    out = {"count": len(xs)}
    for name, q in QUANTILES:
        out[name] = round(quantile(xs, q), 3)
    out["max_ms"] = round(xs[-1], 3)
    return out


def _table(groups: dict) -> dict:
    out: dict[str, dict] = {}
    for (region, label), xs in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        out.setdefault(region, {})[label] = summarize(xs)
    return out


def latency_check(test, history, opts) -> dict:
    segs = segments(history)
    overall: dict[tuple, list[float]] = defaultdict(list)
    per_seg: list[dict[tuple, list[float]]] = [defaultdict(list) for _ in segs]
    segment_of = segment_finder(segs)
    for p in ob.client_pairs(history):
        if p.type != OK:
            continue
        g = (ob.region_of(p), op_label(p))
        ms = (p.end - p.start) / 1e6
        overall[g].append(ms)
        per_seg[segment_of(p.start)][g].append(ms)
    by_period = [{"start_s": round(s.start / 1e9, 3), "end_s": round(s.end / 1e9, 3),
                  "fault": s.fault, "quantiles": _table(per_seg[i])}
                 for i, s in enumerate(segs)]
    return {"valid": True, "quantiles": _table(overall), "by_period": by_period}
