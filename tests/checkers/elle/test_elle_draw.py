"""The cycle picture: a found cycle laid out and drawn by the report's template part."""

import random

from checkers.elle import check, simulate
from checkers.elle.draw import cycle_figures
from checkers.elle.run import in_region_check
from checkers.elle.txn import Txn
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


def test_a_region_whose_own_keys_gave_no_edge_is_not_judged():
    """test-all --quick --mode async --seed 3, list-append x outage: us-east-2 ran 8
    transactions on its one key, none depending on another (Elle's
    empty-transaction-graph: nothing tested). That region is not judged, as one without
    keys of its own; the others' evidence stands. With no region judged: unknown."""
    rng = random.Random(4)
    txns = simulate.serializable(rng, 50, keys=3)
    for t in txns:
        t.region = "us-east-1"
    lone = Txn(len(txns), 10_000, 99, "ok", [("append", "solo", 1)], 10**9, 10**9 + 5,
               "us-east-2", 10_000)
    res = in_region_check("list-append", txns + [lone])
    assert res["valid"] is True, res
    assert res["regions"]["us-east-2"]["judged"] is False
    assert res["regions"]["us-east-2"]["not_judged"] == "empty-transaction-graph"
    assert res["regions"]["us-east-1"]["valid"] is True
    only = in_region_check("list-append", [lone])
    assert only["valid"] == "unknown"
    # a real anomaly in the judged region is still found beside it
    bad, _ = simulate.plant("G-single", simulate.serializable(rng, 50, keys=3), rng)
    for t in bad:
        t.region = "us-east-1"
    assert in_region_check("list-append", bad + [lone])["valid"] is False
