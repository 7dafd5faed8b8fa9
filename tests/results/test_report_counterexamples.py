"""Issue 13, finding 17: every key without a linearization carries its own counterexample,
through the MRSC checker (`checkers.mrsc.Linearizable`) to the report's sections and
drawings, and `gtcheck check --json` (both with --model and with a run's test.json)."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from results.report import build_report
from suite.cli import main
from tests.results.many_bad_keys import make_run_with_bad_keys
from tests.results.test_report import page_data, text_of


def lin_result(run) -> dict:
    results = json.loads((run / "results.json").read_text())
    return results.get("checkers", results)["linearizability"]


def test_each_bad_key_has_its_own_anomaly_counterexample_and_diagram(tmp_path):
    run, planted = make_run_with_bad_keys(tmp_path / "store", n_keys=3)
    lin = lin_result(run)
    assert lin["valid"] is False
    assert sorted(c["key"] for c in lin["counterexamples"]) == sorted(planted)
    assert lin["counterexample"] == lin["counterexamples"][0]
    for cx in lin["counterexamples"]:
        assert cx["op"] == planted[cx["key"]]
    # one anomaly per key, each with that key's counterexample and a sentence naming its op
    anomalies = {a["key"]: a for a in lin["anomalies"] if a["kind"] == "nonlinearizable"}
    assert set(anomalies) == set(planted)
    for key, a in anomalies.items():
        assert a["counterexample"]["key"] == key and a["ops"][0] == planted[key]
        assert f"history index {planted[key]}" in a["explanation"]
        assert "has no linearization" not in a["explanation"]
    html = build_report(run)
    text = text_of(html)
    assert "3 keys have no linearization; each key's counterexample is drawn below" in text
    for n, key in enumerate(sorted(planted), start=1):
        assert f"Linearizability counterexample {n} of 3: key {key}" in text
    anchors = re.findall(r'<section id="(counterexample[-0-9]*)" class="counterexample"', html)
    assert anchors == ["counterexample", "counterexample-2", "counterexample-3"]
    for anchor in anchors:   # each anomaly links to its own key's section
        assert html.count(f'class="cxlink" href="#{anchor}"') == 1
    data = page_data(html)
    assert data["cx"] == data["cxs"][0]
    assert [d["key"] for d in data["cxs"]] == sorted(planted)
    for d in data["cxs"]:
        keys = {data["keys"][data["k"][n]] for n in d["ops"]}
        assert keys == {d["key"]}                       # only that key's operations
        assert data["i"][d["failing"]] == planted[d["key"]]


def test_keys_past_the_drawn_ones_are_counted_on_the_page(tmp_path, monkeypatch):
    from results.report import _view
    monkeypatch.setattr(_view, "COUNTEREXAMPLES_SHOWN", 2)
    run, planted = make_run_with_bad_keys(tmp_path / "store", n_keys=3)
    html = build_report(run)
    text = text_of(html)
    assert ("3 keys have no linearization; each key's counterexample is drawn below for "
            "the first 2 (the other 1 are listed") in text
    assert len(page_data(html)["cxs"]) == 2


def test_check_json_shows_every_counterexample(tmp_path):
    run, planted = make_run_with_bad_keys(tmp_path / "store", n_keys=3)
    history = str(run / "history.jsonl")
    runner = CliRunner()
    # with --model: the search's result
    out = runner.invoke(main, ["check", "--json", "--model", "cas-register", history])
    assert out.exit_code == 1, out.output
    result = json.loads(out.stdout.splitlines()[-1])["result"]
    assert {c["key"]: c["op"] for c in result["counterexamples"]} == planted
    assert result["counterexamples_omitted"] == 0
    # judged as `gtcheck analyze` judges the run (test.json beside the file)
    out = runner.invoke(main, ["check", "--json", history])
    assert out.exit_code == 1, out.output
    lin = json.loads(out.stdout.splitlines()[-1])["result"]
    lin = lin.get("checkers", lin)["linearizability"]
    assert {c["key"]: c["op"] for c in lin["counterexamples"]} == planted


def test_the_set_checkers_counterexamples_are_drawn_one_per_key():
    """The MRSC set checker (exact, no search) puts each key's counterexample on its
    anomaly; the report draws each of them."""
    from checkers.set import SetLinearizable
    from results.history import Op
    from results.report._view import HistoryIndex, _counterexamples, _cx_drawing
    ops, t = [], 0
    for p, key in enumerate(("s1", "s2", "s3")):
        for typ, f, value in (("invoke", "add", 1), ("ok", "add", 1),
                              ("invoke", "read", None), ("ok", "read", [])):
            ops.append(Op(len(ops), t, typ, p, f, key, value, region="us-east-1",
                          consistent=True if f == "read" else None))
            t += 1000
    result = SetLinearizable().check({}, ops, {})
    assert result["valid"] is False
    hist = HistoryIndex(ops)
    cxs = _counterexamples({"linearizability": result}, hist)
    assert [c["key"] for c in cxs["items"]] == ["s1", "s2", "s3"] and cxs["omitted"] == 0
    for c in cxs["items"]:
        drawing = _cx_drawing(hist, c)
        assert {hist.pairs[n].invoke.key for n in drawing["ops"]} == {c["key"]}
