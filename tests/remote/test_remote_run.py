"""End-to-end remote runs: `gtcheck run --hosts` on the namespace test bed.

Real sshd servers in network namespaces, paramiko, `gtcheck worker` processes on each
host, boto3 over HTTP from the hosts to the embedded emulator on the bridge address.
"""

from __future__ import annotations

import json

import pytest

from results.history import NEMESIS, read_jsonl
from results.store import Store
from suite import core
from suite.config import Test

pytestmark = pytest.mark.slow

REMOTE = dict(time_limit=3.0, concurrency=6, rate=60.0, latency_scale=0.1,
              op_timeout=1.0, final_wait=0.5, keys=4)


def remote_run(tmp_path, hosts, **kw):
    test = Test(**{**REMOTE, "hosts": str(hosts), **kw}).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    return result, read_jsonl(result.run_dir.history)


def test_every_operation_ran_on_a_host_of_its_region(tmp_path, testbed):
    result, ops = remote_run(tmp_path, testbed, seed=3)
    assert result.valid is True, result.results
    client = [op for op in ops if op.process != NEMESIS]
    assert len(client) > 50
    hosts = json.loads((result.run_dir.path / "hosts.json").read_text())["hosts"]
    region_of = {h["name"]: h["region"] for h in hosts}
    assert set(region_of.values()) == set(Test().regions)
    for op in client:
        assert op.extra["host"] in region_of, op
        assert region_of[op.extra["host"]] == op.region, op
    # Each host's clock was measured and its bound recorded with its operations.
    for h in hosts:
        assert h["clock"]["bound_ns"] >= h["clock"]["rtt_ns"] // 2 > 0
    done = [op for op in client if op.type == "ok"]
    assert all(op.extra["clock_bound_ns"] > 0 and len(op.extra["worker_ns"]) == 2
               for op in done)
    # The history is in time order.
    assert [op.time for op in ops] == sorted(op.time for op in ops)
