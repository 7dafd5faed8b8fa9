"""Issue 13 in headless Chromium: the report's timeline has a colour legend and fault
periods coloured by type and named; plot legends hold no "--" placeholders; the allowed
anomalies are folded; counterexample labels stay inside their boxes; a key link draws
that key alone; and the runs page fits 1,400 px with its Files column visible."""

from __future__ import annotations

import json

import pytest

from results.report import write_report
from tests.browser.test_browser_report import browser, open_report  # noqa: F401 -- fixture
from tests.results.fixtures import make_run, serving

pytestmark = pytest.mark.slow


def labels_past_their_boxes(diagrams: str) -> str:
    """JS: how many operation labels in the counterexample diagrams matching the CSS
    selector `diagrams` run past the right edge of their operation's box."""
    return f"""Array.from(document.querySelectorAll('{diagrams} text'))
        .filter(t => t.previousSibling && t.previousSibling.tagName === 'rect')
        .filter(t => t.getBBox().x + t.getBBox().width >
                     t.previousSibling.getBBox().x + t.previousSibling.getBBox().width + 1)
        .length"""


def test_timeline_legends_fault_colours_and_no_placeholders(browser, tmp_path):
    run = make_run(tmp_path / "store", seed=41, workload="register", mode="strong",
                   valid=False, name="register-strong", timestamp="20261130T100000")
    write_report(run)
    state = open_report(browser, (run / "report.html").as_uri())
    assert all("error" not in p for p in state["parts"].values()), state["parts"]
    legend = browser.eval("document.getElementById('tl-legend').textContent")
    for words in ("read (ok)", "write (ok)", "failed", "unknown (info)", "never completed",
                  "nemesis", "in a reported violation"):
        assert words in legend, legend
    assert "isolate" in browser.eval("document.getElementById('tl-faults').textContent")
    legends = browser.eval("Array.from(document.querySelectorAll('.u-legend')).map(e => "
                           "e.textContent).join(' ')")
    assert legends and "--" not in legends, legends
    # the counterexample's labels never run past their operation's box
    assert browser.eval(labels_past_their_boxes("#cx-diagram")) == 0
    assert browser.console_errors == []


def test_allowed_anomalies_are_folded_and_a_key_link_draws_that_key(browser, tmp_path):
    run = make_run(tmp_path / "store", seed=42, workload="register", mode="async",
                   name="register-async", timestamp="20261130T101000")
    results = json.loads((run / "results.json").read_text())
    checkers = results.get("checkers", results)
    checkers["linearizability-violations"] = {
        "valid": True, "anomaly_counts": {"nonlinearizable": 1},
        "anomalies": [{"kind": "nonlinearizable", "expected": True, "key": "k2",
                       "region": None, "ops": [],
                       "explanation": "The SC history of k2 has no linearization"}]}
    (run / "results.json").write_text(json.dumps(results))
    write_report(run)
    open_report(browser, (run / "report.html").as_uri())
    folded = browser.eval("Array.from(document.querySelectorAll('details.anomaly-group."
                          "expected')).map(d => d.open)")
    assert folded and not any(folded)
    drawn_all = int(browser.eval("document.getElementById('tl-canvas').dataset.drawn"))
    browser.eval("document.querySelector('a.keylink[data-key=k2]').click()")
    browser.wait_for("!document.getElementById('tl-key').hidden")
    browser.wait_for(f"Number(document.getElementById('tl-canvas').dataset.drawn) < {drawn_all}")
    assert "key k2" in browser.eval("document.getElementById('tl-key').textContent")
    assert browser.console_errors == []


def test_the_runs_page_fits_1400_px(browser, tmp_path):
    store = tmp_path / "store"
    for seed, mode in ((43, "strong"), (44, "async")):
        make_run(store, seed=seed, mode=mode, name=f"register-{mode}-with-a-long-test-name",
                 timestamp=f"20261130T10{seed}00")
    with serving(store) as srv:
        host, port = srv.server_address[:2]
        browser.console_errors.clear()
        browser.open(f"http://{host}:{port}/")
        assert browser.eval("window.innerWidth") == 1400
        assert browser.eval("document.documentElement.scrollWidth") <= 1400
        right = browser.eval("Math.max(...Array.from(document.querySelectorAll("
                             "'#runs td.files')).map(td => td.getBoundingClientRect().right))")
        assert right <= 1400
        heads = browser.eval("Array.from(document.querySelectorAll('#runs thead th'))"
                             ".map(th => th.textContent.trim())")
        for title in ("Target", "Duration s", "Ops", "Seed", "Verdict", "Files"):
            assert title in heads, heads
        assert browser.console_errors == []
