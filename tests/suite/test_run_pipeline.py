"""`suite.core` and the `run` / `analyze` commands, in process, over the fake target,
workload and nemesis of runner_fakes (the pipeline is under test, not a database)."""

from __future__ import annotations

import json

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
    """Each test registers into copies of the registries, restored afterwards."""
    for name in ("TARGETS", "WORKLOADS", "NEMESES"):
        monkeypatch.setattr(registry, name, dict(getattr(registry, name)))
    register_fakes()


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
    assert json.loads(d.results_json.read_text())["run"]["ops"] == len(ops)
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
    (["--concurrency", "0"], "--concurrency must be an integer >= 1"),
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
    # Even so, the run directory holds the config and (empty) judged results.
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert "port 8000 in use" in results["run"]["errors"][0]
    r = CliRunner().invoke(main, ["run", "--target", "broken", "--workload", "fake-register",
                                  "--store", str(tmp_path)])
    assert r.exit_code == 3 and "port 8000 in use" in r.output


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
