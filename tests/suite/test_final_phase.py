"""The final phase end to end (issue 23): every key read in every region, the keys shared
out among each region's client threads, and the verdicts the final reads give unchanged.

Each run goes through `suite.core.run_test` against the embedded emulator (boto3 over
HTTP, tests/e2e/conftest.py). The final reads used to be every client thread reading
every key in turn; now each region's threads split the keys (workloads.generators
`RegionShares`), so these runs check what the split must keep: each region reads each
key (convergence judges them all), each process does one operation at a time, and a bug
that only the final reads reveal is still caught.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import REGIONS, describe, run

pytestmark = pytest.mark.slow


def final_reads(history) -> list:
    return [op for op in history if op.extra.get("final") and op.f == "read"]


def assert_one_op_at_a_time(history) -> None:
    """A process invokes only after its previous operation completed (file order)."""
    open_ops: set = set()
    for op in history:
        if op.process == "nemesis":
            continue
        if op.type == "invoke":
            assert op.process not in open_ops, op
            open_ops.add(op.process)
        else:
            open_ops.discard(op.process)


@pytest.mark.parametrize("mode", ["strong", "async"])
def test_every_key_is_read_once_in_every_region_by_one_of_its_threads(tmp_path, mode):
    keys = 8
    result, history = run(tmp_path, mode=mode, workload="register", nemesis=(), keys=keys,
                          hot_keys=0, concurrency=6, seed=5, latency_scale=0.5)
    finals = final_reads(history)
    answered = [op for op in finals if op.type == "ok"]
    # every (region, key) answered; a region's two threads read a share each
    assert sorted((op.region, op.key) for op in answered) == sorted(
        (r, f"k{i}") for r in REGIONS for i in range(keys)), describe(result)
    first_tries = [op for op in finals if op.type == "invoke" and "attempt" not in op.extra]
    per_process = {p: sum(op.process == p for op in first_tries) for p in range(6)}
    assert per_process == {p: keys // 2 for p in range(6)}, per_process
    assert_one_op_at_a_time(history)
    conv = result.results["checkers"]["convergence"]
    assert conv["keys"] == keys and conv["keys_missing_final_reads"] == 0, conv
    assert result.valid is True, describe(result)


def test_a_delete_never_replicated_is_still_caught_by_the_final_reads(tmp_path):
    # gtcheck validate's recipe for delete-not-replicated (set-full, async): the deleted
    # elements live on in the other regions, which only the final reads show
    result, history = run(tmp_path, mode="async", workload="set-full", nemesis=(),
                          emulator_bugs=("delete-not-replicated",), keys=2, hot_keys=0,
                          rate=150.0, seed=1, latency_scale=1.0)
    assert result.valid is False, describe(result)
    checker = result.results["checkers"]["set-full"]
    assert checker["anomaly_counts"].get("resurrected", 0) > 0, checker
    final_indices = {op.index for op in final_reads(history)}
    for a in checker["anomalies"]:
        if a["kind"] == "resurrected":
            assert a["ops"][0] in final_indices, a  # named by a final read
    assert {op.region for op in final_reads(history) if op.type == "ok"} == REGIONS
