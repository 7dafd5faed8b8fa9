"""Issue 25, "Runs": what a user sees of a run's shape. Every requested nemesis package
acts and the summary counts each fault; the main phase ends at its time limit (what is in
flight then is `info` within a bounded grace); a planted bug that does nothing in the
chosen mode is refused; endpoints are probed before the store is touched; and the CLI's
small habits (bare `gtcheck`, `--model` names, `--hot-keys`, one final heal, the verdict
before the plots)."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from nemesis.packages import turn_interval_s, turns_note
from results.history import HistoryWriter, read_jsonl
from suite import generator as g
from suite.cli import main
from suite.config import Test
from suite.errors import BadInput
from suite.runner import LIMIT_GRACE_S, Runner
from tests.suite.runner_fakes import FakeClient, FakeDB

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def test_four_packages_in_twenty_seconds_all_get_a_turn():
    # at 5 s the fourth family would begin at 35 s: the turns shrink so it begins in time
    used = turn_interval_s(5.0, 4, 20.0)
    assert used < 5.0 and (2 * 4 - 1) * used < 20.0
    assert turn_interval_s(5.0, 1, 30.0) == 5.0 and turn_interval_s(5.0, 2, 30.0) == 5.0
    note = turns_note(["isolate", "link", "slow", "pause"], 5.0, 20.0)
    assert "only 2 of them would act" in note and f"{used:.2f} s" in note
    assert turns_note(["isolate"], 5.0, 30.0) is None


def test_every_requested_package_acts_and_the_summary_counts_each(tmp_path):
    """The issue's run, shortened in time only (same 4 packages, same 5 s interval):
    every package acts at least once and the summary says how often; one final heal."""
    r = CliRunner().invoke(main, [
        "run", "--nemesis", "isolate,link,slow,pause", "--time-limit", "8", "--seed", "3",
        "--latency-scale", "0.1", "--rate", "20", "--store", str(tmp_path / "store"),
        "--final-wait", "0.2"])
    assert r.exit_code in (0, 1, 2), r.output
    assert "the turns are shortened" in r.output
    line = next(x for x in r.output.splitlines() if x.startswith("faults: "))
    for name in ("isolate", "link (cut)", "slow", "pause"):
        assert f"{name} " in line, line
    assert "never acted" not in line, line
    results = json.loads(next((tmp_path / "store").glob("*/*/results.json")).read_text())
    assert all(results["run"]["faults"].get(f, 0) >= 1
               for f in ("isolate", "cut", "slow", "pause")), results["run"]["faults"]
    history = read_jsonl(next((tmp_path / "store").glob("*/*/history.jsonl")))
    final_heals = [op for op in history if op.process == "nemesis" and op.f == "heal"
                   and op.type == "invoke" and op.time / 1e9 >= results["run"]["main_phase_s"]]
    assert len(final_heals) == 1
    lines = r.output.splitlines()
    final = next(i for i, x in enumerate(lines) if x.startswith("main phase over"))
    assert [x for x in lines[final:] if x.startswith("nemesis: heal")] != []
    assert len([x for x in lines[final:] if x.startswith("nemesis: heal")]) == 1
    lines = r.output.splitlines()
    verdict = next(i for i, x in enumerate(lines) if x.startswith("verdict:"))
    plots = next(i for i, x in enumerate(lines) if x.startswith("plots:"))
    assert verdict < plots


def test_the_main_phase_ends_at_the_time_limit_plus_a_bounded_grace(tmp_path):
    db = FakeDB()
    writer = HistoryWriter(tmp_path / "history.jsonl")
    runner = Runner(None, client=FakeClient(db), nemesis=None, history=writer,
                    regions=REGIONS, concurrency=2, op_timeout_s=30.0)
    try:
        t0 = time.monotonic()
        outcome = runner.run(g.clients([{"f": "hang"}, {"f": "write", "key": "k",
                                                        "value": 1}]), time_limit_s=0.3)
        elapsed = time.monotonic() - t0
    finally:
        db.release.set()
    writer.close()
    ops = read_jsonl(writer.path)
    hang = [op for op in ops if op.f == "hang" and op.type != "invoke"]
    assert [(op.type, op.error) for op in hang] == [("info", "time-limit")]
    # not the 30 s operation timeout: the limit, then at most the grace (plus slack for
    # a loaded machine)
    assert 0.3 + LIMIT_GRACE_S - 0.05 <= hang[0].time / 1e9 < 0.3 + LIMIT_GRACE_S + 5
    assert outcome.main_phase_s < 0.3 + LIMIT_GRACE_S + 5 and elapsed < 15
    assert outcome.timeouts == 0


def test_a_bug_switch_that_does_nothing_in_the_mode_is_refused(tmp_path):
    r = CliRunner().invoke(main, ["run", "--emulator-bug", "lww-arrival-order",
                                  "--time-limit", "1", "--store", str(tmp_path / "s")])
    assert r.exit_code == 3
    assert "does nothing in --mode strong" in r.output and "--mode async" in r.output
    assert not (tmp_path / "s").exists()
    with pytest.raises(BadInput, match="--mode strong"):
        Test(mode="async", emulator_bugs=("sc-read-no-fence",))
    t = Test(mode="async", nemesis=("isolate",), emulator_bugs=("lww-arrival-order",))
    assert t.name == "register-async-isolate-bug_lww-arrival-order"


def test_a_dead_endpoint_fails_before_the_store_is_touched(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    state = tmp_path / "dead.json"
    state.write_text(json.dumps({"regions": {r: f"http://127.0.0.1:{port}"
                                             for r in REGIONS}}))
    r = CliRunner().invoke(main, ["run", "--target", f"endpoints:{state}", "--mode",
                                  "async", "--time-limit", "1", "--store",
                                  str(tmp_path / "store")])
    assert r.exit_code == 3, r.output
    assert "does not answer" in r.output
    assert not (tmp_path / "store").exists()


def test_bare_gtcheck_prints_help_and_exits_0():
    r = CliRunner().invoke(main, [])
    assert r.exit_code == 0
    assert r.output.startswith("Usage: ") and "error" not in r.output


def test_an_unknown_model_is_answered_with_every_model(tmp_path):
    f = tmp_path / "h.jsonl"
    f.write_text('{"index":0,"time":1,"type":"invoke","process":0,"f":"read","key":"k"}\n'
                 '{"index":1,"time":2,"type":"ok","process":0,"f":"read","key":"k"}\n')
    r = CliRunner().invoke(main, ["check", "--model", "nope", str(f)])
    assert r.exit_code == 3
    for m in ("register", "cas-register", "counter", "set", "kv", "list-append",
              "rw-register", "bank", "set-full", "long-fork"):
        assert m in r.output, m
    assert r.output.count("gtcheck: error:") == 1


def test_more_hot_keys_than_keys_is_refused(tmp_path):
    r = CliRunner().invoke(main, ["run", "--hot-keys", "100", "--keys", "8",
                                  "--store", str(tmp_path / "s")])
    assert r.exit_code == 3 and "--hot-keys 100 is more than --keys 8" in r.output
    assert not (tmp_path / "s").exists()
    Test(keys=1)  # the default --hot-keys 2 with one key is fine
