"""The set-full workload through boto3 against the emulator: it runs, it is judged valid
when the emulator keeps its promises, and it catches an element lost behind its back.

The first tests go through the whole pipeline (`suite.core.run_test`: an embedded
emulator, the table provisioned with boto3, clients in every region, a nemesis, the final
heal and reads). The last drives the workload's own boto3 operations by hand against a
three-region deployment, so it can break a promise on purpose -- a link left cut, an item
deleted out of band -- and check that the checker names the loss.
"""

from __future__ import annotations

import time

import pytest

from checkers.set_full import SetFullChecker, lag_check
from emulator import Deployment
from emulator.testing import create_global_table
from results.history import Op, validate
from tests.e2e.conftest import describe, run
from workloads import make_workload
from workloads.base import WorkloadOptions
from workloads.set_full import SET_KEY, add_element, read_elements
from workloads.client import OpView

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


@pytest.mark.parametrize("mode,nemesis", [("async", ("isolate",)), ("strong", ("link",))])
def test_set_full_runs_valid_with_lag_for_every_pair(tmp_path, mode, nemesis):
    result, history = run(tmp_path, workload="set-full", mode=mode, nemesis=nemesis,
                          seed=7, latency_scale=0.5)
    assert result.valid is True, describe(result)
    checkers = result.results["checkers"]
    full = checkers["set-full"]
    assert full["elements"]["acknowledged"] > 10 and full["elements"]["lost"] == 0
    assert set(full["final_regions"]) == set(REGIONS)
    pairs = checkers["replication-lag"]["pairs"]
    assert len(pairs) == 6
    assert all(row["count"] > 0 for row in pairs.values()), pairs
    reads = [op for op in history if op.f == "read" and op.type == "ok"]
    assert {op.consistent for op in reads} == {True, False}
    assert {op.region for op in reads} == set(REGIONS)


def test_set_full_is_registered_with_its_checkers_for_both_modes():
    from suite.config import Test
    from suite.registry import load_plugins, workload_entry
    load_plugins()
    for mode in ("async", "strong"):
        names = set(workload_entry("set-full").checkers(Test(workload="set-full", mode=mode)))
        assert {"set-full", "replication-lag"} <= names
    w = make_workload("set-full", WorkloadOptions(mode="async"))
    assert w.keys == (SET_KEY,) and w.min_concurrency == 3


class Recorder:
    """Records each boto3 operation as an invoke/complete pair, times from t0."""

    def __init__(self, clients):
        self.clients, self.ops, self.t0 = clients, [], time.monotonic_ns()
        self.process = 0

    def _record(self, d):
        self.ops.append(Op(index=len(self.ops), time=time.monotonic_ns() - self.t0, **d))

    def do(self, region, f, value=None, *, consistent=None, final=False):
        self.process += 1
        base = {"process": self.process, "f": f, "key": SET_KEY, "region": region,
                "consistent": consistent, "extra": {"final": True} if final else {}}
        self._record({**base, "type": "invoke", "value": value})
        call = add_element if f == "add" else read_elements
        out = call(self.clients[region], "gtcheck",
                   OpView({"f": f, "key": SET_KEY, "value": value, "consistent": consistent}))
        self._record({**base, "type": "ok", "value": out})
        return out


def test_an_element_lost_in_one_region_and_one_deleted_everywhere_are_named():
    with Deployment(list(REGIONS), latency_scale=0.1, seed=3) as d:
        cs = create_global_table(d, "gtcheck")
        rec = Recorder(cs)
        for e in (1, 2, 3):
            rec.do("us-east-1", "add", e)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # every region shows 1, 2, 3
            if all(rec.do(r, "read", consistent=True) == [1, 2, 3] for r in REGIONS):
                break
        d.cut("us-east-1", "us-west-2")
        rec.do("us-east-1", "add", 4)       # never reaches us-west-2: the link stays cut
        cs["us-east-2"].delete_item(TableName="gtcheck", Key={"pk": {"S": "e2"}})
        time.sleep(0.5)                     # the delete replicates to us-east-1
        for r in REGIONS:
            rec.do(r, "read", consistent=True, final=True)
    validate(rec.ops)
    test = {"mode": "async", "regions": list(REGIONS)}
    res = SetFullChecker("async").check(test, rec.ops, {})
    assert res["valid"] is False
    lost = {(a["element"], a["region"]): a["how"] for a in res["anomalies"]
            if a["kind"] == "lost-add"}
    assert lost[(4, "us-west-2")] == "never-visible"
    assert lost[(2, "us-east-2")] == "vanished" and lost[(2, "us-east-1")] == "vanished"
    assert (1, "us-west-2") not in lost and (3, "us-east-1") not in lost
    assert res["anomaly_counts"]["non-monotonic-read"] >= 2
    assert lag_check(test, rec.ops, {})["pairs"]["us-east-1->us-west-2"]["count"] == 3
