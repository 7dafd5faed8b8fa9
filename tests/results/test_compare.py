"""Tests of results.compare and `gtcheck report --compare`: two runs side by side."""

from __future__ import annotations

import json

from click.testing import CliRunner

from results.compare import compare_runs, derived_latency, write_compare
from results.report import load_run
from results.report_cli import report_command
from tests.results.fixtures import make_run


def test_strong_vs_async_side_by_side(tmp_path):
    a = make_run(tmp_path, seed=1, workload="register", mode="strong", valid=False)
    b = make_run(tmp_path, seed=1, workload="register", mode="async")
    data = compare_runs(a, b)
    assert [r["mode"] for r in data["runs"]] == ["strong", "async"]
    assert [r["verdict_word"] for r in data["runs"]] == ["invalid", "valid"]
    verdicts = {v["checker"]: (v["a"]["word"], v["b"]["word"]) for v in data["verdicts"]}
    assert verdicts["linearizability"] == ("BROKEN", "not run")
    assert verdicts["convergence"] == ("not run", "held")
    # The single report's words (issue 13, finding 6): figures are "recorded" and an
    # allowed anomaly with a non-zero count is "reported", never "held".
    assert verdicts["latency"] == ("recorded", "recorded")
    assert verdicts["stale-reads"] == ("not run", "reported")
    cell = next(v["b"] for v in data["verdicts"] if v["checker"] == "stale-reads")
    assert cell["counts"].startswith("stale-read: ")
    stale_b = json.loads((b / "results.json").read_text())["stale-reads"]["anomaly_counts"]
    anomalies = {r["kind"]: (r["a"], r["b"]) for r in data["anomalies"]}
    assert anomalies["stale-read"] == (1, stale_b["stale-read"])
    # latency quantiles per region and operation, from each run's latency checker
    qa = json.loads((a / "results.json").read_text())["latency"]["quantiles"]
    row = next(r for r in data["latency"] if r["region"] == "us-east-1" and r["f"] == "write")
    assert row["a"] == qa["us-east-1"]["write"]
    assert row["ratio"]["p50_ms"] == round(row["b"]["p50_ms"] / row["a"]["p50_ms"], 2)
    assert row["ratio"]["p50_ms"] < 1      # MRSC writes cost a journal round trip
    assert {r["region"] for r in data["latency"]} == {"us-east-1", "us-east-2", "us-west-2"}
    assert data["latency_source"] == ["the latency checker", "the latency checker"]
    page = write_compare(a, b, tmp_path / "cmp.html").read_text()
    assert 'id="verdict-a">invalid' in page and 'id="verdict-b">valid' in page
    assert '<span class="badge none">not run</span>' in page


def test_latency_derived_from_history_when_no_checker(tmp_path):
    a = make_run(tmp_path, seed=2, workload="counter", mode="strong")
    b = make_run(tmp_path, seed=2, workload="counter", mode="async")
    (b / "results.json").unlink()
    data = compare_runs(a, b)
    assert data["latency_source"] == ["the latency checker", "derived from the history"]
    derived = derived_latency(load_run(b))
    row = next(r for r in data["latency"] if r["region"] == "us-west-2" and r["f"] == "add")
    assert row["b"] == derived["us-west-2"]["add"]
    assert row["b"]["count"] > 0 and row["b"]["p50_ms"] <= row["b"]["p99_ms"]
    assert data["runs"][1]["verdict_word"] == "no verdict"


def test_cli_compare(tmp_path):
    a = make_run(tmp_path, seed=3, workload="counter", mode="strong")
    b = make_run(tmp_path, seed=3, workload="counter", mode="async")
    out = tmp_path / "c.html"
    result = CliRunner().invoke(report_command, ["--compare", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Verdicts:" in result.output and "lost-increment" in result.output
    assert "Latency p50 / p99 ms" in result.output
    assert out.is_file() and "Anomaly counts" in out.read_text()
    default = CliRunner().invoke(report_command, ["--compare", str(a), str(b)])
    assert default.exit_code == 0 and (b / "compare.html").is_file()


def test_cli_compare_bad_input(tmp_path):
    a = make_run(tmp_path, seed=4)
    one = CliRunner().invoke(report_command, ["--compare", str(a)])
    assert one.exit_code == 3 and "--compare takes two run directories, got 1" in one.output
    bad = CliRunner().invoke(report_command, ["--compare", str(a), str(tmp_path / "nope")])
    assert bad.exit_code == 3 and "no such run directory" in bad.output
    assert "Traceback" not in bad.output
