"""Issue 13, the report, compare and serve side: a set-up failure shown as one (never as
held promises), the run's errors and the reason of an unknown verdict in the report,
availability that counts what is judged, `gtcheck report`'s exit status, the demo's
table drawn, and the runs page's columns, filters and sorting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkers.availability import AvailabilityChecker
from results.report import build_report
from results.serve import list_runs
from suite.cli import main
from tests.checkers.build import History
from tests.results.fixtures import make_run, serving
from tests.results.test_serve import get

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def setup_failed_run(store: Path) -> Path:
    """A run directory as `suite.core` leaves it when set-up failed after the store."""
    d = store / "register-strong" / "20261130T100000"
    d.mkdir(parents=True)
    (d / "test.json").write_text(json.dumps({"name": "register-strong", "mode": "strong",
                                             "workload": "register", "target": "emulator",
                                             "seed": 3, "nemesis": []}))
    (d / "history.jsonl").write_text("")
    (d / "results.json").write_text(json.dumps({
        "valid": "unknown", "checkers": {}, "reason": "set-up failed: could not start",
        "run": {"interrupted": False, "errors": [], "ops": 0, "records": 0, "ok": 0,
                "fail": 0, "info": 0, "setup_error": "could not start the embedded "
                "emulator: port in use"}}))
    (d / "run.log").write_text("x\n")
    return d


def test_a_setup_failure_is_shown_as_one_never_as_held_promises(tmp_path):
    d = setup_failed_run(tmp_path / "store")
    html = build_report(d)
    assert "This run failed during set-up" in html
    assert "could not start the embedded emulator: port in use" in html
    assert "Set-up failed: no verdict." in html
    assert ">held<" not in html and "held." not in html
    [row] = list_runs(tmp_path / "store")
    assert row.verdict == "setup-failed" and "port in use" in row.reason


def test_the_report_shows_the_runs_errors_and_why_the_verdict_is_unknown(tmp_path):
    d = make_run(tmp_path, seed=5)
    results = json.loads((d / "results.json").read_text())
    results.update(valid="unknown", reason="the target is gone: every region refused "
                   "connections from 1.0s to 4.0s")
    results["run"] = {"interrupted": False, "ops": 10, "records": 20, "ok": 6,
                      "condition-failed": 1, "conflict": 0, "fail": 3, "info": 0,
                      "timeouts": 0, "target_gone": results["reason"],
                      "errors": ["deleting the table: skipped, the target is gone (table "
                                 "'gtcheck' may remain on it)"]}
    (d / "results.json").write_text(json.dumps(results))
    html = build_report(d)
    assert "Unknown: the target is gone: every region refused connections" in html
    assert "Error: deleting the table: skipped, the target is gone" in html
    assert "Operations: ops=10 ok=6 condition-failed=1 fail=3 info=0" in html


def test_availability_counts_answered_requests_as_served():
    """A ConditionalCheckFailed / ReplicatedWriteConflict is the region answering, so the
    figure shown is the figure judged: a fault-free region that answers every request is
    100 % available even when half its conditions failed."""
    h = History()
    for i in range(20):
        t = i * 50
        if i % 2:
            h.write("k", t, t + 10, i, region=E1, type="fail", error="ConditionalCheckFailed")
        else:
            h.write("k", t, t + 10, i, region=E1)
    result = AvailabilityChecker("strong").check({"regions": [E1, E2, W2]}, h.ops(), {})
    [row] = result["regions"][E1]
    assert (row["ok"], row["answered"], row["fail"]) == (10, 10, 0)
    assert row["availability"] == 1.0 and result["valid"] is True


def test_the_report_page_marks_answered_errors_for_its_plots(tmp_path):
    d = make_run(tmp_path, seed=6, workload="register", mode="strong")
    hist = d / "history.jsonl"
    lines = hist.read_text().splitlines()
    # turn the first failed completion into a ConditionalCheckFailed
    for n, line in enumerate(lines):
        op = json.loads(line)
        if op["type"] == "fail":
            op["error"] = "ConditionalCheckFailed"
            lines[n] = json.dumps(op)
            break
    hist.write_text("\n".join(lines) + "\n")
    html = build_report(d)
    data = json.loads(re.search(r'<script type="application/json" id="gt-data">(.*?)</script>',
                                html, re.S).group(1))
    assert [data["errors"][i] for i in data["answered"]] == ["ConditionalCheckFailed"]
    assert "share of operations served" in html and "answered no" in html


def test_report_exits_with_the_runs_verdict(tmp_path):
    bad = make_run(tmp_path, seed=1, valid=False, name="bad")
    good = make_run(tmp_path, seed=2, name="good")
    r = CliRunner().invoke(main, ["report", str(bad)])
    assert r.exit_code == 1 and "(verdict: INVALID)" in r.output, r.output
    assert CliRunner().invoke(main, ["report", str(good)]).exit_code == 0
    r = CliRunner().invoke(main, ["report", "--compare", str(good), str(bad),
                                  "--out", str(tmp_path / "c.html")])
    assert r.exit_code == 1, r.output  # the worse of the two
    r = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere")])
    assert r.exit_code == 3 and r.output.startswith("gtcheck: error: ")


def test_the_demo_report_names_its_checker_and_draws_the_talks_table(tmp_path):
    d = make_run(tmp_path, seed=8, workload="counter", mode="async", name="demo")
    results = json.loads((d / "results.json").read_text())
    checkers = results.get("checkers", results)
    checkers["demo"] = {
        "valid": True, "final": {E1: 5, E2: 5, W2: 5}, "lost": {E1: 10},
        "notes": ["us-east-1 ended on 5 although 15 increments were acknowledged: "
                  "last-writer-wins dropped 10 of them (A14)"],
        "grid": {"header": ["step", E1, E2, W2],
                 "rows": [["1", "1 (5 ms)", "1 (6 ms)", "1 (9 ms)"], ["final", "5", "5", "5"]]},
        "anomalies": [], "anomaly_counts": {}}
    checkers.setdefault("lost-increments", {"valid": True, "anomaly_counts": {}})["anomalies"] = [
        {"kind": "lost-increment", "expected": True, "key": "k0", "region": E1, "ops": [],
         "explanation": "increments were lost to last-writer-wins (A14)."}]
    (d / "results.json").write_text(json.dumps(results))
    html = build_report(d)
    assert "The talk&#39;s demo" in html or "The talk's demo" in html
    assert "a checker this report does not know" not in html
    assert 'class="numbers demo-grid"' in html and "<td>1 (5 ms)</td>" in html
    assert "dropped 10 of them (A14)." in html
    assert ".." not in re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)


@pytest.fixture()
def served(tmp_path):
    store = tmp_path / "store"
    make_run(store, seed=1, mode="strong", valid=False, name="register-strong",
             timestamp="20261128T090000")
    make_run(store, seed=2, workload="counter", mode="async", name="counter-async",
             timestamp="20261128T091000")
    make_run(store, seed=3, mode="async", name="register-async", timestamp="20261128T092000")
    for d in store.glob("*/2026*"):
        t = json.loads((d / "test.json").read_text())
        t["target"] = "emulator"
        (d / "test.json").write_text(json.dumps(t))
    setup_failed_run(store)
    with serving(store) as srv:
        yield srv


def test_the_runs_page_has_target_duration_ops_seed_and_keeps_filters_when_sorting(served):
    _, _, body = get(served, "/")
    heads = re.findall(r"<th>(?:<a [^>]*>)?([^<]+)", body)
    for title in ("Target", "Duration s", "Ops", "Seed", "Files"):
        assert title in heads, heads
    assert "set-up failed" in body and "port in use" in body
    _, _, body = get(served, "/?mode=async&sort=name&order=asc")
    shown = re.findall(r'data-verdict="[\w-]+" data-workload="([\w-]*)"', body)
    assert sorted(shown) == ["counter", "register"]
    # every sort link keeps the filter
    links = re.findall(r'<th><a href="([^"]+)"', body)
    assert links and all("mode=async" in link for link in links), links
    _, _, body = get(served, "/?verdict=setup-failed")
    assert re.findall(r'data-verdict="([\w-]+)"', body) == ["setup-failed"]
    _, _, body = get(served, "/?nemesis=isolate")
    assert len(re.findall(r'<tr class="run ', body)) == 3


def test_the_compare_page_links_back(served):
    runs = list_runs(Path(served.RequestHandlerClass.store))
    a, b = [r.rel for r in runs if r.verdict != "setup-failed"][:2]
    status, _, body = get(served, f"/compare?run={a}&run={b}")
    assert status == 200 and 'id="back"' in body and 'href="/"' in body
    assert f'/runs/{a}/report.html' in body


def test_availability_that_judged_nothing_is_undecided_in_the_report(tmp_path):
    """Issue 19, class 13: a run whose availability rows were all too short to judge says
    so -- the promise undecided with the periods judged counted, each row "not judged"
    with its reason -- never "held"."""
    h = History()
    for k in range(6):
        h.nemesis("cut" if k % 2 == 0 else "heal",
                  {"a": E1, "b": E2} if k % 2 == 0 else None, 300 * k + 300)
    for i in range(90):
        t = 300 + i * 20
        h.write("k", t, t + 10, i, region=W2, type="info", error="timeout")
    av = AvailabilityChecker("async").check({"regions": [E1, E2, W2]}, h.ops(), {})
    assert av["valid"] == "unknown" and av["judged_periods"] == 0
    d = make_run(tmp_path, seed=7)
    results = json.loads((d / "results.json").read_text())
    results["checkers"] = {"availability": av}
    results["valid"] = "unknown"
    (d / "results.json").write_text(json.dumps(results))
    html = build_report(d)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "periods judged: 0, not judged:" in text
    assert "not judged (window" in text
    assert re.search(r"Availability per region.{0,400}?undecided", text, re.S), text[:3000]
    assert not re.search(r"Availability per region.{0,400}?\bheld\b", text, re.S)
