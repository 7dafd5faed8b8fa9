"""results.durable: a run's records fsynced by a background thread, all of them on disk
when `wait` returns, a failure said rather than dropped; the writers that use it
(write_json, HistoryWriter) rename or close first and hand the file over after."""

from __future__ import annotations

import json
import os
import threading

from results import durable
from results.durable import BackgroundSync
from results.history import HistoryWriter, Op, read_jsonl
from results.store import RunDir, Store, write_json


def test_every_file_handed_over_is_fsynced_before_wait_returns(tmp_path, monkeypatch):
    synced, gate = [], threading.Event()

    def slow_fsync(path):
        gate.wait(5)  # the disk is slow: the caller is not held up meanwhile
        synced.append(os.fspath(path))
    monkeypatch.setattr(durable, "fsync_path", slow_fsync)
    sync = BackgroundSync()
    paths = [tmp_path / f"f{i}" for i in range(3)]
    for p in paths:
        p.write_text("x")
        sync(p)
    assert synced == []  # handed over, not waited for
    gate.set()
    assert sync.wait() == []
    assert synced == [os.fspath(p) for p in paths]
    # a later file starts the thread again
    sync(paths[0])
    assert sync.wait() == [] and synced[-1] == os.fspath(paths[0])


def test_a_file_that_cannot_be_fsynced_is_said_by_wait(tmp_path):
    sync = BackgroundSync()
    sync(tmp_path / "gone.json")
    problems = sync.wait()
    assert len(problems) == 1 and "gone.json" in problems[0], problems
    assert sync.wait() == []  # said once


def test_the_real_fsync_of_a_file(tmp_path):
    p = tmp_path / "f"
    p.write_text("data")
    durable.fsync_path(p)  # no error on a real file
    sync = BackgroundSync()
    sync(p)
    assert sync.wait() == []


def test_write_json_renames_the_whole_file_then_hands_it_over(tmp_path):
    seen = []

    def sync(path):  # called after the rename: the file is complete at its name
        seen.append(json.loads(path.read_text()))
    write_json(tmp_path / "a.json", {"k": [1, 2]}, sync=sync)
    assert seen == [{"k": [1, 2]}]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_deferred_file_is_fsynced_with_the_next_one_or_at_wait(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(durable, "fsync_path", lambda p: synced.append(os.path.basename(p)))
    sync = BackgroundSync()
    sync.defer(tmp_path / "test.json")
    assert sync.wait() == [] and synced == ["test.json"]  # never left behind
    sync.defer(tmp_path / "test.json")
    sync(tmp_path / "history.jsonl")
    assert sync.wait() == [] and synced == ["test.json", "test.json", "history.jsonl"]


class Recorder:
    """A BackgroundSync's two ways in, recorded."""

    def __init__(self):
        self.handed = []

    def __call__(self, path):
        self.handed.append(("now", path.name))

    def defer(self, path):
        self.handed.append(("deferred", path.name))


def test_a_run_dir_hands_over_its_records_but_not_its_results(tmp_path):
    sync = Recorder()
    run = Store(tmp_path, sync=sync).new_run("t")
    assert run.sync is sync and run == RunDir(run.path)  # sync is not identity
    run.write_test({"a": 1})
    run.write_versions({"us-east-1": {}})
    run.write_results({"valid": True})  # made again by `gtcheck analyze`: not waited for
    assert sync.handed == [("deferred", "test.json"), ("now", "versions.json")]
    assert json.loads(run.results_json.read_text()) == {"valid": True}
    assert json.loads(run.test_json.read_text()) == {"a": 1}


def test_history_writer_closes_then_hands_the_file_over(tmp_path):
    handed = []
    path = tmp_path / "history.jsonl"
    w = HistoryWriter(path, sync=lambda p: handed.append(
        (p, len(read_jsonl(p)))))  # complete and closed when handed over
    w.record(Op(index=0, time=1, type="invoke", process=0, f="read", key="k"))
    w.record(Op(index=0, time=2, type="ok", process=0, f="read", key="k", value=None))
    w.close()
    w.close()  # once
    assert handed == [(os.fspath(path), 2)]
