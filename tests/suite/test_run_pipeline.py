"""`suite.core` and the `run` / `analyze` commands, in process, over the fake target,
workload and nemesis of runner_fakes (the pipeline is under test, not a database)."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from checkers.core import FnChecker
from results.history import read_jsonl
from results.store import Store
from suite import core, registry
from suite.cli import main
from suite.config import Test
from suite.errors import BadInput, SetupError
from suite.protocols import Workload
from tests.suite import runner_fakes
from tests.suite.runner_fakes import FakeClient, FakeDB, register_fakes


@pytest.fixture(autouse=True)
def fake_registries(monkeypatch):
    runner_fakes.isolated_registries(monkeypatch)


def short_test(**kw):
    base = dict(workload="fake-register", target="fake", nemesis=("fake-isolate",), seed=7,
                time_limit=0.3, final_wait=0.01, concurrency=3)
    return Test(**{**base, **kw})


def test_run_test_stores_everything_and_tears_down(tmp_path):
    result = core.run_test(short_test(), store=Store(tmp_path))
    assert result.valid is True and not result.interrupted and result.errors == []
    d = result.run_dir
    assert (tmp_path / "latest").resolve() == d.path
    assert d.path.parent.name == "fake-register-strong-fake-isolate"
    assert json.loads(d.test_json.read_text())["nemesis"] == ["fake-isolate"]
    ops = read_jsonl(d.history)
    run = json.loads(d.results_json.read_text())["run"]
    assert run["records"] == len(ops)
    assert run["ops"] == sum(1 for o in ops if o.type == "invoke" and o.process != "nemesis")
    assert json.loads(d.versions_json.read_text())["us-east-1"]["k0"]["value"] == 1
    target = runner_fakes.LAST["target"]
    assert target.events == ["setup", "create fake", "delete fake", "teardown"]
    assert runner_fakes.LAST["nemesis"].torn_down
    assert sorted(runner_fakes.DB.setups[-3:]) == sorted(short_test().regions)
    assert sorted(runner_fakes.DB.teardowns[-3:]) == sorted(short_test().regions)


def test_checker_results_decide_the_exit_code(tmp_path, monkeypatch):
    def lost_write(test, history, opts):
        return {"valid": False, "anomaly_counts": {"lost-write": 2},
                "saw_versions": opts.get("versions") is not None}

    registry.register_workload("fake-broken", runner_fakes.build_workload,
                               lambda test: {"lost": FnChecker(lost_write)})
    r = CliRunner().invoke(main, ["run", "--target", "fake", "--workload", "fake-broken",
                                  "--time-limit", "0.2", "--final-wait", "0",
                                  "--seed", "12", "--store", str(tmp_path)])
    assert r.exit_code == 1, r.output
    assert "verdict: INVALID" in r.output and "lost-write=2" in r.output
    assert "reproduce with seed=12" in r.output
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert results["valid"] is False
    assert results["checkers"]["lost"]["saw_versions"] is True
    assert results["checkers"]["stats"]["valid"] is True


def test_run_makes_its_records_durable_before_it_returns(tmp_path, monkeypatch):
    # issue 23: the records are fsynced by a background thread (results/durable.py),
    # all of them before the command returns; results.json is made again by analyze
    from pathlib import Path

    from results import durable
    synced = []
    monkeypatch.setattr(durable, "fsync_path", lambda p: synced.append(Path(p).name))
    r = CliRunner().invoke(main, ["run", "--target", "fake", "--workload", "fake-register",
                                  "--time-limit", "0.2", "--final-wait", "0",
                                  "--seed", "12", "--store", str(tmp_path)])
    assert r.exit_code in (0, 1, 2), r.output
    assert sorted(synced) == ["history.jsonl", "test.json", "versions.json"]
    plots = [x for x in r.output.splitlines() if x.startswith("plots: ")]
    run_dir = (tmp_path / "latest").resolve()
    assert len(plots) == 1 and str(run_dir / "latency.png") in plots[0], r.output


def test_analyze_rejudges_a_stored_run(tmp_path):
    first = core.run_test(short_test(workload="fake-register"), store=Store(tmp_path))
    # Change the workload's checker set, then analyze the same history again.
    registry.register_workload("fake-register", runner_fakes.build_workload,
                               lambda test: {"boom": FnChecker(lambda t, h, o: 1 / 0)})
    r = CliRunner().invoke(main, ["analyze", str(tmp_path / "latest")])
    assert r.exit_code == 2, r.output  # a crashing checker is "unknown", not a crash
    results = json.loads(first.run_dir.results_json.read_text())
    assert results["valid"] == "unknown"
    assert "ZeroDivisionError" in results["checkers"]["boom"]["error"]
    assert results["run"]["analyzed"] is True


def test_analyze_of_a_bad_directory_exits_3(tmp_path):
    r = CliRunner().invoke(main, ["analyze", str(tmp_path)])
    assert r.exit_code == 3 and "not a run directory" in r.output


@pytest.mark.parametrize("args,words", [
    (["--workload", "nope"], "unknown workload 'nope' (known: "),
    (["--workload", "fake-register", "--target", "moon"], "unknown target 'moon'"),
    (["--workload", "fake-register", "--target", "fake", "--nemesis", "meteor"],
     "unknown nemesis 'meteor'"),
    (["--mode", "eventual"], "Invalid value for '--mode'"),
    (["--regions", "us-east-1,us-east-1"], "distinct region"),
    (["--concurrency", "0"], "--concurrency must be an integer from 1 to 1000"),
])
def test_run_rejects_bad_names_and_options_with_exit_3(tmp_path, args, words):
    r = CliRunner().invoke(main, ["run", *args, "--store", str(tmp_path)])
    assert r.exit_code == 3, r.output
    assert words in r.output and "Traceback" not in r.output
    assert not (tmp_path / "latest").exists()  # nothing started


def test_a_target_that_fails_to_start_is_a_setup_error(tmp_path):
    class Broken(runner_fakes.FakeTarget):
        def setup(self, test):
            raise OSError("port 8000 in use")

    registry.register_target("broken", Broken)
    with pytest.raises(SetupError, match="port 8000 in use"):
        core.run_test(short_test(target="broken"), store=Store(tmp_path))
    # The run directory says the run failed during set-up: no checker ran, so no promise
    # is said to hold, and the verdict is unknown with the reason.
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert "port 8000 in use" in results["run"]["setup_error"]
    assert results["valid"] == "unknown" and results["checkers"] == {}
    assert results["reason"].startswith("set-up failed: ")
    assert "could not be set up" in (tmp_path / "latest" / "run.log").read_text()
    assert "This run failed during set-up" in (tmp_path / "latest" / "report.html").read_text()
    r = CliRunner().invoke(main, ["run", "--target", "broken", "--workload", "fake-register",
                                  "--store", str(tmp_path)])
    assert r.exit_code == 3 and "port 8000 in use" in r.output
    assert r.output.count("port 8000 in use") == 1  # said once, not twice


def test_a_client_that_cannot_open_fails_its_operations(tmp_path):
    class NoOpen(FakeClient):
        def open(self, test, region):
            raise ConnectionRefusedError("no route")

    def build(test, target):
        return Workload(client=NoOpen(FakeDB()), generator=[{"f": "read", "key": "k"}],
                        table=None)

    registry.register_workload("no-open", build, lambda test: {})
    with pytest.raises(SetupError, match="no route"):
        core.run_test(short_test(workload="no-open", nemesis=()), store=Store(tmp_path))


def test_test_config_round_trips_through_test_json():
    t = short_test().stamped(argv=("gtcheck", "run"))
    assert Test.from_json(json.loads(json.dumps(t.to_json()))) == t
    assert set(t.to_json()) >= {"name", "target", "mode", "workload", "nemesis", "regions",
                                "witness", "seed", "time_limit", "concurrency", "rate",
                                "keys", "latency_scale", "nemesis_interval", "start_time",
                                "versions", "argv"}
    assert t.versions["python"] and "boto3" in t.versions
    with pytest.raises(BadInput, match="regions must be a list"):
        Test.from_json({"regions": "us-east-1"})
    with pytest.raises(BadInput, match="witness"):
        Test(regions=("us-east-1", "us-east-2"), witness="us-east-2")


def test_signals_stop_then_abort_then_quit_and_handlers_are_restored():
    import signal
    import threading

    before = signal.getsignal(signal.SIGTERM)
    stop, abort = threading.Event(), threading.Event()
    messages = []
    with pytest.raises(KeyboardInterrupt):
        with core.stop_on_signals(stop, abort, log=messages.append):
            signal.raise_signal(signal.SIGTERM)
            assert stop.is_set() and not abort.is_set()
            signal.raise_signal(signal.SIGINT)
            assert abort.is_set()
            signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    assert messages[0].startswith("SIGTERM: stopping") and messages[1].startswith("SIGINT: abort")


def test_a_run_keeps_its_own_log(tmp_path):
    said = []
    result = core.run_test(short_test(), store=Store(tmp_path), log=said.append,
                           progress=said.append)
    lines = result.run_dir.run_log.read_text().splitlines()
    assert lines[0].endswith(f"in {result.run_dir.path}") and "gtcheck: running" in lines[0]
    assert lines[-1].endswith("gtcheck: done: verdict=VALID ops=%d ok=%d fail=0 info=0 "
                              "interrupted=False errors=0"
                              % (result.results["run"]["ops"], result.results["run"]["ok"]))
    # What the caller was told is in the file too, in the same order, with a UTC stamp.
    assert [line.split("Z ", 1)[1] for line in lines] == said
    assert all(line[:4].isdigit() and line[10] == "T" for line in lines)


def test_the_run_log_takes_gtcheck_log_records_only_while_open(tmp_path, caplog):
    path = tmp_path / "run.log"
    with core.RunLog(path) as run_log:
        run_log.write("one")
        logging.getLogger("gtcheck.emulator").error("request failed in %s", "us-east-1")
        logging.getLogger("elsewhere").error("not ours")
    logging.getLogger("gtcheck.emulator").error("after the run")
    text = path.read_text()
    assert "Z one\n" in text
    assert "ERROR gtcheck.emulator: request failed in us-east-1\n" in text
    assert "not ours" not in text and "after the run" not in text
    # The record still reaches the handlers it reached before the run log existed.
    assert "request failed in us-east-1" in caplog.text


def test_with_no_other_handler_run_log_records_still_reach_stderr(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setattr(logging.getLogger("gtcheck"), "propagate", False)
    with core.RunLog(tmp_path / "run.log"):
        logging.getLogger("gtcheck.emulator").error("handler failed")
    assert "handler failed" in capsys.readouterr().err
    assert "handler failed" in (tmp_path / "run.log").read_text()


def test_the_complete_history_is_handed_on_before_it_is_judged(tmp_path, monkeypatch):
    """`on_history` (the plots of `gtcheck run` are drawn meanwhile) sees the history
    file complete and closed, once, as soon as the runner is done: before the item
    versions are collected, the table deleted, the target torn down or any checker run
    (issue 23: the plots are drawn while those go on); never after a failed set-up."""
    handed, judged, stages = [], [], []
    real_judge = core.judge

    def judge(*a, **k):
        judged.append(len(handed))
        return real_judge(*a, **k)
    monkeypatch.setattr(core, "judge", judge)
    for stage in ("versions", "delete_table", "teardown"):
        real = getattr(runner_fakes.FakeTarget, stage)

        def timed(self, *a, real=real, stage=stage):
            stages.append((stage, len(handed)))
            return real(self, *a)
        monkeypatch.setattr(runner_fakes.FakeTarget, stage, timed)

    def on_history(path):
        handed.append((path, len(read_jsonl(path / "history.jsonl"))))
    result = core.run_test(short_test(), store=Store(tmp_path), on_history=on_history)
    assert handed == [(result.run_dir.path, result.results["run"]["records"])]
    assert judged == [1]  # judged after it was handed on
    assert stages == [("versions", 1), ("delete_table", 1), ("teardown", 1)]

    class Broken(runner_fakes.FakeTarget):
        def setup(self, test):
            raise OSError("port 8000 in use")
    registry.register_target("broken", Broken)
    with pytest.raises(SetupError):
        core.run_test(short_test(target="broken"), store=Store(tmp_path),
                      on_history=on_history)
    assert len(handed) == 1
