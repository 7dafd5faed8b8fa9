"""Issue 13 (finding 17) in headless Chromium: a strong run with several keys that have
no linearization draws one counterexample diagram per key, each of that key's own
operations, with exactly one operation that cannot be placed, labels inside their boxes,
and no console error."""

from __future__ import annotations

import json

import pytest

from results.report import write_report
from tests.browser.test_browser_report import browser, open_report  # noqa: F401 -- fixture
from tests.browser.test_browser_what_a_user_sees import labels_past_their_boxes
from tests.results.many_bad_keys import make_run_with_bad_keys

pytestmark = pytest.mark.slow


def test_one_diagram_per_non_linearizable_key(browser, tmp_path):
    run, planted = make_run_with_bad_keys(tmp_path / "store", n_keys=3)
    write_report(run)
    state = open_report(browser, (run / "report.html").as_uri())
    assert state["parts"]["counterexample"] == {**state["parts"]["counterexample"],
                                                "drawn": True}
    sections = browser.eval("Array.from(document.querySelectorAll('section.counterexample'))"
                            ".map(s => [s.dataset.key, s.querySelectorAll('svg').length, "
                            "s.querySelectorAll('rect.cx-op.failing').length, "
                            "s.querySelector('rect.cx-op.failing').dataset.op])")
    assert sorted(k for k, *_ in sections) == sorted(planted)
    for key, svgs, failing, op in sections:
        assert svgs == 1 and failing == 1, (key, svgs, failing)
        assert int(op) == planted[key], (key, op)   # the impossible read, on that key
    # every operation drawn in a key's diagram is an operation of that key
    results = json.loads((run / "results.json").read_text())
    by_index = {}
    for line in (run / "history.jsonl").read_text().splitlines():
        op = json.loads(line)
        by_index[op["index"]] = op.get("key")
    drawn = browser.eval("Array.from(document.querySelectorAll('section.counterexample'))"
                         ".map(s => [s.dataset.key, Array.from(s.querySelectorAll("
                         "'rect.cx-op')).map(r => Number(r.dataset.op))])")
    for key, ops in drawn:
        assert ops and {by_index[i] for i in ops} == {key}, key
    # labels stay inside their boxes in every diagram
    assert browser.eval(labels_past_their_boxes(".cx-diagram")) == 0
    # each anomaly of the checker links to its key's counterexample
    links = browser.eval("Array.from(document.querySelectorAll('a.cxlink'))"
                         ".map(a => a.getAttribute('href'))")
    assert len(links) == len(planted) and len(set(links)) == len(planted)
    assert results.get("checkers", results)["linearizability"]["valid"] is False
    assert browser.console_errors == []
