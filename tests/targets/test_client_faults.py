"""Client-side faults through real boto3 clients against the emulator: a partition drops
requests before they are sent (fail), latency delays them, a timeout lets them execute and
then gives up (info); bad arguments are refused."""

import time

import pytest

from emulator import Deployment
from suite.errors import BadInput
from suite.targets import make_target
from workloads.dynamo import classify, one_attempt_config

US = ["us-east-1", "us-east-2"]


@pytest.fixture(scope="module")
def target():
    t = make_target("emulator", mode="async", regions=US, latency_scale=0.0, seed=2)
    t.setup(None)
    t.create_table(None, "cf-t")
    yield t
    t.delete_table(None, "cf-t")
    t.teardown(None)


def put(c, v):
    c.put_item(TableName="cf-t", Item={"pk": {"S": "k"}, "v": {"N": str(v)}})


def test_partition_latency_and_timeout_per_region(target):
    east, ohio = (target.client(r, config=one_attempt_config()) for r in US)
    target.client_fault("client-partition", {"region": "us-east-2"})
    with pytest.raises(Exception) as e:
        put(ohio, 1)
    assert classify(e.value).type == "fail"
    put(east, 2)  # another region is untouched
    target.client_fault("client-latency", {"region": "us-east-2", "ms": 300})
    started = time.monotonic()
    put(ohio, 3)
    assert time.monotonic() - started >= 0.3
    target.client_fault("client-timeout", {"region": "us-east-2", "ms": 10})
    with pytest.raises(Exception) as e:
        put(ohio, 4)
    assert classify(e.value).type == "info" and classify(e.value).error == "timeout"
    target.client_fault("heal", None)
    got = ohio.get_item(TableName="cf-t", Key={"pk": {"S": "k"}}, ConsistentRead=True)
    assert got["Item"]["v"] == {"N": "4"}  # the timed-out write was executed


@pytest.mark.parametrize("action,value", [
    ("client-partition", None), ("client-latency", {"region": "us-east-1"}),
    ("client-latency", {"region": "us-east-1", "ms": -5}), ("cut", {"region": "us-east-1"})])
def test_bad_client_faults_are_refused(target, action, value):
    with pytest.raises(BadInput):
        target.client_fault(action, value)
