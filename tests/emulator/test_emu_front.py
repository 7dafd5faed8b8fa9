"""The all-regions endpoint (region from the SigV4 credential scope), the control plane's
CREATING / UPDATING / DELETING statuses under a delay, and tags -- all through boto3."""

import json
import time

import boto3
import pytest
import urllib.request
from botocore.exceptions import ClientError

from emulator import Deployment

US = ["us-east-1", "us-east-2", "us-west-2"]
KS = [{"AttributeName": "pk", "KeyType": "HASH"}]
AD = [{"AttributeName": "pk", "AttributeType": "S"}]
DELAY_MS = 1500


def ddb(url, region):
    return boto3.client("dynamodb", endpoint_url=url, region_name=region,
                        aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture(scope="module")
def dep(tmp_path_factory):
    state = tmp_path_factory.mktemp("front") / "emulator.json"
    with Deployment(US, latency_scale=0.0, seed=3, control_delay_ms=DELAY_MS,
                    state_file=state) as d:
        yield d, state


def code(e):
    return e.value.response["Error"]["Code"]


def wait_for(fn, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.02)
    return False


def test_one_endpoint_serves_each_region_by_its_signature(dep):
    d, state = dep
    assert json.loads(state.read_text())["endpoint"] == d.endpoint
    assert d.endpoint not in d.endpoints.values()
    ohio = ddb(d.endpoint, "us-east-2")
    ohio.create_table(TableName="front-own", KeySchema=KS, AttributeDefinitions=AD,
                      BillingMode="PAY_PER_REQUEST")
    # The same table through Ohio's own port, and absent from Virginia.
    assert "front-own" in ddb(d.endpoints["us-east-2"], "us-east-2").list_tables()["TableNames"]
    assert "front-own" not in ddb(d.endpoint, "us-east-1").list_tables()["TableNames"]
    ohio.put_item(TableName="front-own", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    got = ddb(d.endpoints["us-east-2"], "us-east-2").get_item(
        TableName="front-own", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"]["v"] == {"N": "1"}


def test_a_region_without_a_replica_answers_resource_not_found(dep):
    d, _ = dep
    ddb(d.endpoint, "us-east-1").create_table(TableName="front-home", KeySchema=KS,
                                              AttributeDefinitions=AD,
                                              BillingMode="PAY_PER_REQUEST")
    for region in ("us-west-2", "eu-west-1"):  # in the deployment, and not
        c = ddb(d.endpoint, region)
        with pytest.raises(ClientError) as e:
            c.describe_table(TableName="front-home")
        assert code(e) == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            c.get_item(TableName="front-home", Key={"pk": {"S": "a"}})
        assert code(e) == "ResourceNotFoundException"
    assert ddb(d.endpoint, "eu-west-1").list_tables()["TableNames"] == []


def test_an_unsigned_request_is_refused(dep):
    d, _ = dep
    req = urllib.request.Request(d.endpoint, data=b"{}", method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400
    assert "MissingAuthenticationToken" in e.value.read().decode()


def test_replicas_are_creating_then_active_and_deleting_then_gone(dep):
    d, _ = dep
    home = ddb(d.endpoint, "us-east-1")
    home.create_table(TableName="front-cp", KeySchema=KS, AttributeDefinitions=AD,
                      BillingMode="PAY_PER_REQUEST")
    assert wait_for(lambda: home.describe_table(TableName="front-cp")["Table"]
                    ["TableStatus"] == "ACTIVE")
    home.update_table(TableName="front-cp", ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
    t = home.describe_table(TableName="front-cp")["Table"]
    assert t["TableStatus"] == "UPDATING"
    assert t["Replicas"] == [{"RegionName": "us-east-2", "ReplicaStatus": "CREATING"}]
    own = ddb(d.endpoint, "us-east-2").describe_table(TableName="front-cp")["Table"]
    assert own["TableStatus"] == "CREATING"
    with pytest.raises(ClientError) as e:  # one change at a time, as on AWS
        home.update_table(TableName="front-cp",
                          ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert code(e) == "ResourceInUseException"
    assert wait_for(lambda: home.describe_table(TableName="front-cp")["Table"]
                    ["TableStatus"] == "ACTIVE")
    assert ddb(d.endpoint, "us-east-2").describe_table(
        TableName="front-cp")["Table"]["TableStatus"] == "ACTIVE"
    home.update_table(TableName="front-cp", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}])
    t = home.describe_table(TableName="front-cp")["Table"]
    assert t["TableStatus"] == "UPDATING"
    assert t["Replicas"] == [{"RegionName": "us-east-2", "ReplicaStatus": "DELETING"}]
    assert wait_for(lambda: home.describe_table(TableName="front-cp")["Table"]
                    ["TableStatus"] == "ACTIVE")
    assert home.describe_table(TableName="front-cp")["Table"].get("Replicas", []) == []
    home.delete_table(TableName="front-cp")
    assert home.describe_table(TableName="front-cp")["Table"]["TableStatus"] == "DELETING"
    assert "front-cp" in home.list_tables()["TableNames"]

    def gone():
        try:
            home.describe_table(TableName="front-cp")
        except ClientError as e:
            return e.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    assert wait_for(gone)
    assert "front-cp" not in home.list_tables()["TableNames"]


def test_tags_per_region(dep):
    d, _ = dep
    home = ddb(d.endpoint, "us-east-1")
    home.create_table(TableName="front-tags", KeySchema=KS, AttributeDefinitions=AD,
                      BillingMode="PAY_PER_REQUEST", Tags=[{"Key": "gtcheck:run", "Value": "r1"}])
    arn = home.describe_table(TableName="front-tags")["Table"]["TableArn"]
    assert home.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "gtcheck:run", "Value": "r1"}]
    home.tag_resource(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "me"}])
    home.untag_resource(ResourceArn=arn, TagKeys=["gtcheck:run"])
    assert home.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "owner", "Value": "me"}]
    with pytest.raises(ClientError) as e:  # an ARN of another region
        ddb(d.endpoint, "us-east-2").list_tags_of_resource(ResourceArn=arn)
    assert code(e) == "ValidationException"


def test_a_stopped_region_drops_its_connections_on_the_shared_endpoint(dep):
    d, _ = dep
    d.stop_region("us-west-2")
    try:
        c = boto3.client("dynamodb", endpoint_url=d.endpoint, region_name="us-west-2",
                         aws_access_key_id="x", aws_secret_access_key="x",
                         config=boto3.session.Config(retries={"total_max_attempts": 1}))
        with pytest.raises(Exception) as e:
            c.list_tables()
        assert "Connection" in type(e.value).__name__ or "connection" in str(e.value).lower()
        assert ddb(d.endpoint, "us-east-1").list_tables()["TableNames"] is not None
    finally:
        d.start_region("us-west-2")
