"""The clock-bound test: a worker whose clock is 3 s behind (planted with the hosts file's
`clock_offset_ms`) on the namespace test bed.

The control node measures that worker's offset over the SSH channel and records every
remote operation's worker times, offset and bound. The recorded history (mapped to the
control clock, widened by the bound) is judged valid; the same operations with every
host's clock trusted as is -- what a harness without clock bounds would record -- are
judged invalid by the same checkers."""

from __future__ import annotations

import json

import pytest
import yaml

from results.history import NEMESIS, read_jsonl
from results.store import Store
from suite import core
from suite.config import Test
from suite.remote.clock import remap

pytestmark = pytest.mark.slow

PLANTED_MS = -3000.0


def test_planted_clock_offset_needs_the_bound(tmp_path, testbed):
    doc = yaml.safe_load(testbed.read_text())
    skewed = doc["regions"]["us-east-2"][0]
    skewed["clock_offset_ms"] = PLANTED_MS
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(yaml.safe_dump(doc))
    test = Test(hosts=str(hosts), seed=21, time_limit=3.0, concurrency=6, rate=80.0,
                keys=1, latency_scale=0.3, op_timeout=1.0,
                final_wait=0.5).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    ops = read_jsonl(result.run_dir.history)

    # The offset was measured: control = worker + offset, so about +3000 ms, within
    # the bound of the truth (the hosts share this machine's clock).
    clocks = {h["name"]: h["clock_estimates"][0]
              for h in json.loads((result.run_dir.path / "hosts.json").read_text())["hosts"]}
    c = clocks[skewed["name"]]
    assert abs(c["offset_ns"] - (-PLANTED_MS) * 1e6) <= c["bound_ns"]
    assert c["bound_ns"] < 50e6

    def verdict(history):
        return core.judge(test, history, {})["checkers"]["linearizability"]["valid"]

    assert result.valid is True, result.results
    assert verdict(ops) is True
    assert verdict(remap(ops)) is True  # the recorded order is what the bounds give
    skewed_ops = [op for op in ops if op.process != NEMESIS
                  and op.extra.get("host") == skewed["name"]]
    assert len(skewed_ops) > 20
    trusting = remap(ops, trust_clocks=True)
    assert verdict(trusting) is False
