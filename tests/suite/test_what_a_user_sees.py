"""Issue 13: what a user sees of a run -- option ranges, set-up failures, the verdict and
its words, one definition of each count, faults logged as they happen, exit statuses,
the seed's promise, the rate warning, help and error style. In process over the fake
target/workload/nemesis of runner_fakes where the pipeline is under test; through the
real CLI (and the embedded emulator's names) where the user's input is."""

from __future__ import annotations

import re

import json

import pytest
from click.testing import CliRunner

from results.history import Op
from results.store import Store
from suite import core, registry
from suite import generator as gen
from suite.cli import main
from suite.config import Test
from tests.suite import runner_fakes


@pytest.fixture(autouse=True)
def fake_registries(monkeypatch):
    runner_fakes.isolated_registries(monkeypatch)


def fake_test(**kw):
    base = dict(workload="fake-register", target="fake", nemesis=("fake-isolate",), seed=7,
                time_limit=0.4, final_wait=0.01, concurrency=3)
    return Test(**{**base, **kw})


# --- finding 2: every numeric option is range-checked ----------------------------------

@pytest.mark.parametrize("option,value", [
    ("--op-timeout", "0"), ("--op-timeout", "-1"), ("--rate", "0"), ("--rate", "nan"),
    ("--rate", "inf"), ("--concurrency", "0"), ("--concurrency", "100000"),
    ("--keys", "0"), ("--latency-scale", "-0.5"), ("--nemesis-interval", "0"),
    ("--time-limit", "0"), ("--final-wait", "-1"),
])
def test_out_of_range_numbers_exit_3_naming_the_option(tmp_path, option, value):
    store = tmp_path / "store"
    r = CliRunner().invoke(main, ["run", option, value, "--store", str(store)])
    assert r.exit_code == 3, r.output
    assert r.output.startswith(f"gtcheck: error: {option} must be"), r.output
    assert len(r.output.strip().splitlines()) == 1 and not store.exists()


# --- finding 3: set-up failures --------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    (["--target", "endpoints:/nonexistent.json"], "cannot read the endpoints state file"),
    (["--regions", "foo,bar,baz"], "same Region set"),
    (["--nemesis", "isolate,isolate"], "--nemesis lists isolate more than once"),
    (["--target", "endpoints:FILE", "--nemesis", "isolate"], "cannot read"),
])
def test_what_can_be_validated_fails_before_the_store_is_touched(tmp_path, args, words):
    store = tmp_path / "store"
    r = CliRunner().invoke(main, ["run", *args, "--time-limit", "1", "--store", str(store)])
    assert r.exit_code == 3, r.output
    assert words in r.output and r.output.count("gtcheck: error:") == 1, r.output
    assert not store.exists()


def test_a_target_without_a_fault_api_is_refused_with_a_nemesis(tmp_path):
    state = tmp_path / "emu.json"
    state.write_text(json.dumps({"mode": "async", "regions": {"us-east-1": "http://127.0.0.1:9"}}))
    store = tmp_path / "store"
    r = CliRunner().invoke(main, ["run", "--target", f"endpoints:{state}", "--mode", "async",
                                  "--regions", "us-east-1", "--nemesis", "isolate",
                                  "--store", str(store)])
    assert r.exit_code == 3 and "needs a target with a fault API" in r.output, r.output
    assert not store.exists()


# --- finding 8: promises in words ------------------------------------------------------

def test_the_console_words_each_checker_as_the_report_does(tmp_path):
    result = core.run_test(fake_test(), store=Store(tmp_path))
    result.results["checkers"].update({
        "linearizability": {"valid": True},
        "linearizability-violations": {"valid": True, "anomalies": [],
                                       "anomaly_counts": {"nonlinearizable": 3}},
        "lost-increments": {"valid": True, "anomalies": [], "anomaly_counts": {}},
        "availability": {"valid": False, "anomaly_counts": {"unavailable": 2}},
    })
    text = core.summary(result, fake_test())
    assert "  linearizability: held" in text
    assert "  linearizability-violations: reported (nonlinearizable: 3)" in text
    assert "  lost-increments: none seen" in text
    assert "  availability: BROKEN (unavailable: 2)" in text
    assert ": True" not in text and ": False" not in text


# --- finding 9: one definition of each count -------------------------------------------

def test_run_counts_have_one_definition_everywhere(tmp_path):
    said: list[str] = []
    result = core.run_test(fake_test(), store=Store(tmp_path), progress=said.append,
                           log=said.append)
    run = json.loads(result.run_dir.results_json.read_text())["run"]
    from results.history import read_jsonl
    ops = read_jsonl(result.run_dir.history)
    client = [o for o in ops if o.process != "nemesis"]
    assert run["ops"] == sum(o.type == "invoke" for o in client)
    assert run["records"] == len(ops)
    assert run["ok"] + run["fail"] + run["info"] + run["condition-failed"] + \
        run["conflict"] == run["ops"]
    done = [s for s in said if "gtcheck: done:" in s][-1]
    assert f"ops={run['ops']} ok={run['ok']}" in done
    assert result.results["checkers"]["stats"]["total"]["count"] == run["ops"]


def test_timeouts_count_info_operations_that_timed_out():
    ops = [Op(0, 0, "invoke", 0, "read", "k"), Op(1, 5, "info", 0, "read", "k", error="timeout"),
           Op(2, 6, "invoke", 1, "cas", "k"),
           Op(3, 9, "fail", 1, "cas", "k", error="ConditionalCheckFailed"),
           Op(4, 9, "invoke", 2, "write", "k"),
           Op(5, 10, "invoke", "nemesis", "isolate"), Op(6, 11, "ok", "nemesis", "isolate")]
    c = core.run_counts(ops)
    # The write never completed: its outcome is unknown, so it is info (not a timeout).
    assert c == {"ops": 3, "ok": 0, "condition-failed": 1, "conflict": 0, "fail": 0,
                 "info": 2, "timeouts": 1, "records": 7, "nemesis": 1}
    assert core.counts_text(c) == "ops=3 ok=0 condition-failed=1 fail=0 info=2"


# --- finding 10: faults and phases are logged as they happen -----------------------------

def test_run_log_says_each_fault_and_phase_as_it_happens(tmp_path):
    result = core.run_test(fake_test(time_limit=0.5), store=Store(tmp_path))
    log = result.run_dir.run_log.read_text()
    assert "nemesis: fault began at " in log and ": isolate us-east-2" in log
    assert "nemesis: heal at " in log and "faults in force: none" in log
    assert "main phase over at " in log and "final phase: heal every fault" in log
    assert "final phase over at " in log and "checking " in log
    # The progress line names the faults in force.
    assert "faults: " in log
    lines = log.splitlines()
    order = [next(i for i, ln in enumerate(lines) if w in ln)
             for w in ("nemesis: fault began", "main phase over", "final phase over",
                       "checking ", "gtcheck: done:")]
    assert order == sorted(order)


# --- finding 11: the verdict as the run's conditions allow -------------------------------

def _results(valid_by_checker, **run):
    return {"checkers": {k: {"valid": v} for k, v in valid_by_checker.items()}, "run": run}


def test_interrupted_target_gone_and_setup_error_decide_the_verdict():
    r = _results({"a": True}, interrupted=True)
    core.apply_run_conditions(r)
    assert r["valid"] == "unknown" and "interrupted" in r["reason"]
    r = _results({"a": False}, interrupted=True)
    core.apply_run_conditions(r)
    assert r["valid"] is False  # a violation found stays one, and the line says so
    assert r["reason"] == "the run was interrupted; what was recorded already breaks a promise"
    r = _results({"a": True, "availability": False}, target_gone="the target is gone: x")
    core.apply_run_conditions(r)
    assert r["valid"] == "unknown" and r["reason"] == "the target is gone: x"
    assert r["checkers"]["availability"]["valid"] == "unknown"
    r = _results({"a": False, "availability": False}, target_gone="gone")
    core.apply_run_conditions(r)
    assert r["valid"] is False and r["reason"].startswith("gone; what was recorded")
    r = _results({"a": True})
    core.apply_run_conditions(r)
    assert r["valid"] is True and "reason" not in r
    r = {"checkers": {}, "run": {"setup_error": "boom"}}
    core.apply_run_conditions(r)
    assert r["valid"] == "unknown" and r["reason"] == "set-up failed: boom"


def test_an_interrupted_run_says_so_in_its_verdict_line(tmp_path):
    import threading
    stop = threading.Event()
    stop.set()  # as if Ctrl-C came at once
    result = core.run_test(fake_test(time_limit=5), store=Store(tmp_path), stop=stop)
    assert result.valid == "unknown"
    text = core.summary(result, fake_test())
    assert text.splitlines()[0].startswith("verdict: UNKNOWN (the run was interrupted")


# --- finding 12: what the seed repeats --------------------------------------------------

def test_the_seed_repeats_the_sequence_of_client_operations_whatever_the_timing():
    from workloads import make_workload
    from workloads.base import WorkloadOptions
    w = make_workload("register", WorkloadOptions(mode="strong", seed=11, keys=4))
    runs = []
    for timing_seed in (1, 2, 3):
        # Different completion latencies and outcomes: a different thread interleaving.
        hist = gen.simulate(gen.clients(gen.limit(60, w.generator)), concurrency=6,
                            complete=gen.random_completions(timing_seed, latency_s_max=0.05))
        runs.append([(o["f"], o["key"], json.dumps(o.get("value")), o.get("consistent"))
                     for o in hist if o["type"] == "invoke"])
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == 60


def test_the_reproduce_line_says_precisely_what_repeats(tmp_path):
    result = core.run_test(fake_test(), store=Store(tmp_path))
    result.results["valid"] = False
    text = core.summary(result, fake_test())
    assert "reproduce with seed=7" in text
    assert "repeats the fault schedule and the sequence of client operations" in text
    assert "depend on timing" in text


# --- finding 13: a target rate that was not reached -------------------------------------

def test_a_rate_that_was_not_reached_is_warned_about():
    assert core.rate_warning({"rate_target": 1000, "rate_achieved": 503,
                              "main_phase_s": 10}).startswith("--rate 1000 ops/s was not "
                                                              "reached: 503 ops/s")
    assert core.rate_warning({"rate_target": 100, "rate_achieved": 95,
                              "main_phase_s": 10}) is None


def test_a_run_below_its_rate_warns_on_the_console_and_records_the_rate(tmp_path):
    # One thread, each operation ~1 ms + scheduling: 20,000 ops/s cannot be reached.
    test = fake_test(rate=20000, concurrency=1, time_limit=1.2, nemesis=())
    result = core.run_test(test, store=Store(tmp_path))
    run = result.results["run"]
    assert run["rate_target"] == 20000 and 0 < run["rate_achieved"] < 16000
    assert "warning: --rate 20000 ops/s was not reached" in core.summary(result, test)


# --- finding 14 and 15: help lists the names; one error style ---------------------------

def test_run_help_lists_every_workload_and_nemesis():
    registry.load_plugins()
    r = CliRunner().invoke(main, ["run", "--help"], terminal_width=400)
    # click wraps help at 80 columns and may break a hyphenated name at its hyphen
    text = re.sub(r"-\s+", "-", " ".join(r.output.split()))
    names = [n for n in registry.WORKLOADS if not n.startswith("fake")]
    assert names and all(n in text for n in names), names
    nemeses = [n for n in registry.NEMESES if not n.startswith("fake")]
    import nemesis
    assert set(nemesis.NEMESIS_NAMES) <= set(nemeses)
    assert all(n in text for n in nemeses), [n for n in nemeses if n not in text]


@pytest.mark.parametrize("args", [
    ["run", "--bogus"], ["run", "--mode", "eventual"], ["report"],
    ["emulator", "fault", "--state-file", "/nonexistent.json", "heal"],
    ["emulator", "serve", "--mode", "strong", "--regions", "us-east-1"],
    ["nonsense"],
])
def test_every_error_is_one_line_in_one_style(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gtcheck: error: "), r.output


def test_emulator_serve_refuses_a_strong_table_of_one_region():
    r = CliRunner().invoke(main, ["emulator", "serve", "--mode", "strong",
                                  "--regions", "us-east-1"])
    assert r.exit_code == 3 and "exactly three Regions" in r.output
