"""The report's replication-lag section: a plot and a table per ordered region pair.

The set-full workload's `replication-lag` checker (checkers/set_full.py) measures, for
every element acknowledged in region A, when the SC reads in region B first showed it.
This module turns that result into what the report shows: one cumulative distribution
curve per ordered pair (x: lag in ms, y: share of elements visible in B by then), drawn
as inline SVG so it needs no script and looks the same in every browser and in a
screenshot, and a table of the bounds' quantiles. It renders the checker's numbers and
computes nothing about the history.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from markupsafe import Markup, escape

CHECKER = "replication-lag"
WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 56, 250, 16, 44     # plot margins; the legend sits right
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def _nice_step(span: float, ticks: int = 6) -> float:
    raw = span / max(1, ticks)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _fmt(v: Any) -> str:
    return "" if v is None else (f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}")


def _at(samples: Sequence[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(q * len(samples)))]


def lag_svg(pairs: Mapping[str, Mapping[str, Any]], reads: str = "SC") -> str:
    """One ECDF polyline per ordered pair with samples. The x axis spans the bulk (from
    the lowest 1st percentile, or 0, to 2.5 times the largest 90th percentile): a few
    stalls of hundreds of ms would otherwise squash every curve into one line; the
    table beside the plot gives the maxima."""
    drawn = [(name, row) for name, row in sorted(pairs.items()) if row.get("samples_ms")]
    if not drawn:
        return ""
    lo = min(0.0, min(_at(row["samples_ms"], 0.01) for _, row in drawn))
    hi = max(_at(row["samples_ms"], 0.9) for _, row in drawn) * 2.5
    hi = max(hi, lo + 10.0)
    step = _nice_step(hi - lo)
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + (min(max(v, lo), hi) - lo) / (hi - lo) * pw

    def y(f: float) -> float:
        return TOP + (1 - f) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lag-plot" width="{WIDTH}" '
             f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="replication lag per region pair">',
             f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fff" '
             f'stroke="#999"/>']
    t = lo
    while t <= hi + step / 2:
        parts.append(f'<line x1="{x(t):.1f}" y1="{TOP}" x2="{x(t):.1f}" y2="{TOP + ph}" '
                     f'stroke="#eee"/><text x="{x(t):.1f}" y="{TOP + ph + 16}" '
                     f'font-size="11" text-anchor="middle">{t:g}</text>')
        t += step
    for f in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{LEFT}" y1="{y(f):.1f}" x2="{LEFT + pw}" y2="{y(f):.1f}" '
                     f'stroke="#eee"/><text x="{LEFT - 6}" y="{y(f) + 4:.1f}" '
                     f'font-size="11" text-anchor="end">{f:.2f}</text>')
    parts.append(f'<text x="{LEFT + pw / 2}" y="{HEIGHT - 8}" font-size="12" '
                 f'text-anchor="middle">lag, ms (acknowledged in A until the first '
                 f'{escape(reads)} read in B showed it; estimate; clipped at {_fmt(hi)})'
                 f'</text>')
    parts.append(f'<text x="14" y="{TOP + ph / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + ph / 2})">share of elements</text>')
    for i, (name, row) in enumerate(drawn):
        colour = COLOURS[i % len(COLOURS)]
        samples: Sequence[float] = row["samples_ms"]
        n = len(samples)
        pts = [f"{x(samples[0]):.1f},{y(0):.1f}"]
        for k, v in enumerate(samples):
            pts.append(f"{x(v):.1f},{y(k / n):.1f}")
            pts.append(f"{x(v):.1f},{y((k + 1) / n):.1f}")
        pts.append(f"{x(hi):.1f},{y(1):.1f}")
        label = escape(name.replace("->", " → "))
        parts.append(f'<polyline class="lag-curve" data-pair="{escape(name)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2" points="{" ".join(pts)}"/>')
        ly = TOP + 10 + i * 20
        p50 = _fmt(row["estimate_ms"].get("p50"))
        parts.append(f'<line x1="{LEFT + pw + 12}" y1="{ly}" x2="{LEFT + pw + 32}" y2="{ly}" '
                     f'stroke="{colour}" stroke-width="3"/><text x="{LEFT + pw + 38}" '
                     f'y="{ly + 4}" font-size="12">{label} (p50 {p50} ms)</text>')
    parts.append("</svg>")
    return "".join(parts)


def lag_view(checkers: Mapping[str, Any]) -> dict | None:
    """What the template part shows, or None when the run has no lag figures."""
    res = checkers.get(CHECKER)
    if not isinstance(res, Mapping) or not isinstance(res.get("pairs"), Mapping):
        return None
    rows = []
    for name, row in sorted(res["pairs"].items()):
        est, lower, upper = (row.get(k) or {} for k in ("estimate_ms", "lower_ms", "upper_ms"))
        rows.append({"pair": name.replace("->", " → "), "count": row.get("count", 0),
                     "never_seen": row.get("never_seen", 0),
                     "final_only": row.get("first_seen_by_final_read", 0),
                     "p50": _fmt(est.get("p50")), "p90": _fmt(est.get("p90")),
                     "p99": _fmt(est.get("p99")), "max": _fmt(est.get("max")),
                     "lower_p50": _fmt(lower.get("p50")), "upper_p50": _fmt(upper.get("p50")),
                     "resolution": _fmt(row.get("resolution_ms"))})
    reads = str(res.get("reads", "SC"))
    return {"svg": Markup(lag_svg(res["pairs"], reads)), "rows": rows, "reads": reads,
            "method": res.get("method", "")}
