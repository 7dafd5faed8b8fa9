"""Issue 25, findings 12 and 14 outside the browser: the terminal comparison names each
run's target and planted bugs; no-relay is listed as evidence a promise held, not as an
allowed anomaly; conform's evidence is cut at a word, never mid-word; and Jepsen's habits
in the store (a per-test `latest` link, `analyze` with no argument takes the newest run,
a run's directory as a zip)."""

from __future__ import annotations

import io
import json
import os
import zipfile

from click.testing import CliRunner

from results.browse import dir_listing, zip_run
from results.compare import compare_runs, compare_text
from results.store import Store
from suite.cli import main
from suite.conform import clip_words
from suite.config import Test
from suite.core import RunResult, summary
from tests.results.fixtures import make_run


def test_compare_text_names_target_and_planted_bugs(tmp_path):
    a = make_run(tmp_path / "s", seed=61, mode="async", name="a", timestamp="20261206T110000")
    b = make_run(tmp_path / "s", seed=62, mode="async", name="b", timestamp="20261206T110100")
    t = json.loads((b / "test.json").read_text())
    t.update(target="endpoints:/x/state.json", emulator_bugs=["lww-arrival-order"])
    (b / "test.json").write_text(json.dumps(t))
    text = compare_text(compare_runs(a, b))
    first, second = text.splitlines()[:2]
    assert "planted bugs: none" in first and "target " in first
    assert "target endpoints:/x/state.json" in second
    assert "planted bugs: lww-arrival-order" in second


def test_no_relay_is_evidence_not_an_allowed_anomaly(tmp_path):
    results = {"valid": True, "checkers": {
        "no-relay": {"valid": True, "anomaly_counts": {"no-relay": 5}, "anomalies": [
            {"kind": "no-relay", "expected": True, "key": "k", "region": "us-east-2",
             "ops": [], "explanation": "..."}]},
        "stale-reads": {"valid": True, "anomaly_counts": {"stale-read": 2}, "anomalies": [
            {"kind": "stale-read", "expected": True, "key": "k", "region": "us-east-2",
             "ops": [], "explanation": "..."}]}}, "run": {}}
    run = make_run(tmp_path / "s", seed=63, mode="async", name="r", timestamp="20261206T111000")
    from results.store import RunDir
    text = summary(RunResult(RunDir(run), results), Test(mode="async", seed=1))
    lines = text.splitlines()
    allowed = next(x for x in lines if x.startswith("anomalies the mode allows"))
    assert "stale-read=2" in allowed and "no-relay" not in allowed
    assert "evidence a promise held (not anomalies): no-relay=5" in lines
    assert "  no-relay: held (no-relay: 5)" in lines


def test_conform_evidence_is_cut_at_a_word():
    text = "The provided key element does not match the schema of the table " * 10
    cut = clip_words(text, 120)
    assert len(cut) <= 120 and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "  # a whole word before
    assert clip_words("short", 120) == "short"


def test_a_per_test_latest_link_and_analyze_without_an_argument(tmp_path):
    store = Store(tmp_path / "store")
    first = store.new_run("register-strong")
    second = store.new_run("register-strong")
    other = store.new_run("counter-async")
    assert (store.root / "register-strong" / "latest").resolve() == second.path.resolve()
    assert (store.root / "counter-async" / "latest").resolve() == other.path.resolve()
    assert os.readlink(store.root / "register-strong" / "latest") == second.path.name
    for rd in (first, second, other):
        rd.write_test({})
    assert len(list(store.runs())) == 3  # the links are not runs
    r = CliRunner().invoke(main, ["analyze", "--store", str(tmp_path / "none")])
    assert r.exit_code == 3 and "names no run" in r.output


def test_analyze_without_an_argument_takes_the_latest_run(tmp_path, monkeypatch):
    r = CliRunner().invoke(main, ["run", "--time-limit", "1", "--latency-scale", "0.1",
                                  "--seed", "7", "--store", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    run_dir = next(line.split(": ", 1)[1] for line in r.output.splitlines()
                   if line.startswith("run directory: "))
    results = tmp_path / "store" / "latest" / "results.json"
    results.unlink()
    r = CliRunner().invoke(main, ["analyze", "--store", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    assert f"run directory: {run_dir}" in r.output and results.exists()


def test_a_run_directory_zips_whole_and_skips_symlinks(tmp_path):
    run = make_run(tmp_path / "s", seed=64, name="z", timestamp="20261206T112000")
    (run / "outside").symlink_to("/etc/hostname")
    names = [f["name"] for f in dir_listing(run)]
    assert "history.jsonl" in names and "outside" not in names
    z = zipfile.ZipFile(io.BytesIO(zip_run(run, "z_run")))
    assert sorted(z.namelist()) == sorted(f"z_run/{n}" for n in names)
    assert z.read("z_run/history.jsonl") == (run / "history.jsonl").read_bytes()


def test_a_counterexample_with_nothing_concurrent_says_so():
    from checkers.linearizability import check
    from results.history import make_op
    ops = [make_op(0, 1, "invoke", 0, "write", "k", 1, "r1", True, None),
           make_op(1, 2, "ok", 0, "write", "k", 1, "r1", True, None),
           make_op(2, 3, "invoke", 1, "read", "k", None, "r1", True, None),
           make_op(3, 4, "ok", 1, "read", "k", 2, "r1", True, None)]
    res = check(ops, "register")
    assert res["valid"] is False
    text = json.dumps(res)
    assert "0 concurrent" not in text
    assert "no other operation is concurrent with it" in text


def test_latency_png_marks_answered_no_apart_from_failures(tmp_path, monkeypatch):
    """latency.png: a request refused on its merits is its own kind, labelled as such."""
    from results import plots
    from results.history import make_op, pair
    ops = [make_op(0, 1, "invoke", 0, "cas", "k", [1, 2], "r1", True, None),
           make_op(1, 2, "fail", 0, "cas", "k", [1, 2], "r1", True, "ConditionalCheckFailed"),
           make_op(2, 3, "invoke", 1, "write", "k", 3, "r1", True, None),
           make_op(3, 4, "fail", 1, "write", "k", 3, "r1", True, "ThrottlingException")]
    kinds = [plots.completion_kind(p) for p in pair(ops)]
    assert kinds == ["answered", "fail"]
    run = make_run(tmp_path / "s", seed=65, name="p", timestamp="20261206T113000")
    with open(run / "history.jsonl", "a") as fh:  # one refused cas at the end
        last = sum(1 for _ in open(run / "history.jsonl"))
        t = 10 ** 11
        for i, (typ, err) in enumerate((("invoke", None), ("fail", "ConditionalCheckFailed"))):
            fh.write(json.dumps({"index": last + i, "time": t + i, "type": typ,
                                 "process": 99, "f": "cas", "key": "k0", "value": [1, 2],
                                 "region": "us-east-1", "consistent": True,
                                 "error": err}) + "\n")
    labels = []
    import matplotlib.axes
    real = matplotlib.axes.Axes.scatter
    monkeypatch.setattr(matplotlib.axes.Axes, "scatter",
                        lambda self, *a, **kw: labels.append(kw.get("label")) or
                        real(self, *a, **kw))
    plots.write_plots(run)
    assert "answered no (condition failed / conflict)" in labels
