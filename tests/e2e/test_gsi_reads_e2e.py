"""The register workload reading through a GSI (`--gsi-reads`, workloads/gsi.py) in both
modes, through the whole pipeline: the index is added with UpdateTable through boto3, the
clients in every region query it over HTTP, and the GSI reads are judged beside the table's
promises (checkers/gsi_reads.py), never as table reads."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import REGIONS, describe

# Two keys at full scale: every key is written every few tens of milliseconds, about the
# GSI's own lag in a region (emulator/indexes.py), so GSI reads show staleness.
GSI_RUN = dict(workload="register", gsi_reads=True, keys=2, hot_keys=0, latency_scale=1.0,
               time_limit=4.0, rate=150.0, seed=3)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["async", "strong"])
def test_gsi_reads_are_ec_reads_reported_beside_the_tables_promises(e2e, mode):
    result, history = e2e(mode=mode, **GSI_RUN)
    assert result.valid is True, describe(result)
    gsi = [op for op in history if op.f == "read" and op.extra.get("path") == "GSI"]
    invoked = [op for op in gsi if op.type == "invoke"]
    assert invoked and all(op.consistent is False for op in invoked)
    answered = [op for op in gsi if op.type == "ok"]
    assert {op.region for op in answered} == REGIONS
    checkers = result.results["checkers"]
    r = checkers["gsi-reads"]
    assert r["valid"] is True and r["reads"] == len(answered)
    assert set(r["regions"]) == REGIONS
    # what GSI reads show: writes acknowledged before them and not yet in the index
    assert r["anomaly_counts"].get("gsi-stale-read", 0) >= 1, r["anomaly_counts"]
    assert all(a["expected"] for a in r["anomalies"])
    # the table's checkers judged the table reads only: no GSI read is in their evidence
    gsi_ops = {op.index for op in gsi}
    for name, res in checkers.items():
        if name != "gsi-reads" and isinstance(res, dict):
            for a in res.get("anomalies") or []:
                assert not gsi_ops & set(a.get("ops", [])), (name, a)
    if mode == "strong":
        assert checkers["linearizability"]["valid"] is True
    # nor did the checking while the run went (checkers/online.py)
    online = result.results["run"].get("online")
    assert online is not None and online["violations"] == 0, online
