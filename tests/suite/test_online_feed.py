"""What the checking while a run goes (checkers/online.py) is fed: exactly the history
the offline check reads -- each operation once recorded, numbered and at its history
time, in file order -- whatever sits between the runner and the writer. A remote run's
clock mapping (suite.remote.fleet.MappedHistory) holds invocations until their
completions say when they ran and reorders them; before this was wired to the writer,
the online checker got the runner's unmapped, unnumbered operations (index -1) and once
reported a violation the history did not hold."""

from __future__ import annotations

import pytest

from results.history import HistoryWriter, Op, read_jsonl
from results.store import Store
from suite import core
from suite.config import Test
from suite.remote.fleet import MappedHistory


def _op(t: int, type_: str, process, f="write", **extra) -> Op:
    return Op(index=-1, time=t, type=type_, process=process, f=f, key="k1", value=1,
              region="us-east-1", extra=extra)


def test_the_writer_hands_on_each_op_numbered_in_file_order(tmp_path):
    seen: list[Op] = []
    w = HistoryWriter(tmp_path / "h.jsonl", on_record=seen.append)
    w.record(_op(5, "invoke", 0))
    w.record(_op(9, "ok", 0))
    w.close()
    assert seen == read_jsonl(tmp_path / "h.jsonl") == w.ops
    assert [op.index for op in seen] == [0, 1]


class _Fleet:
    """What MappedHistory asks of a fleet: the largest clock bound now."""

    def max_bound_ns(self) -> int:
        return 1_000


def test_a_remote_history_is_handed_on_only_once_mapped_and_numbered(tmp_path):
    seen: list[Op] = []
    w = HistoryWriter(tmp_path / "h.jsonl", on_record=seen.append)
    mapped = MappedHistory(w, _Fleet())
    clock = dict(clock_offset_ns=-50_000, clock_bound_ns=1_000, epoch_ns=0)
    # Process 1 dispatched first, process 2 second; process 2's worker ran earlier.
    mapped.record(_op(100_000, "invoke", 1))
    mapped.record(_op(100_500, "invoke", 2))
    assert seen == []  # held until their completions say where and when they ran
    mapped.record(_op(400_000, "ok", 2, worker_ns=[150_000, 160_000], **clock))
    mapped.record(_op(500_000, "ok", 1, worker_ns=[200_000, 260_000], **clock))
    mapped.close()
    w.close()
    assert seen == read_jsonl(tmp_path / "h.jsonl")
    assert [op.index for op in seen] == [0, 1, 2, 3]
    assert [(op.process, op.type) for op in seen] == [(2, "invoke"), (2, "ok"),
                                                      (1, "invoke"), (1, "ok")]
    assert [op.time for op in seen] == [99_000, 111_000, 149_000, 211_000]


@pytest.mark.slow
def test_a_run_feeds_the_online_checker_exactly_its_history(tmp_path, monkeypatch):
    """Emulator target, boto3 over HTTP: every op the online checker took is the
    history file's, in its order, with its index."""
    from checkers import online
    fed: list[Op] = []
    real = online.OnlineChecker.__call__

    def spy(self, op):
        fed.append(op)
        real(self, op)
    monkeypatch.setattr(online.OnlineChecker, "__call__", spy)
    test = Test(workload="register", mode="strong", nemesis=("isolate",), seed=5,
                time_limit=2.0, concurrency=4, rate=80.0, latency_scale=0.1,
                nemesis_interval=0.5, final_wait=0.2).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    history = read_jsonl(result.run_dir.history)
    assert len(history) > 40
    assert fed == history
    assert result.results["run"]["online"]["violations"] == 0
    assert "errors" not in result.results["run"]["online"]
