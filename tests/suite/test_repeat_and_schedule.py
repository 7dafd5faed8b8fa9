"""Issue 13, beyond the findings: `run --test-count N` (Jepsen's flag) and
`run --nemesis-schedule F` (a fixed fault schedule, for replaying a failure exactly)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from results.history import read_jsonl
from results.store import Store
from suite import core, registry
from suite.cli import main
from suite.config import Test
from suite.errors import BadInput
from suite.repeat import run_series, series_seeds, series_summary
from suite.schedule_file import parse_schedule, schedule_of
from tests.suite import runner_fakes


@pytest.fixture(autouse=True)
def fake_registries(monkeypatch):
    runner_fakes.isolated_registries(monkeypatch)


# --- --test-count ----------------------------------------------------------------------

def test_a_series_stops_at_the_first_run_that_is_not_valid():
    verdicts = iter([True, True, False, True])
    ran = []

    def run_one(t):
        ran.append(t.seed)
        return SimpleNamespace(valid=next(verdicts), run_dir=None)

    done = run_series(Test(seed=5), 10, run_one, lambda m: None)
    assert [t.seed for t, _ in done] == ran == series_seeds(5, 3)
    assert len(set(ran)) == 3 and ran[0] == 5
    text, valid = series_summary(done, 10)
    assert valid is False
    assert text.splitlines()[0] == ("test-count: 3 of 10 run, 2 valid; stopped at the first "
                                    "run that was not valid")
    assert series_seeds(5, 4) == series_seeds(5, 4)  # the same --seed, the same series


def test_test_count_runs_the_test_n_times_through_the_cli(tmp_path):
    r = CliRunner().invoke(main, ["run", "--target", "fake", "--workload", "fake-register",
                                  "--nemesis", "fake-isolate", "--time-limit", "0.3",
                                  "--final-wait", "0.01", "--seed", "3", "--test-count", "2",
                                  "--store", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "test-count: 2 of 2 run, 2 valid" in r.output
    seeds = {json.loads(p.read_text())["seed"] for p in tmp_path.glob("*/*/test.json")}
    assert seeds == set(series_seeds(3, 2))


# --- --nemesis-schedule ------------------------------------------------------------------

@pytest.mark.parametrize("text,words", [
    ('[{"at": -1, "f": "heal"}]', 'entry 1: "at" must be seconds >= 0'),
    ('[{"at": 1, "f": "explode"}]', "entry 1: unknown action 'explode'"),
    ('[{"at": 1, "f": "isolate", "value": "us-east-1"}]', '"value" must be an object'),
    ("[]", "the schedule is empty"), ("{nope", "not JSON"),
])
def test_a_bad_schedule_is_bad_input_naming_the_entry(text, words):
    with pytest.raises(BadInput, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(text, "f.json")


def test_a_schedule_parses_from_a_list_or_json_lines_and_is_sorted():
    lines = '{"at": 2, "f": "heal"}\n{"at": 0.5, "f": "isolate", "value": {"region": "r"}}\n'
    assert parse_schedule(lines) == (
        {"at": 0.5, "f": "isolate", "value": {"region": "r"}},
        {"at": 2.0, "f": "heal", "value": None})
    assert parse_schedule(json.dumps([{"at": 1, "f": "heal"}])) == (
        {"at": 1.0, "f": "heal", "value": None},)


def test_schedule_and_nemesis_are_exclusive_and_the_name_says_schedule(tmp_path):
    with pytest.raises(BadInput, match="replaces --nemesis"):
        Test(nemesis=("isolate",), nemesis_schedule=({"at": 1.0, "f": "heal", "value": None},))
    t = Test(nemesis_schedule=({"at": 1.0, "f": "heal", "value": None},))
    assert t.name == "register-strong-schedule"
    assert Test.from_json(json.loads(json.dumps(t.to_json()))) == t


@pytest.mark.slow
def test_a_runs_own_schedule_replays_its_faults_against_the_emulator(tmp_path):
    base = dict(time_limit=2.5, latency_scale=0.1, rate=60.0, op_timeout=1.0,
                final_wait=0.2, seed=21)
    first = core.run_test(Test(nemesis=("isolate", "link"), nemesis_interval=0.4, **base)
                          .stamped(argv=("pytest",)), store=Store(tmp_path))
    schedule_path = first.run_dir.path / "nemesis-schedule.json"
    recorded = json.loads(schedule_path.read_text())
    assert [e["f"] for e in recorded][:2] == ["isolate", "heal"] or \
        [e["f"] for e in recorded][:2] == ["cut", "heal"]
    r = CliRunner().invoke(main, [
        "run", "--nemesis-schedule", str(schedule_path), "--time-limit", "2.5",
        "--latency-scale", "0.1", "--rate", "60", "--op-timeout", "1", "--final-wait", "0.2",
        "--seed", "21", "--store", str(tmp_path)])
    assert r.exit_code == 0, r.output
    replay_dir = (tmp_path / "latest").resolve()
    # The replay runs every recorded fault in order, each near its time. A fault the first
    # run invoked just before the 2.5 s limit may come after the replay's limit on a
    # loaded machine (then the final heal stands in for it): those of the last second are
    # compared as a prefix of what the replay did, main phase and final heal together.
    replayed = schedule_of(read_jsonl(replay_dir / "history.jsonl"))
    settled = [e for e in recorded if e["at"] < 2.5 - 1.0]
    assert len(settled) >= 2, recorded
    assert [(e["f"], e["value"]) for e in replayed[:len(settled)]] == \
        [(e["f"], e["value"]) for e in settled]
    # each fault at its time (the interpreter's poll and a loaded machine: some slack)
    assert all(abs(a["at"] - b["at"]) < 1.0 for a, b in zip(replayed, settled))
    test_json = json.loads((replay_dir / "test.json").read_text())
    assert test_json["nemesis"] == [] and len(test_json["nemesis_schedule"]) == len(recorded)
