"""`gtcheck test-all` (suite/battery.py, suite/test_all_cmd.py): the battery is every
registered workload against every registered nemesis package and the no-fault run; its
exit status follows the README's rule; an interrupted battery still reports.

The first tests drive `run_battery` with a stand-in for `core.run_test` (the unit under
test is the battery's bookkeeping); the last runs a real small battery through the CLI
against the embedded emulator.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from results.store import RunDir, Store
from suite import battery, core, registry
from suite.cli import main
from suite.errors import BadInput, SetupError


def test_the_plan_is_every_registered_workload_by_every_nemesis_and_none(monkeypatch):
    registry.load_plugins()
    monkeypatch.setitem(registry.NEMESES, "zz-new-fault", lambda test, target: None)
    monkeypatch.setitem(registry.WORKLOADS, "zz-new-workload",
                        registry.WorkloadEntry(lambda t, tg: None, lambda t: {}))
    plan = battery.plans(["async", "strong"])
    workloads = sorted(registry.WORKLOADS)
    nemeses = sorted(n for n in registry.NEMESES if registry.nemesis_runs_on(n, "emulator"))
    assert len(plan) == 2 * len(workloads) * (1 + len(nemeses))
    assert battery.Plan("strong", "zz-new-workload", "zz-new-fault") in plan
    assert battery.Plan("async", "set-full", "none") in plan
    assert {p.nemesis for p in plan} == {"none", *nemeses}


def test_the_plan_leaves_out_nemeses_that_cannot_run_on_the_target():
    """FIS runs only on aws, host faults only with --hosts: on the emulator they would be
    set-up errors, not tests; the client-side faults run everywhere."""
    on_emulator = {p.nemesis for p in battery.plans(["async"])}
    assert {"isolate", "slow", "pause", "client-partition"} <= on_emulator
    assert not on_emulator & {"fis-pause-replication", "host-cut", "host-kill"}
    on_aws = {p.nemesis for p in battery.plans(["async"], target="aws")}
    assert "fis-pause-replication" in on_aws and "isolate" not in on_aws


def test_the_quick_plan_on_the_emulator_leaves_out_the_clients_own_faults():
    """issue 21: on the emulator the quick battery's time goes to the service's faults;
    named explicitly, or against other targets, the client faults still run."""
    quick = {p.nemesis for p in battery.plans(["async"], quick=True)}
    assert not quick & {"client-latency", "client-partition", "client-timeout"}
    assert {"none", "isolate", "oneway-latency", "oneway-link"} <= quick
    named = battery.plans(["async"], ["register"], ["client-timeout"], quick=True)
    assert [p.nemesis for p in named] == ["client-timeout"]
    on_aws = {p.nemesis for p in battery.plans(["async"], target="aws", quick=True)}
    assert "client-partition" in on_aws


@pytest.mark.parametrize("kw,msg", [
    ({"workloads": ["nope"]}, "unknown workload 'nope'"),
    ({"nemeses": ["nope"]}, "unknown nemesis 'nope'"),
])
def test_unknown_names_are_bad_input(kw, msg):
    with pytest.raises(BadInput, match=msg):
        battery.plans(["strong"], **kw)


def test_settings_quick_and_time_limit():
    assert battery.settings_for(quick=True, time_limit=None)["time_limit"] == 1.0
    assert battery.settings_for(quick=False, time_limit=None)["time_limit"] == 20.0
    assert battery.settings_for(quick=True, time_limit=2)["time_limit"] == 2.0
    with pytest.raises(BadInput):
        battery.settings_for(quick=True, time_limit=0)
    assert battery.modes_for("both") == ["async", "strong"]
    assert battery.jobs_for(None, quick=True) == 3 and battery.jobs_for(None, quick=False) == 1
    assert battery.jobs_for(2, quick=False) == 2
    with pytest.raises(BadInput):
        battery.jobs_for(0, quick=True)


class FakeRuns:
    """Stands in for core.run_test: answers each plan's verdict from `verdicts`."""

    def __init__(self, tmp_path, verdicts, stop_after=None, stop=None):
        self.tmp, self.verdicts, self.calls = tmp_path, verdicts, []
        self.stop_after, self.stop = stop_after, stop

    def __call__(self, test, *, store, stop, abort):
        self.calls.append(test)
        if self.stop_after is not None and len(self.calls) >= self.stop_after:
            self.stop.set()
        v = self.verdicts[(test.workload, test.nemesis[0] if test.nemesis else "none")]
        if v == "setup":
            raise SetupError("target 'emulator' could not be set up: port in use")
        path = self.tmp / f"{test.workload}-{len(self.calls)}"
        path.mkdir()
        results = {"valid": v, "run": {"ops": 10}, "checkers": {"c": {
            "valid": v, "anomaly_counts": {"stale-read": 2},
            "anomalies": [{"kind": "stale-read", "expected": v is not False}]}}}
        return core.RunResult(RunDir(path), results)


def plan_of(*pairs):
    return [battery.Plan("strong", w, n) for w, n in pairs]


def test_rows_verdicts_and_the_exit_rule(tmp_path, monkeypatch):
    verdicts = {("a", "none"): True, ("a", "isolate"): False, ("b", "none"): "unknown",
                ("b", "isolate"): "setup"}
    fake = FakeRuns(tmp_path, verdicts)
    monkeypatch.setattr(core, "run_test", fake)
    lines = []
    b = battery.run_battery(plan_of(*verdicts), store=Store(tmp_path / "s"), seed=3,
                            settings=battery.QUICK, progress=lines.append)
    assert [r.verdict for r in b.rows] == ["valid", "invalid", "unknown", "error"]
    assert b.rows[1].violations == {"stale-read": 2} and b.rows[0].allowed == {"stale-read": 2}
    assert "port in use" in b.rows[3].error
    assert all(t.seed == 3 and t.time_limit == battery.QUICK["time_limit"] for t in fake.calls)
    assert len(lines) == 4 and "INVALID" in lines[1] and "stale-read=2" in lines[1]
    assert b.exit_code == 1                                     # invalid wins
    b.rows = [r for r in b.rows if r.verdict != "invalid"]
    assert b.exit_code == 3                                     # then set-up failures
    b.rows = [r for r in b.rows if r.verdict != "error"]
    assert b.exit_code == 2                                     # then unknown
    b.rows = [r for r in b.rows if r.verdict == "valid"]
    assert b.exit_code == 0
    text = battery.table(b)
    assert "strong  a" in text and "1 runs in" in text
    b.rows = [battery.Row("strong", "a", "isolate", "invalid", run_dir="/x")]
    assert battery.reproduce_argv(b, b.rows[0]) == [
        "gtcheck", "run", "--target", "emulator", "--mode", "strong", "--workload", "a",
        "--nemesis", "isolate", "--seed", "3", "--time-limit", "1", "--latency-scale",
        "0.1", "--nemesis-interval", "0.15", "--rate", "300", "--final-wait", "0.5",
        "--op-timeout", "1", "--pace", "200", "--final-deadline", "3"]
    assert "reproduce: gtcheck run --target emulator --mode strong" in battery.table(b)


def test_an_interrupted_battery_skips_the_rest_and_says_so(tmp_path, monkeypatch):
    stop = threading.Event()
    verdicts = {("a", "none"): True, ("a", "isolate"): True, ("b", "none"): True}
    monkeypatch.setattr(core, "run_test", FakeRuns(tmp_path, verdicts, stop_after=2, stop=stop))
    b = battery.run_battery(plan_of(*verdicts), store=Store(tmp_path / "s"), seed=1,
                            settings=battery.QUICK, stop=stop)
    assert [r.verdict for r in b.rows] == ["valid", "valid", "not run"]
    assert b.interrupted and b.exit_code == 2
    assert "NOT RUN" in battery.table(b) and "interrupted" in battery.table(b)
    js, txt = battery.write_summary(Store(tmp_path / "s"), b)
    data = json.loads(js.read_text())
    assert data["exit_code"] == 2 and [r["verdict"] for r in data["rows"]][-1] == "not run"
    assert txt.read_text().startswith("mode")


def test_test_all_cli_runs_a_small_real_battery(tmp_path):
    """Through the CLI, in worker processes (--quick runs three at a time)."""
    store = tmp_path / "store"
    r = CliRunner().invoke(main, ["test-all", "--quick", "--mode", "async", "--seed", "4",
                                  "--workloads", "set-full,register",
                                  "--nemeses", "none,isolate", "--store", str(store)])
    assert r.exit_code == 0, r.output
    rows = [l for l in r.output.splitlines() if l.startswith("async ")]
    assert len(rows) == 4 and all(" VALID " in l for l in rows), r.output
    assert "4 runs in" in r.output and "valid 4" in r.output
    summaries = list((store / "test-all").glob("*.json"))
    assert len(summaries) == 1
    data = json.loads(summaries[0].read_text())
    assert {(x["workload"], x["nemesis"]) for x in data["rows"]} == {
        ("set-full", "none"), ("set-full", "isolate"), ("register", "none"),
        ("register", "isolate")}
    assert all(Path(x["run_dir"], "results.json").exists() for x in data["rows"])


def test_test_all_bad_input_is_one_line_and_exit_3(tmp_path):
    r = CliRunner().invoke(main, ["test-all", "--quick", "--nemeses", "gremlins",
                                  "--store", str(tmp_path)])
    assert r.exit_code == 3
    assert "unknown nemesis 'gremlins'" in r.output and "Traceback" not in r.output


def test_a_quick_run_waits_its_settle_time_before_the_final_reads():
    """The quick battery's final wait is each async run's settle time
    (suite.quiet.settle_s): 0.25 s at latency scale 0.1, plus the delay a delaying nemesis
    leaves in flight; strong runs keep 0.5 s (suite/battery.py, SETTLE)."""
    from suite import quiet
    plain = battery.Plan("async", "register", "isolate").test(
        seed=1, settings=battery.QUICK, target="emulator", argv=())
    slow = battery.Plan("async", "register", "slow").test(
        seed=1, settings=battery.QUICK, target="emulator", argv=())
    assert plain.final_wait == quiet.settle_s(plain) == 0.25
    assert slow.final_wait == quiet.settle_s(slow) == 0.55
    strong = battery.Plan("strong", "register", "outage").test(
        seed=1, settings=battery.QUICK, target="emulator", argv=())
    assert strong.final_wait == battery.STRONG_FINAL_WAIT_S == 0.5
    full = battery.Plan("strong", "register", "slow").test(
        seed=1, settings=battery.FULL, target="emulator", argv=())
    assert full.final_wait == battery.FULL["final_wait"]
