"""The cycle picture: a found cycle laid out and drawn by the report's template part."""

import random

from checkers.elle import check, simulate
from checkers.elle.draw import cycle_figures
from checkers.elle.run import in_region_check
from results.report._render import render


def test_found_cycle_is_drawn_with_its_transactions_and_dependencies():
    rng = random.Random(4)
    txns, name = simulate.plant("G-single", simulate.serializable(rng, 50, keys=3), rng)
    for t in txns:
        t.region = "us-east-1"
    res = in_region_check("list-append", txns)
    assert res["valid"] is False and res["cycle"]["kind"] == name
    figs = cycle_figures({"serializable-in-writing-region": res, "latency": {"valid": True}})
    assert len(figs) == 1
    fig = figs[0]
    assert len(fig["nodes"]) == len(res["cycle"]["nodes"]) >= 2
    html = render("_elle_cycle.html.j2", elle_cycles=figs)
    assert "<svg" in html and "G-single-item" in html
    for node in res["cycle"]["nodes"]:
        assert f">{node}<" in html
    rels = sorted(e["rel"] for e in res["cycle"]["edges"])
    assert rels == ["rw", "wr"]  # read skew: one anti-dependency, one read dependency
    assert html.count('class="edge rw"') == 1 and html.count('class="edge wr"') == 1
    assert "us-east-1" in html


def test_no_cycle_no_section():
    assert render("_elle_cycle.html.j2", elle_cycles=[]).strip() == ""
    ok = check.check(simulate.serializable(random.Random(1), 50), "list-append")
    assert ok["valid"] is True
