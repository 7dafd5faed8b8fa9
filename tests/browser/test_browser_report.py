"""Browser tests: generated reports and the serve page in headless Chromium.

They open real pages in Debian's chromium (driven over the DevTools protocol, see
cdp.py) and check what a person would see: the verdict, an anomaly explanation, a drawn
timeline, drawn plots, the counterexample diagram, a click on an operation link landing
on that operation in the timeline, and no JavaScript error in the console. One
screenshot per page is kept under the run directory (report.png, serve.png); the store
lives under pytest's kept temporary directory, or under $GTCHECK_BROWSER_ARTIFACTS.

Without chromium these tests FAIL with the command that installs it (they skip, saying
why, only when GTCHECK_NO_BROWSER=1: scripts/test.sh).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from results.report import write_report
from results.serve import make_server
from tests.browser.cdp import Browser, require_browser
from tests.results.fixtures import make_run

pytestmark = pytest.mark.slow

CANVAS_INK = """(function (c) {
  var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, ink = 0;
  for (var i = 0; i < d.length; i += 4 * 7)
    if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) ink++;
  return ink;
})"""


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = os.environ.get("GTCHECK_BROWSER_ARTIFACTS")
    root = Path(base) if base else tmp_path_factory.mktemp("browser") / "store"
    strong = make_run(root, seed=31, workload="register", mode="strong", valid=False,
                      name="register-strong", timestamp="20261128T100000")
    counter = make_run(root, seed=32, workload="counter", mode="async",
                       name="counter-async", timestamp="20261128T101000")
    for run in (strong, counter):
        write_report(run)
    return root


def open_report(browser: Browser, url: str) -> dict:
    browser.console_errors.clear()
    browser.open(url)
    state = browser.wait_for("window.gtcheckReport && window.gtcheckReport.ready && "
                             "window.gtcheckReport")
    return state


def test_invalid_report_renders(browser, store):
    run = store / "register-strong" / "20261128T100000"
    state = open_report(browser, (run / "report.html").as_uri())
    assert all("error" not in p for p in state["parts"].values()), state["parts"]
    verdict = browser.eval("document.getElementById('verdict').textContent")
    assert verdict.startswith("Invalid: 1 promise of Multi-Region Strong Consistency")
    explanation = browser.eval("document.querySelector('.anomaly .explanation').textContent")
    assert explanation.startswith("SC read of ") and "before the read began" in explanation
    assert browser.eval("getComputedStyle(document.getElementById('verdict')).color") == \
        "rgb(198, 40, 40)"
    # the timeline drew operations, with ink on its canvas
    drawn = int(browser.eval("document.getElementById('tl-canvas').dataset.drawn"))
    assert drawn == state["ops"]
    assert browser.eval(CANVAS_INK + "(document.getElementById('tl-canvas'))") > 1000
    # plots: 3 latency + throughput + availability, each with ink
    plots = browser.eval("document.querySelectorAll('#plots .uplot').length")
    assert plots == 5
    inks = browser.eval("Array.from(document.querySelectorAll('#plots .uplot canvas'))"
                        ".map(c => " + CANVAS_INK + "(c))")
    assert len(inks) == 5 and min(inks) > 200, inks
    # the counterexample diagram: bars, exactly one that cannot be placed
    assert browser.eval("document.querySelectorAll('#cx-diagram rect.cx-op').length") > 3
    assert browser.eval("document.querySelectorAll('#cx-diagram rect.failing').length") == 1
    browser.eval("window.scrollTo(0, 0)")
    shot = browser.screenshot(run / "report.png")
    assert shot.stat().st_size > 50_000
    # clicking an anomaly's operation link selects that operation in the timeline
    op = browser.eval("document.querySelector('.anomaly a.oplink').dataset.op")
    browser.eval("document.querySelector('.anomaly a.oplink').click()")
    detail = browser.eval("document.getElementById('tl-detail').textContent")
    assert detail.startswith(f"operation #{op} ")
    assert "involved in a reported violation" in detail
    # the zoom is drawn on the next animation frame (report.js `schedule`): wait for it
    # rather than read the window before a loaded machine has drawn it
    try:
        browser.wait_for("!document.getElementById('tl-window').textContent"
                         ".startsWith('window 0.000 s')", timeout_s=10)
    except TimeoutError:
        window = browser.eval("document.getElementById('tl-window').textContent")
        raise AssertionError(f"the timeline did not zoom to the operation: {window}") from None
    assert browser.console_errors == []


def test_counter_report_draws_counter_values(browser, store):
    run = store / "counter-async" / "20261128T101000"
    state = open_report(browser, (run / "report.html").as_uri())
    assert state["parts"]["counter"]["drawn"] is True
    assert browser.eval("document.getElementById('counter-section').hidden") is False
    series = browser.eval("Array.from(document.querySelectorAll('#plot-counter .u-legend "
                          ".u-series .u-label')).map(e => e.textContent)")
    assert "us-east-1 read value" in series and "increments acknowledged" in series
    assert browser.eval("document.getElementById('verdict').textContent").startswith("Valid")
    text = browser.eval("document.getElementById('anomalies').textContent")
    assert "lost-increment" in text and "allowed by this mode" in text
    browser.eval("window.scrollTo(0, 0)")
    browser.screenshot(run / "report.png")
    assert browser.console_errors == []


def test_serve_page_lists_runs_and_links_to_reports(browser, store):
    srv = make_server(store, "127.0.0.1", 0, access_log=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = srv.server_address[:2]
        browser.console_errors.clear()
        browser.open(f"http://{host}:{port}/")
        rows = browser.eval("Array.from(document.querySelectorAll('#runs tr.run'))"
                            ".map(r => r.dataset.verdict + ' ' + r.dataset.workload)")
        assert sorted(rows) == ["invalid register", "valid counter"]
        colour = browser.eval("getComputedStyle(document.querySelector('.badge.invalid'))"
                              ".backgroundColor")
        assert colour == "rgb(198, 40, 40)"
        browser.eval("window.scrollTo(0, 0)")
        run = store / "register-strong" / "20261128T100000"
        browser.screenshot(run / "serve.png", full_page=False)
        # ticking two runs and comparing them
        browser.eval("document.querySelectorAll('#runs input[name=run]').forEach(c => c.checked = true);"
                     "document.getElementById('compare').submit()")
        browser.wait_event("Page.loadEventFired")
        assert browser.eval("location.pathname") == "/compare"
        # 3 regions x (read, write of the register run + add of the counter run)
        assert browser.eval("document.querySelectorAll('#latency tbody tr').length") == 9
        assert browser.eval("document.getElementById('verdict-a').textContent") in ("valid", "invalid")
        browser.open(f"http://{host}:{port}/")
        # filtering through the page's own form
        browser.eval("var s = document.querySelector('select[name=verdict]'); "
                     "s.value = 'invalid'; s.dispatchEvent(new Event('change'))")
        browser.wait_event("Page.loadEventFired")
        rows = browser.eval("Array.from(document.querySelectorAll('#runs tr.run'))"
                            ".map(r => r.dataset.verdict)")
        assert rows == ["invalid"]
        assert browser.console_errors == []
        # and the report through the server
        href = browser.eval("document.querySelector('#runs tr.run a').href")
        state = open_report(browser, href)
        assert state["ready"] is True
        assert browser.eval("document.getElementById('verdict').dataset.verdict") == "invalid"
        assert browser.console_errors == []
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("missing", ["results.json", "history.jsonl"])
def test_partial_run_reports_open_without_errors(browser, tmp_path, missing):
    run = make_run(tmp_path / "store", seed=33, workload="counter", mode="strong", valid=True,
                   name=f"partial-no-{missing.split('.')[0]}", timestamp="20261128T102000")
    (run / missing).unlink()
    write_report(run)
    state = open_report(browser, (run / "report.html").as_uri())
    assert all("error" not in p for p in state["parts"].values()), state["parts"]
    problems = browser.eval("document.getElementById('problems').textContent")
    assert f"{missing} is missing" in problems
    if missing == "history.jsonl":
        assert browser.eval("document.getElementById('tl-canvas')") is None
    else:
        assert browser.eval("document.getElementById('verdict').textContent") == \
            "No verdict: this run has no checker results yet."
        assert browser.eval("document.querySelectorAll('#plots .uplot').length") >= 5
    assert browser.console_errors == []
