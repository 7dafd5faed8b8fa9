"""Resource-based policies through boto3 over HTTP (emulator/resource_policies.py)."""

import json

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import clients


def doc(action):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": [action],
        "Resource": "*"}]})


@pytest.fixture
def table():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=2) as d:
        c = clients(d)["us-east-1"]
        t = c.create_table(TableName="pol", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST",
                           StreamSpecification={"StreamEnabled": True,
                                                "StreamViewType": "KEYS_ONLY"})["TableDescription"]
        yield c, t


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_put_get_revisions_and_delete(table):
    c, t = table
    arn = t["TableArn"]
    with pytest.raises(ClientError) as e:
        c.get_resource_policy(ResourceArn=arn)
    assert error(e) == ("PolicyNotFoundException", "Resource-based policy not found for the "
                        f"provided ResourceArn: {arn}")
    r1 = c.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:*"))["RevisionId"]
    assert c.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:*"))["RevisionId"] == r1
    got = c.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == r1 and json.loads(got["Policy"])["Statement"][0]["Action"] == [
        "dynamodb:*"]
    r2 = c.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:PutItem"),
                               ExpectedRevisionId=r1)["RevisionId"]
    assert r2 != r1 and r2 > r1
    with pytest.raises(ClientError) as e:  # a stale revision
        c.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:GetItem"),
                              ExpectedRevisionId=r1)
    assert error(e) == ("PolicyNotFoundException", "Resource-based policy not found for the "
                        f"provided ResourceArn: Requested update for policy with revision id {r1}, "
                        f"but the policy associated to target table pol has revision id {r2}.")
    with pytest.raises(ClientError) as e:
        c.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:GetItem"),
                              ExpectedRevisionId="NO_POLICY")
    assert error(e)[0] == "PolicyNotFoundException" and "expecting none" in error(e)[1]
    with pytest.raises(ClientError) as e:
        c.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId="unknown")
    assert error(e)[0] == "PolicyNotFoundException"
    assert c.delete_resource_policy(ResourceArn=arn)["RevisionId"] == r2
    with pytest.raises(ClientError) as e:
        c.get_resource_policy(ResourceArn=arn)
    assert error(e)[0] == "PolicyNotFoundException"
    assert "RevisionId" not in c.delete_resource_policy(ResourceArn=arn)


def test_stream_policies_unknown_resources_and_bad_documents(table):
    c, t = table
    stream = t["LatestStreamArn"]
    c.put_resource_policy(ResourceArn=stream, Policy=doc("dynamodb:GetRecords"))
    assert "GetRecords" in c.get_resource_policy(ResourceArn=stream)["Policy"]
    with pytest.raises(ClientError) as e:  # the table's own policy is a different one
        c.get_resource_policy(ResourceArn=t["TableArn"])
    assert error(e)[0] == "PolicyNotFoundException"
    for call in (c.get_resource_policy, c.delete_resource_policy):
        with pytest.raises(ClientError) as e:
            call(ResourceArn=t["TableArn"] + "unknown")
        assert error(e) == ("ResourceNotFoundException",
                            "Requested resource not found: Table: polunknown not found")
    with pytest.raises(ClientError) as e:
        c.put_resource_policy(ResourceArn=t["TableArn"], Policy="not json")
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        c.put_resource_policy(ResourceArn=t["TableArn"], Policy=json.dumps({"x": "y" * 21000}))
    assert error(e)[0] == "ValidationException"
    c.put_resource_policy(ResourceArn=t["TableArn"], Policy=doc("dynamodb:Query"))
    c.delete_table(TableName="pol")  # the policy goes with its table
    c.create_table(TableName="pol", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        c.get_resource_policy(ResourceArn=t["TableArn"])
    assert error(e)[0] == "PolicyNotFoundException"
