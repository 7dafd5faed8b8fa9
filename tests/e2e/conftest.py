"""Shared helpers of the end-to-end tests: one short run through the whole pipeline.

Every e2e run goes CLI-free through `suite.core.run_test` with `target="emulator"`: an
embedded emulator deployment is started, the global table is provisioned through boto3
control-plane calls, clients in every region make boto3 requests over HTTP, the nemesis
injects faults through the emulator's admin API, and the mode's checkers judge the
history. Runs are short (about three seconds of traffic) at a small latency scale.
"""

from __future__ import annotations

import pytest

from results.history import read_jsonl
from results.store import Store
from suite import core
from suite.config import Test

# Traffic knobs for short e2e runs: ~3 s of traffic at a small latency scale, so faults
# come and go several times (every 0.3 s) and replication lags enough to show async's
# anomalies. The margin matters on a loaded shared machine, where a process can be
# starved of CPU for a second or more.
E2E = dict(time_limit=3.0, nemesis_interval=0.3, concurrency=6, rate=150.0,
           latency_scale=0.2, op_timeout=1.0, final_wait=0.6)


def run(tmp_path, **kw) -> tuple[core.RunResult, list]:
    test = Test(**{**E2E, **kw}).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    return result, read_jsonl(result.run_dir.history)


def anomalies(result) -> dict:
    """Anomaly counts by kind over every checker (suite.core.anomaly_counts)."""
    return core.anomaly_counts(result.results)


def describe(result) -> str:
    """The failing checkers' verdicts and errors, for assertion messages."""
    out = []
    for name, r in result.results["checkers"].items():
        if isinstance(r, dict) and r.get("valid") is not True:
            out.append(f"{name}: {r.get('valid')} {r.get('error', '')} "
                       f"{str(r.get('errors', r.get('anomalies', '')))[:1500]}")
    return "; ".join(out) + f" (run {result.run_dir.path}; errors {result.errors})"


REGIONS = {"us-east-1", "us-east-2", "us-west-2"}


def assert_faults_and_final_reads(history, regions=REGIONS) -> None:
    """At least one fault was in force, and every region answered its final reads."""
    assert [op for op in history if op.process == "nemesis" and op.type == "ok"
            and op.f != "heal"], "no fault was injected"
    final = [op for op in history if op.extra.get("final") and op.type == "ok"]
    assert {op.region for op in final} == set(regions)


@pytest.fixture
def e2e(tmp_path):
    return lambda **kw: run(tmp_path, **kw)
