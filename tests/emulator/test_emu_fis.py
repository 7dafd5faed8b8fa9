"""The emulator's FIS (SEMANTICS.md "FIS action") through boto3's fis client on the
all-regions endpoint: the template is validated as FIS does, a running experiment holds
replication of the target replica back (A13), and StopExperiment or the end of `duration`
lets it catch up."""

import time

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.fis import parse_duration

US = ["us-east-1", "us-east-2"]
ROLE = "arn:aws:iam::000000000000:role/fis"


def client(d, service, region):
    return boto3.client(service, endpoint_url=d.endpoint, region_name=region,
                        aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture(scope="module")
def dep():
    with Deployment(US, latency_scale=0.0, seed=4) as d:
        home = client(d, "dynamodb", "us-east-1")
        home.create_table(TableName="fis-t", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        home.update_table(TableName="fis-t",
                          ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
        yield d


def template(arn, action="aws:dynamodb:global-table-pause-replication", duration="PT1M",
             key="Tables", resource_type="aws:dynamodb:global-table"):
    return dict(clientToken="t", description="d", stopConditions=[{"source": "none"}],
                targets={"R": {"resourceType": resource_type, "resourceArns": [arn],
                               "selectionMode": "ALL"}},
                actions={"P": {"actionId": action, "parameters": {"duration": duration},
                               "targets": {key: "R"}}},
                roleArn=ROLE)


def sees(d, region, value, within_s):
    c = client(d, "dynamodb", region)
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        item = c.get_item(TableName="fis-t", Key={"pk": {"S": "k"}}, ConsistentRead=True)
        if item.get("Item", {}).get("v") == {"N": str(value)}:
            return True
        time.sleep(0.02)
    return False


def arn_in(d, region):
    return client(d, "dynamodb", region).describe_table(TableName="fis-t")["Table"]["TableArn"]


@pytest.mark.parametrize("change", [
    dict(action="aws:ec2:stop-instances"), dict(key="Instances"),
    dict(resource_type="aws:ec2:instance"), dict(duration="five minutes")])
def test_templates_are_validated(dep, change):
    fis = client(dep, "fis", "us-east-2")
    with pytest.raises(ClientError) as e:
        fis.create_experiment_template(**template(arn_in(dep, "us-east-2"), **change))
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_a_running_experiment_pauses_replication_until_stopped(dep):
    fis = client(dep, "fis", "us-east-2")
    east = client(dep, "dynamodb", "us-east-1")
    tid = fis.create_experiment_template(**template(arn_in(dep, "us-east-2")))[
        "experimentTemplate"]["id"]
    eid = fis.start_experiment(clientToken="s", experimentTemplateId=tid)["experiment"]["id"]
    assert fis.get_experiment(id=eid)["experiment"]["state"]["status"] == "running"
    east.put_item(TableName="fis-t", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    assert not sees(dep, "us-east-2", 1, within_s=0.5)  # held back while paused
    assert fis.stop_experiment(id=eid)["experiment"]["state"]["status"] == "stopped"
    assert sees(dep, "us-east-2", 1, within_s=5.0)  # caught up after the stop
    fis.delete_experiment_template(id=tid)
    with pytest.raises(ClientError) as e:
        fis.delete_experiment_template(id=tid)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


PAUSE_S = 2.0


def test_the_pause_ends_with_its_duration(dep):
    """Held back only while the pause is certainly in force: the check ends well before
    `duration` after the experiment was asked to start, however long the put took on a
    busy machine (with a fixed 0.3 s check after a slow put, the pause had ended and
    replication caught up within the check)."""
    fis = client(dep, "fis", "us-east-2")
    east = client(dep, "dynamodb", "us-east-1")
    tid = fis.create_experiment_template(**template(
        arn_in(dep, "us-east-2"), duration=f"PT{PAUSE_S:g}S"))["experimentTemplate"]["id"]
    asked = time.monotonic()
    eid = fis.start_experiment(clientToken="s", experimentTemplateId=tid)["experiment"]["id"]
    east.put_item(TableName="fis-t", Item={"pk": {"S": "k"}, "v": {"N": "2"}})
    in_force_s = asked + PAUSE_S - 0.2 - time.monotonic()  # the pause surely lasts this
    assert in_force_s > 0.1, "the put took the whole pause: nothing left to check"
    assert not sees(dep, "us-east-2", 2, within_s=min(0.5, in_force_s))
    assert sees(dep, "us-east-2", 2, within_s=10.0)
    assert fis.get_experiment(id=eid)["experiment"]["state"]["status"] == "completed"


def test_duration_parsing():
    assert parse_duration("PT5M") == 300
    assert parse_duration("PT1H2M3S") == 3723
    with pytest.raises(Exception):
        parse_duration("P1D")
