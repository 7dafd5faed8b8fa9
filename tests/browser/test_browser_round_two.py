"""Issue 25's report and serve findings (7-13), in headless Chromium, asserting what a
person sees: requests answered no on their merits drawn as their own kind, not as
failures; a VALID async run's allowed anomalies outlined calmly, with a toggle; the
counterexample's operations with their values; fault names off the operations and every
fault its own colour; one cycle drawn per kind without empty space; compare naming the
target and the planted bugs; no-relay shown as evidence; and serve's runs page within
1,400 px with an endpoints target, a run's files listed and zipped."""

from __future__ import annotations

import io
import json
import random
import urllib.request
import zipfile

import pytest

from checkers.elle import simulate
from checkers.elle.run import in_region_check
from results.compare import write_compare
from results.report import write_report
from results.store import Store
from suite import core
from suite.config import Test
from tests.browser.test_browser_report import browser, open_report  # noqa: F401 -- fixture
from tests.results.fixtures import make_run, serving

pytestmark = pytest.mark.slow

PIXELS_OF = """(function (rgb) {
  var c = document.getElementById('tl-canvas');
  var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;
  for (var i = 0; i < d.length; i += 4)
    if (Math.abs(d[i] - rgb[0]) < 6 && Math.abs(d[i + 1] - rgb[1]) < 6 &&
        Math.abs(d[i + 2] - rgb[2]) < 6) n++;
  return n;
})"""
ANSWERED_RGB = [84, 110, 122]   # #546e7a, the report's "answered no" (slate)
VIOLATION_RGB = [213, 0, 249]   # #d500f9, a violation's outline
ALLOWED_RGB = [144, 164, 174]   # #90a4ae, an allowed anomaly's outline


@pytest.fixture(scope="module")
def async_run(tmp_path_factory):
    """A real VALID async run through the emulator, with slow and pause faults, cas
    requests answered ConditionalCheckFailed and stale reads the mode allows."""
    store = tmp_path_factory.mktemp("round-two") / "store"
    t = Test(workload="register", mode="async", nemesis=("slow", "pause"), seed=5,
             time_limit=6.0, latency_scale=0.5, rate=150.0, nemesis_interval=1.0,
             final_wait=0.5, quiet_reads=False)
    result = core.run_test(t, store=Store(store))
    write_report(result.run_dir.path)
    assert result.valid is True, result.results.get("reason")
    assert result.results["run"]["condition-failed"] > 0
    assert core.anomaly_counts(result.results, expected=True)
    return result.run_dir.path


def test_answered_no_is_drawn_as_its_own_kind_not_as_failed(browser, async_run):
    history = [json.loads(x) for x in (async_run / "history.jsonl").read_text().splitlines()]
    refused = next(op for op in history if op.get("error") == "ConditionalCheckFailed")
    open_report(browser, (async_run / "report.html").as_uri() + f"#op-{refused['index']}")
    legend = browser.eval("document.getElementById('tl-legend').textContent")
    assert "answered no (condition failed / conflict: not a failure)" in legend
    detail = browser.eval("document.getElementById('tl-detail').textContent")
    assert "answered no (not a failure)" in detail and "ConditionalCheckFailed" in detail
    browser.eval("document.getElementById('tl-reset').click()")
    browser.wait_for(f"{PIXELS_OF}({ANSWERED_RGB}) > 0")
    assert browser.console_errors == []


def test_a_valid_async_run_outlines_allowed_anomalies_calmly_with_a_toggle(browser,
                                                                          async_run):
    open_report(browser, (async_run / "report.html").as_uri())
    legend = browser.eval("document.getElementById('tl-legend').textContent")
    assert "in an anomaly the mode allows (not a failure)" in legend
    assert "violation" not in legend
    canvas = "document.getElementById('tl-canvas').dataset"
    assert int(browser.eval(f"{canvas}.violationOutlines")) == 0
    assert int(browser.eval(f"{canvas}.allowedOutlines")) > 0
    assert browser.eval(f"{PIXELS_OF}({VIOLATION_RGB})") == 0   # no magenta alarm
    allowed_px = browser.eval(f"{PIXELS_OF}({ALLOWED_RGB})")
    assert allowed_px > 0
    assert browser.eval("document.getElementById('tl-allowed').parentNode.hidden") is False
    browser.eval("document.getElementById('tl-allowed').click()")
    browser.wait_for(f"Number({canvas}.allowedOutlines) === 0")
    assert browser.eval(f"{PIXELS_OF}({ALLOWED_RGB})") < allowed_px
    assert browser.console_errors == []


def test_fault_names_sit_above_the_operations_and_slow_and_pause_differ(browser,
                                                                       async_run):
    open_report(browser, (async_run / "report.html").as_uri())
    band = browser.eval("document.getElementById('tl-canvas').dataset.faultBand")
    top, bottom = map(int, band.split(","))
    first_row = int(browser.eval("document.getElementById('tl-canvas').dataset.firstRow"))
    assert bottom - top >= 20 and bottom <= first_row
    # the names are really drawn in that band (ink between the axis and the first row)
    ink = browser.eval(f"""(function () {{
      var c = document.getElementById('tl-canvas'), d = c.getContext('2d')
        .getImageData(160, {top + 4}, c.width - 170, {bottom - top - 6}).data, n = 0;
      for (var i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 2] < 200) n++;
      return n; }})()""")
    assert ink > 0
    swatches = browser.eval("""Array.from(document.querySelectorAll('#tl-faults .sw'))
        .map(s => [s.nextSibling.textContent.trim(), getComputedStyle(s).backgroundColor])""")
    colours = {name: tuple(int(x) for x in c[c.index("(") + 1:].split(",")[:3])
               for name, c in swatches}
    assert {"slow", "pause"} <= set(colours), colours
    distance = sum((a - b) ** 2 for a, b in zip(colours["slow"], colours["pause"])) ** 0.5
    assert distance > 100, colours
    assert browser.console_errors == []


def test_counterexample_shows_every_operation_with_its_value(browser, tmp_path):
    run = make_run(tmp_path / "store", seed=51, workload="register", mode="strong",
                   valid=False, name="register-strong", timestamp="20261206T100000")
    write_report(run)
    open_report(browser, (run / "report.html").as_uri())
    rows = browser.eval("""Array.from(document.querySelectorAll('#cx-diagram table.cx-ops tbody tr'))
        .map(tr => Array.from(tr.cells).map(td => td.textContent))""")
    boxes = browser.eval("document.querySelectorAll('#cx-diagram svg rect.cx-op').length")
    assert rows and len(rows) == boxes
    data = json.loads(browser.eval("document.getElementById('gt-data').textContent"))
    value_of = {data["i"][n]: data["v"][n] or "nil" for n in range(len(data["i"]))}
    for tag, index, _process, _region, f, value, outcome, *_ in rows:
        assert value == value_of[int(index)], (index, value)   # whole, never cut
        assert f in ("read", "write", "cas")
    assert [r[0] for r in rows][:3] == ["A", "B", "C"]
    assert sum(r[-1] == "cannot be placed" for r in rows) == 1
    # every box shows its tag (in it, or under it when too narrow), so the table reads
    # beside the diagram
    tags = browser.eval("""Array.from(document.querySelectorAll(
        '#cx-diagram svg text.cx-label, #cx-diagram svg text.cx-tag'))
        .map(t => t.textContent.split(' ')[0].replace('…', ''))""")
    assert sorted(tags) == sorted(r[0] for r in rows)
    browser.screenshot(tmp_path / "counterexample.png")
    assert browser.console_errors == []


def test_every_cycle_kind_is_drawn_without_empty_space(browser, tmp_path):
    rng = random.Random(4)
    txns = simulate.serializable(rng, 60, keys=4)
    for kind in ("G0", "G1c", "G-single", "G2-item"):
        txns, _ = simulate.plant(kind, txns, rng)
    for t in txns:
        t.region = "us-east-1"
    checked = in_region_check("list-append", txns)
    run = make_run(tmp_path / "store", seed=52, name="cycles", timestamp="20261206T101000")
    results = json.loads((run / "results.json").read_text())
    results.get("checkers", results)["serializable-in-writing-region"] = json.loads(
        json.dumps(checked, default=str))
    (run / "results.json").write_text(json.dumps(results))
    write_report(run)
    open_report(browser, (run / "report.html").as_uri())
    captions = browser.eval("Array.from(document.querySelectorAll('figure.elle-cycle "
                            "figcaption')).map(c => c.textContent)")
    for kind in ("G0", "G1c", "G-single-item", "G2-item"):
        assert any(kind in c for c in captions), captions
    gaps = browser.eval("""Array.from(document.querySelectorAll('figure.elle-cycle svg'))
        .map(s => { var r = s.getBoundingClientRect(), b = s.getBBox();
                    var k = r.height / s.viewBox.baseVal.height;
                    return [r.height - b.height * k, r.width - b.width * k]; })""")
    assert gaps and all(h < 30 and w < 30 for h, w in gaps), gaps  # was ~250 px
    assert browser.console_errors == []


def test_compare_names_target_and_bugs_and_no_relay_is_evidence(browser, tmp_path):
    store = tmp_path / "store"
    a = make_run(store, seed=53, mode="async", name="register-async", timestamp="20261206T102000")
    b = make_run(store, seed=54, mode="async", name="register-async-bug_relay",
                 timestamp="20261206T102100")
    test_b = json.loads((b / "test.json").read_text())
    test_b.update(target="emulator", emulator_bugs=["relay"])
    (b / "test.json").write_text(json.dumps(test_b))
    results = json.loads((a / "results.json").read_text())
    results.get("checkers", results)["no-relay"] = {
        "valid": True, "anomaly_counts": {"no-relay": 5},
        "anomalies": [{"kind": "no-relay", "expected": True, "key": "k1", "region":
                       "us-east-2", "ops": [], "explanation": "During the cut ..."}]}
    (a / "results.json").write_text(json.dumps(results))
    write_report(a)
    out = write_compare(a, b, tmp_path / "compare.html")
    browser.console_errors.clear()
    browser.open(out.as_uri())
    what_b = browser.eval("document.getElementById('what-b').textContent")
    assert "target emulator" in what_b and "planted bugs: relay" in what_b
    assert "planted bugs: none" in browser.eval("document.getElementById('what-a').textContent")
    keys = browser.eval("Array.from(document.querySelectorAll('table th')).map(t => t.textContent)")
    assert "target" in keys and "emulator_bugs" in keys
    open_report(browser, (a / "report.html").as_uri())
    group = browser.eval("document.querySelector('details.anomaly-group.evidence summary')"
                         ".textContent")
    assert "evidence the promise held" in group and "no-relay" in group
    assert "allowed by this mode" not in group
    assert browser.console_errors == []


def test_the_runs_page_fits_1400_px_with_an_endpoints_target(browser, tmp_path):
    store = tmp_path / "store"
    run = make_run(store, seed=55, mode="async", name="register-async",
                   timestamp="20261206T103000")
    test = json.loads((run / "test.json").read_text())
    test["target"] = ("endpoints:/home/someone/projects/a-rather-long-directory-name/"
                      "another-level/.gtcheck/emulator-state-file-for-this-machine.json")
    (run / "test.json").write_text(json.dumps(test))
    make_run(store, seed=56, mode="strong", name="register-strong", timestamp="20261206T103100")
    with serving(store) as srv:
        host, port = srv.server_address[:2]
        browser.console_errors.clear()
        browser.open(f"http://{host}:{port}/")
        assert browser.eval("window.innerWidth") == 1400
        assert browser.eval("document.documentElement.scrollWidth") <= 1400
        assert "emulator-state-file" in browser.eval(
            "document.getElementById('runs').textContent")
        # the run's files, as Jepsen's serve browses a test's directory, and its zip
        browser.open(f"http://{host}:{port}/runs/register-async/20261206T103000/")
        names = browser.eval("Array.from(document.querySelectorAll('#files td a'))"
                             ".map(a => a.textContent)")
        assert {"test.json", "history.jsonl", "results.json"} <= set(names)
        href = browser.eval("document.getElementById('zip-link').href")
        with urllib.request.urlopen(href, timeout=30) as r:
            assert r.headers["Content-Type"] == "application/zip"
            z = zipfile.ZipFile(io.BytesIO(r.read()))
        assert "register-async_20261206T103000/history.jsonl" in z.namelist()
        assert browser.console_errors == []


def test_conform_page_shows_whole_evidence_within_the_window(browser, tmp_path):
    from suite.conform import FAIL, PASS, Claim, clip_words, write_outputs
    message = ("One or more parameter values were invalid: the provided key element does "
               "not match the schema, and the table has no replica in the region asked "
               "for; " * 3)
    evidence = "ValidationException: " + clip_words(message, 300)
    claims = [Claim("A01", "a write is durable in its region first", "PutItem then SC "
                    "GetItem in the same region", PASS, "10 of 10 saw it"),
              Claim("M14", "multi-item transactions are rejected", "TransactWriteItems "
                    "of two items", FAIL, evidence)]
    _, page = write_outputs(tmp_path / "conform", "emulator", claims)
    browser.console_errors.clear()
    browser.open(page.as_uri())
    cells = browser.eval("Array.from(document.querySelectorAll('tr td:last-child'))"
                         ".map(td => td.textContent)")
    assert cells[-1] == evidence
    shown = cells[-1][len("ValidationException: "):]
    assert shown.endswith("…")
    kept = shown[:-1]
    assert message.startswith(kept) and message[len(kept)] in " ,;:"  # cut between words
    assert browser.eval("document.documentElement.scrollWidth") <= 1400
    assert browser.console_errors == []
