"""Issue 21 end to end: register reads through every read path and deletes through every
delete path, under the one-way nemeses, in both modes, judged valid on an emulator without
bugs; set-full with deletes and expiring (TTL) elements valid under a one-way cut; a demo
whose final read lands right after an outage is retried, never a false alarm."""

import pytest

from tests.e2e.conftest import REGIONS, assert_faults_and_final_reads, describe
from workloads.client import DELETE_PATHS, READ_PATHS


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["async", "strong"])
@pytest.mark.parametrize("nemesis", ["oneway-latency", "oneway-link"])
def test_register_paths_and_deletes_under_one_way_faults(e2e, mode, nemesis):
    result, history = e2e(workload="register", mode=mode, nemesis=(nemesis,), keys=2,
                          seed=2121, nemesis_latency_ms=100.0)
    assert result.valid is True, describe(result)
    assert_faults_and_final_reads(history)
    ok = [op for op in history if op.process != "nemesis" and op.type == "ok"]
    paths = {op.extra.get("path") for op in ok if op.f == "read" and op.extra.get("path")}
    deletes = {op.extra.get("path") for op in ok if op.f == "write" and op.value is None}
    transactional = {"TransactGetItems", "TransactWriteItems"}
    assert paths == set(READ_PATHS) - (transactional if mode == "strong" else set())
    assert deletes == set(DELETE_PATHS) - (transactional if mode == "strong" else set())
    assert any(op.f == "read" and op.value is None and not op.extra.get("final")
               for op in ok), "no read of a deleted item"


@pytest.mark.slow
def test_set_full_deletes_and_ttl_are_valid_under_a_one_way_cut(e2e):
    result, history = e2e(workload="set-full", mode="async", nemesis=("oneway-link",),
                          seed=2122)
    assert result.valid is True, describe(result)
    assert_faults_and_final_reads(history)
    assert [op for op in history if op.f == "delete" and op.type == "ok"]
    # An extension that may have happened (ok or info) keeps its element (A12): only the
    # expiring elements never extended must be gone by the final reads.
    extended = {op.value for op in history if op.f == "extend" and op.type in ("ok", "info")}
    expiring = {op.value for op in history if op.f == "add" and op.extra.get("ttl")
                and op.type == "ok"} - extended
    finals = [op for op in history if op.extra.get("final") and op.type == "ok"]
    assert expiring and finals
    assert all(not expiring & set(op.value) for op in finals)  # the TTL sweeper ran


@pytest.mark.slow
def test_a_final_read_after_an_outage_is_retried_not_a_false_alarm(e2e):
    # issue 21 item 4: the run ends inside the outage, so the final phase's heal starts
    # the region and its first final SC read may meet a region still catching up
    result, history = e2e(workload="demo-single-writer", mode="strong", nemesis=("outage",),
                          nemesis_timing="end-in-fault", seed=11)
    assert result.valid is True, describe(result)
    final = {op.region for op in history if op.extra.get("final") and op.type == "ok"}
    assert final == REGIONS
