"""A promise whose condition never arose in a run is "not judged" there (issue: the A10
`no-relay` checker answered valid on runs with no cut link). An async register run on the
emulator (boto3 over HTTP) with an isolation but no cut link: `no-relay` says not judged
and why, in results.json, the console summary and the report; the run's verdict rests on
the checkers that judged something (checkers.core.merge_results)."""

from __future__ import annotations

import json

import pytest

from results.store import Store
from suite import core
from suite.config import Test


@pytest.mark.slow
def test_a_run_without_a_cut_link_does_not_judge_a10(tmp_path):
    test = Test(workload="register", mode="async", nemesis=("isolate",), seed=3,
                time_limit=3.0, concurrency=4, rate=60.0, latency_scale=0.1,
                nemesis_interval=0.7, final_wait=0.5).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    checkers = result.results["checkers"]
    relay = checkers["no-relay"]
    assert relay["judged"] is False and relay["valid"] == "unknown"
    assert relay["reason"] == "not judged: no link was cut in this run (A10 speaks of a cut link)"
    judged = {n: r["valid"] for n, r in checkers.items() if r.get("judged") is not False}
    assert "convergence" in judged and "monotonic-reads" in judged
    expected = "unknown" if "unknown" in judged.values() else all(judged.values())
    assert result.valid == expected, judged
    text = core.summary(result, test)
    assert "  no-relay: not judged (no link was cut in this run (A10 speaks of a cut " \
        "link))" in text.splitlines(), text
    from results.report import build_report
    html = build_report(result.run_dir.path)
    row = html[html.index("No relay under a cut link"):][:900]
    assert 'class="badge notjudged">not judged<' in row and "no link was cut" in row
    assert json.loads(result.run_dir.results_json.read_text())["checkers"]["no-relay"][
        "judged"] is False
