"""Tests of results.report: the report page's content for valid and invalid runs, generic
rendering of unknown checkers, tolerance of partial run directories, clear errors for bad
ones, and safe inlining of history data."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from results.history import read_jsonl
from results.report import build_report, load_run, write_report
from results.report_cli import report_command
from suite.errors import BadInput
from tests.results.fixtures import make_run

DATA_RE = re.compile(r'<script type="application/json" id="gt-data">(.*?)</script>', re.S)


def page_data(html: str) -> dict:
    m = DATA_RE.search(html)
    assert m, "the page has no inlined data"
    return json.loads(m.group(1))


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    body = html.split("<body>", 1)[1].split('<script type="application/json"', 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def test_invalid_strong_register_report_shows_verdict_anomaly_and_counterexample(store):
    run = make_run(store, seed=5, workload="register", mode="strong", valid=False)
    path = write_report(run)
    assert path == run / "report.html"
    html = path.read_text()
    text = text_of(html)
    results = json.loads((run / "results.json").read_text())
    lin = results["linearizability"]
    assert "Invalid: 1 promise of Multi-Region Strong Consistency (MRSC) broken " \
           "(Linearizable items)" in text
    assert 'data-verdict="invalid"' in html
    # the checker's explanation, verbatim, with its operations linked to the timeline
    explanation = lin["anomalies"][0]["explanation"]
    assert explanation.startswith("SC read of ")
    assert explanation in text
    for i in lin["anomalies"][0]["ops"][::2]:      # invocations (completions collapse into them)
        assert f'href="#op-{i}" data-op="{i}"' in html
    # the counterexample: prefix length, possible states, the failing op, a diagram
    cx = lin["counterexample"]
    assert f"holds {len(cx['prefix'])} operations of key {cx['key']}" in text
    assert cx["states"][0] in text
    data = page_data(html)
    assert data["cx"]["failing"] in data["cx"]["ops"]
    assert data["i"][data["cx"]["failing"]] == cx["op"]
    assert set(data["cx"]["prefix"]) <= {str(n) for n in data["cx"]["ops"]}
    # promises are worded for the run's mode
    assert "An isolated region stops serving writes and SC reads" in text
    assert "Every region keeps serving reads and writes" not in text
    # the configuration is shown
    assert re.search(r"<th>seed</th><td>5</td>", html)


def test_page_data_columns_describe_every_operation(store):
    run = make_run(store, seed=2, workload="counter", mode="async")
    html = build_report(run)
    data = page_data(html)
    ops = read_jsonl(run / "history.jsonl")
    n_pairs = sum(1 for op in ops if op.type == "invoke")
    for col in ("t0", "d", "lane", "f", "ty", "k", "p", "i", "c", "v", "cs", "er"):
        assert len(data[col]) == n_pairs, col
    assert data["counter"] is True
    assert set(data["fs"]) == {"add", "read", "isolate", "heal"}
    # fault periods come from the nemesis ops; every isolate period is shaded
    assert len(data["faults"]) == sum(1 for op in ops if op.f == "isolate" and op.type == "ok")
    assert all(f["region"] in data["regions"] for f in data["faults"])
    # lanes: about one per client thread (retired processes reuse their thread's row)
    test = json.loads((run / "test.json").read_text())
    client_lanes = [ln for ln in data["lanes"] if ln["region"] != "nemesis"]
    assert len(client_lanes) == test["concurrency"]
    # the lost increments are reported as allowed anomalies, not violations
    text = text_of(html)
    assert "allowed by this mode lost-increment" in text
    assert "Valid: every promise of asynchronous replication" in text


def test_unknown_checker_is_rendered_generically(store):
    run = make_run(store, seed=3, workload="register", mode="async", valid=False,
                   extra_checker=True)
    text = text_of(build_report(run))
    assert "custom-probe (a checker this report does not know)" in text
    assert "probe timed out after 5 s" in text           # its error
    assert "probes 12" in text                            # its other data, as a table
    assert "a probe saw something odd." in text           # its anomaly
    assert "undecided" in text


def test_nested_checkers_shape_reads_the_same(store):
    run = make_run(store, seed=4, workload="register", mode="strong", valid=False)
    flat = json.loads((run / "results.json").read_text())
    nested = {"valid": flat["valid"], "checkers": {k: v for k, v in flat.items() if k != "valid"}}
    (run / "results.json").write_text(json.dumps(nested))
    text = text_of(build_report(run))
    assert "Invalid: 1 promise" in text
    assert flat["linearizability"]["anomalies"][0]["explanation"] in text


def test_history_only_run_renders_and_says_what_is_missing(store):
    run = make_run(store, seed=6)
    (run / "results.json").unlink()
    (run / "test.json").unlink()
    text = text_of(build_report(run))
    assert "results.json is missing" in text and "gtcheck analyze RUN_DIR" in text
    assert "test.json is missing" in text
    assert "No verdict: this run has no checker results yet." in text
    assert "No test.json: the configuration is unknown." in text
    data = page_data(build_report(run))
    assert len(data["t0"]) > 0


def test_results_only_run_renders_without_timeline(store):
    run = make_run(store, seed=7, valid=False)
    (run / "history.jsonl").unlink()
    html = build_report(run)
    text = text_of(html)
    assert "history.jsonl is missing" in text
    assert "No history: the timeline cannot be drawn." in text
    assert "The history is not available, so the counterexample cannot be drawn." in text
    assert page_data(html)["t0"] == []


def test_missing_checkers_and_corrupt_results(store):
    run = make_run(store, seed=8)
    (run / "results.json").write_text('{"valid": true, "latency": ')
    text = text_of(build_report(run))
    assert "results.json could not be read (JSONDecodeError" in text
    (run / "results.json").write_text('{"valid": "unknown"}')
    text = text_of(build_report(run))
    assert "Unknown: no promise was broken" in text
    assert "No checker results for this run." in text


def test_history_breaking_pairing_rules_is_drawn_with_a_warning(store):
    run = make_run(store, seed=9)
    lines = (run / "history.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    lines.insert(1, json.dumps({**first, "index": 99999}))   # a double invoke
    (run / "history.jsonl").write_text("\n".join(lines) + "\n")
    text = text_of(build_report(run))
    assert "history.jsonl breaks the pairing rules" in text


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_bad_run_dir_is_a_clear_error(tmp_path, kind):
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("hello")
    elif kind == "empty":
        target.mkdir()
    with pytest.raises(BadInput, match=r"no such run directory|not a directory|"
                                       r"not a run directory"):
        write_report(target)
    result = CliRunner().invoke(report_command, [str(target)])
    assert result.exit_code == 3
    assert result.output.startswith("gtcheck: error: ")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_report_writes_the_page(store):
    run = make_run(store, seed=10)
    (run / "report.html").unlink(missing_ok=True)
    result = CliRunner().invoke(report_command, [str(run)])
    assert result.exit_code == 0, result.output
    assert f"report written to {run / 'report.html'}" in result.output
    assert (run / "report.html").stat().st_size > 50_000
    bad = CliRunner().invoke(report_command, [str(run), str(run)])
    assert bad.exit_code == 3 and "report takes one run directory" in bad.output


def test_values_cannot_break_out_of_the_inlined_data(store):
    run = make_run(store, seed=11)
    evil = "</script><script>alert(1)</script>"
    lines = (run / "history.jsonl").read_text().splitlines()
    for n, line in enumerate(lines):
        op = json.loads(line)
        if op["process"] != "nemesis" and op.get("f") == "write":
            op["value"] = evil
            lines[n] = json.dumps(op)
    (run / "history.jsonl").write_text("\n".join(lines) + "\n")
    html = build_report(run)
    assert evil not in html
    assert "<script>alert(1)" not in html
    assert evil in page_data(html)["v"]


def test_page_is_self_contained(store):
    html = build_report(make_run(store, seed=12))
    assert not re.search(r'<script[^>]+src=|<link[^>]+stylesheet|(src|href)="?https?:|'
                         r'url\(|@import|fetch\(|XMLHttpRequest', html), \
        "the report must not load anything from a network"
    assert "uPlot" in html


def test_fixtures_are_deterministic_from_the_seed(tmp_path):
    a = make_run(tmp_path / "a", seed=21, workload="counter", mode="async")
    b = make_run(tmp_path / "b", seed=21, workload="counter", mode="async")
    c = make_run(tmp_path / "c", seed=22, workload="counter", mode="async")
    assert (a / "history.jsonl").read_bytes() == (b / "history.jsonl").read_bytes()
    assert (a / "history.jsonl").read_bytes() != (c / "history.jsonl").read_bytes()
    assert load_run(a).problems == []


def test_report_survives_a_copied_run_dir(store, tmp_path):
    run = make_run(store, seed=13, valid=False)
    copy = tmp_path / "elsewhere" / "run"
    shutil.copytree(run, copy)
    assert write_report(copy).exists()


@pytest.mark.parametrize("results", [
    {"valid": False, "linearizability": {"valid": False, "anomalies": "oops",
                                         "counterexample": {"op": "x", "prefix": None}}},
    {"valid": False, "linearizability": {"valid": False, "counterexample": {
        "key": "k0", "op": 10 ** 9, "prefix": [1, "a", None], "states": [{"v": 1}, 2],
        "concurrent": "no"}}},
    {"valid": True, "latency": {"valid": True, "quantiles": {"us-east-1": "n/a",
                                                             "r": {"read": 5}}},
     "availability": {"valid": True, "regions": {"us-east-1": "none", "r": [1, {}]}}},
    {"valid": "weird", "odd": {"valid": None, "anomalies": [1, None, {"ops": ["a", 3]}],
                               "anomaly_counts": {"x": "many"}}},
    {"valid": True, "checkers": ["not", "a", "dict"], "list-valued": [1, 2]},
])
def test_odd_result_shapes_never_crash_the_report(store, results):
    run = make_run(store, seed=14)
    (run / "results.json").write_text(json.dumps(results))
    html = build_report(run)
    assert page_data(html)["t0"], "the history is still drawn"
    assert 'id="verdict"' in html


def test_unhealed_fault_is_shaded_to_the_end(store):
    run = make_run(store, seed=15)
    lines = (run / "history.jsonl").read_text().splitlines()
    # drop every heal: the isolations stay open to the end of the history
    kept = [ln for ln in lines if '"f":"heal"' not in ln]
    (run / "history.jsonl").write_text("\n".join(kept) + "\n")
    data = page_data(build_report(run))
    assert data["faults"] and data["faults"][-1]["e"] is None


def test_timeline_data_is_in_start_order_even_if_the_file_is_not(store):
    run = make_run(store, seed=16)
    lines = (run / "history.jsonl").read_text().splitlines()
    # swap two adjacent invocations of different processes: file order != time order
    ops = [json.loads(ln) for ln in lines]
    inv = [n for n, op in enumerate(ops) if op["type"] == "invoke" and op["process"] != "nemesis"]
    a, b = inv[10], inv[11]
    ops[a], ops[b] = ops[b], ops[a]
    (run / "history.jsonl").write_text("".join(json.dumps(op) + "\n" for op in ops))
    t0 = page_data(build_report(run))["t0"]
    assert t0 == sorted(t0)


def test_unwritable_report_is_a_clear_error(store, tmp_path):
    run = make_run(store, seed=17)
    out = tmp_path / "no-such-dir" / "report.html"
    with pytest.raises(BadInput, match="cannot write the report"):
        write_report(run, out=out)


def test_empty_history_says_so(store):
    run = make_run(store, seed=18)
    (run / "history.jsonl").write_text("")
    text = text_of(build_report(run))
    assert "history.jsonl holds no operations" in text


def test_building_leaves_the_garbage_collector_as_it_found_it(store):
    import gc
    run = make_run(store, seed=19)
    assert gc.isenabled()
    build_report(run)
    assert gc.isenabled()
    gc.disable()
    try:
        build_report(run)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(BadInput):
        build_report(store / "nope")
    assert gc.isenabled()
