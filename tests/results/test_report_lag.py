"""The report's replication-lag section (results/report/_lag.py and its template part):
drawn from the `replication-lag` checker's figures, one curve per ordered pair, escaped,
and absent when a run has no such figures."""

from __future__ import annotations

import html
import re

from results.report._lag import lag_svg, lag_view


def pair(src, dst, samples):
    s = sorted(samples)
    if not s:
        return {"from": src, "to": dst, "count": 0, "never_seen": 2,
                "first_seen_by_final_read": 0, "lower_ms": {}, "upper_ms": {},
                "estimate_ms": {}, "resolution_ms": None, "samples_ms": []}
    return {"from": src, "to": dst, "count": len(s), "never_seen": 0,
            "first_seen_by_final_read": 1,
            "lower_ms": {"p50": s[len(s) // 2] - 5}, "upper_ms": {"p50": s[len(s) // 2] + 5},
            "estimate_ms": {"p50": s[len(s) // 2], "p90": s[int(0.9 * len(s))],
                            "p99": s[-1], "max": s[-1]},
            "resolution_ms": 10.0, "samples_ms": s}


def curve_x_at_half(svg: str, name: str) -> float:
    """The x (px) where a curve reaches half its elements (y is measured downwards)."""
    m = re.search(rf'data-pair="{re.escape(html.escape(name))}"[^>]*points="([^"]+)"', svg)
    pts = [tuple(map(float, p.split(","))) for p in m.group(1).split()]
    ys = [y for _, y in pts]
    mid = (max(ys) + min(ys)) / 2
    return next(x for x, y in pts if y <= mid)


def test_one_curve_per_pair_and_the_slower_pair_lies_to_the_right():
    pairs = {"us-east-1->us-east-2": pair("us-east-1", "us-east-2", range(10, 30)),
             "us-east-1->us-west-2": pair("us-east-1", "us-west-2", range(40, 60)),
             "us-east-2->us-east-1": pair("us-east-2", "us-east-1", [])}
    svg = lag_svg(pairs)
    assert svg.count('class="lag-curve"') == 2        # the pair without samples is not drawn
    assert curve_x_at_half(svg, "us-east-1->us-west-2") > \
        curve_x_at_half(svg, "us-east-1->us-east-2") + 50
    assert "us-east-1 → us-west-2 (p50 50 ms)" in svg


def test_a_few_stalls_do_not_squash_the_bulk():
    slow = list(range(10, 110)) + [5000]               # one stall of 5 s
    svg = lag_svg({"a->b": pair("a", "b", slow)})
    assert "clipped at" in svg
    ticks = [float(t) for t in re.findall(r'text-anchor="middle">(-?[\d.e+]+)</text>', svg)]
    assert max(ticks) < 1000


def test_names_are_escaped_and_the_view_lists_every_pair():
    view = lag_view({"replication-lag": {"valid": True, "method": "m", "pairs": {
        "<b>->x": pair("<b>", "x", [1.0, 2.0, 3.0]), "x-><b>": pair("x", "<b>", [])}}})
    assert "<b>" not in str(view["svg"]) and "&lt;b&gt;" in str(view["svg"])
    assert [r["pair"] for r in view["rows"]] == ["<b> → x", "x → <b>"]
    assert view["rows"][0]["final_only"] == 1 and view["rows"][1]["count"] == 0


def test_no_lag_figures_no_section():
    assert lag_view({"latency": {"valid": True}}) is None
    assert lag_view({"replication-lag": {"valid": "unknown", "error": "boom"}}) is None
    assert lag_svg({}) == ""
