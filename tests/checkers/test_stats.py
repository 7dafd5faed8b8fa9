"""The stats checker: counts per f and region; a run with no success is unknown."""

from __future__ import annotations

from checkers.stats import check, stats
from results.history import Op


def op(i, type_, process, f, region=None, **kw):
    return Op(index=i, time=i, type=type_, process=process, f=f, region=region, **kw)


HISTORY = [
    op(0, "invoke", 0, "write", "us-east-1", value=1),
    op(1, "invoke", 1, "read", "us-east-2"),
    op(2, "invoke", "nemesis", "isolate", value={"region": "us-east-2"}),
    op(3, "ok", 0, "write", "us-east-1", value=1),
    op(4, "fail", 1, "read", "us-east-2", error="timeout"),
    op(5, "ok", "nemesis", "isolate"),
    op(6, "invoke", 0, "write", "us-east-1", value=2),
    op(7, "info", 0, "write", "us-east-1", error="timeout"),
    op(8, "invoke", 1, "read", "us-east-2"),  # never completed: counts as info
]


def test_counts_per_f_region_and_nemesis():
    r = check({}, HISTORY, {})
    assert r["valid"] is True
    assert r["total"] == {"count": 4, "ok": 1, "fail": 1, "info": 2, "ok_fraction": 0.25}
    assert r["by_f"]["write"] == {"count": 2, "ok": 1, "fail": 0, "info": 1, "ok_fraction": 0.5}
    assert r["by_f"]["read"]["fail"] == 1 and r["by_f"]["read"]["info"] == 1
    assert r["by_region"]["us-east-2"]["read"]["count"] == 2
    assert set(r["by_region"]) == {"us-east-1", "us-east-2"}
    assert r["nemesis"] == {"isolate": {"count": 1, "ok": 1, "fail": 0, "info": 0}}


def test_no_success_at_all_is_unknown():
    r = stats.check({}, [op(0, "invoke", 0, "read"), op(1, "fail", 0, "read")], {})
    assert r["valid"] == "unknown" and "no client operation succeeded" in r["error"]
    assert r["by_region"]["unknown"]["read"]["fail"] == 1
    assert check({}, [], {})["valid"] == "unknown"
