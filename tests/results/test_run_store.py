"""The run store: directory layout, the latest link, atomic JSON files."""

from __future__ import annotations

import datetime as dt

import pytest

from results.store import Store, open_run_dir, read_json
from suite.errors import BadInput

T0 = dt.datetime(2026, 11, 28, 8, 30, 5, tzinfo=dt.timezone.utc)


def test_runs_are_named_by_test_and_timestamp_and_latest_follows(tmp_path):
    store = Store(tmp_path)
    a = store.new_run("register-strong", now=T0)
    assert a.path == tmp_path / "register-strong" / "20261128T083005"
    b = store.new_run("register-strong", now=T0)  # same second: a suffix, never a clash
    assert b.path.name == "20261128T083005-2"
    assert (tmp_path / "latest").is_symlink()
    assert not (tmp_path / "latest").readlink().is_absolute()
    assert (tmp_path / "latest").resolve() == b.path
    assert store.latest().path == b.path


def test_json_files_round_trip_and_runs_are_listed(tmp_path):
    store = Store(tmp_path)
    run = store.new_run("counter-async", now=T0)
    run.write_test({"seed": 3, "regions": ("a", "b")})
    run.history.write_text("")
    run.write_results({"valid": True, "checkers": {}})
    assert run.read_test() == {"seed": 3, "regions": ["a", "b"]}
    assert run.read_results()["valid"] is True
    assert run.read_versions() is None
    assert [r.path for r in store.runs()] == [run.path]
    assert open_run_dir(tmp_path / "latest").path == run.path
    assert not list(run.path.glob(".*.tmp"))  # no temporary files left behind


def test_bad_names_and_directories_are_bad_input(tmp_path):
    store = Store(tmp_path)
    for name in ("", "a/b", "latest", ".."):
        with pytest.raises(BadInput):
            store.new_run(name)
    with pytest.raises(BadInput, match="not a run directory"):
        open_run_dir(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "test.json").write_text("{}")
    with pytest.raises(BadInput, match="no history.jsonl"):
        open_run_dir(tmp_path / "x")
    (tmp_path / "bad.json").write_text('{"a":\n 1,,}')
    with pytest.raises(BadInput, match=r"bad.json:2: not valid JSON"):
        read_json(tmp_path / "bad.json")
    assert Store(tmp_path / "missing").latest() is None
    assert list(Store(tmp_path / "missing").runs()) == []
