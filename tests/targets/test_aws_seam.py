"""The aws target's guards, checked without a network: it refuses to delete a table it did
not create, to use a table other than the one named explicitly, and to run fault nemeses
(no fault API on AWS yet). Its provisioning calls are the ones tests/targets exercise
against real HTTP endpoints; a cloud account is not part of the test suite."""

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
