"""The aws target's guards, checked without a network: it refuses to delete a table it did
not create, to use a table other than the one named explicitly, and to run fault nemeses
without a fault API (FIS needs --fis-role-arn); and its plan's arithmetic. Its whole path
runs against the emulator through AWS_ENDPOINT_URL in test_aws_path.py."""

import pytest

from nemesis import FaultNemesis
from suite.errors import BadInput, SetupError
from suite.targets import AwsTarget, make_target


def test_refuses_to_delete_a_table_it_did_not_create():
    target = make_target("aws", mode="async", regions=["us-east-1", "us-west-2"])
    assert isinstance(target, AwsTarget)
    with pytest.raises(BadInput, match="did not create"):
        target.delete_table(None, "customers")


def test_an_existing_table_is_used_only_when_named_and_never_deleted():
    target = AwsTarget(mode="strong", regions=["us-east-1", "us-east-2", "us-west-2"],
                       existing_table="gtcheck-shared")
    with pytest.raises(BadInput, match="named existing table"):
        target.create_table(None, "gtcheck-other")
    target.create_table(None, "gtcheck-shared")  # no call: the user's table is used as it is
    with pytest.raises(BadInput, match="did not create"):
        target.delete_table(None, "gtcheck-shared")


def test_mrsc_topology_and_missing_fault_api_are_refused_up_front():
    with pytest.raises(BadInput, match="exactly three participants"):
        AwsTarget(mode="strong", regions=["us-east-1", "us-east-2"])
    target = AwsTarget(mode="async", regions=["us-east-1"])
    with pytest.raises(SetupError, match="no fault API"):
        FaultNemesis({"isolate"}, target).setup(None)
    with pytest.raises(BadInput, match="not one of"):
        target.client("eu-west-1")


def test_the_plan_counts_units_and_cost_at_the_stated_prices():
    from suite.config import Test
    from suite.targets.aws import make_plan
    test = Test(mode="async", time_limit=300, rate=50, keys=8)
    plan = make_plan(test, "gtcheck-register-x", regions=test.regions, witness=None,
                     mode="async")
    # 15000 ops: half writes (1 WRU each, 2 replicated units each), the rest SC reads,
    # plus one final read per key and region.
    assert (plan.ops, plan.wru, plan.rru, plan.rwru) == (15000, 7500, 7524, 15000)
    assert plan.cost_usd == pytest.approx((7500 * 0.625 + 7524 * 0.125 + 15000 * 0.625) / 1e6)
    assert any("$0.0150" in line for line in plan.lines())
    capped = make_plan(test, "t", regions=("us-east-1", "us-east-2"), witness="us-west-2",
                       mode="strong", max_requests=1000)
    assert (capped.ops, capped.rwru) == (1000, 500)
    assert any("hard stop after 1000" in line for line in capped.lines())
