"""Control plane through boto3: tables, replicas (2019.11.21), MRSC set-up rules, shapes."""

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import clients, create_global_table, get, wait_until

US = ["us-east-1", "us-east-2", "us-west-2"]
KS = [{"AttributeName": "pk", "KeyType": "HASH"}]
AD = [{"AttributeName": "pk", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def us():
    with Deployment(US + ["eu-west-1"], latency_scale=0.0, seed=1) as d:
        yield d


def code(e):
    return e.value.response["Error"]["Code"]


def msg(e):
    return e.value.response["Error"]["Message"]


def _create(c, name):
    c.create_table(TableName=name, KeySchema=KS, AttributeDefinitions=AD, BillingMode="PAY_PER_REQUEST")


def test_create_describe_list_delete(us):
    c = clients(us)["us-east-1"]
    _create(c, "cp-basic")
    c.get_waiter("table_exists").wait(TableName="cp-basic", WaiterConfig={"Delay": 0.1, "MaxAttempts": 5})
    t = c.describe_table(TableName="cp-basic")["Table"]
    assert t["TableStatus"] == "ACTIVE" and t["KeySchema"] == KS
    assert "Replicas" not in t and "GlobalTableVersion" not in t
    assert "cp-basic" in c.list_tables()["TableNames"]
    with pytest.raises(ClientError) as e:
        _create(c, "cp-basic")
    assert code(e) == "ResourceInUseException"
    c.delete_table(TableName="cp-basic")
    with pytest.raises(ClientError) as e:
        c.describe_table(TableName="cp-basic")
    assert code(e) == "ResourceNotFoundException"


@pytest.mark.parametrize("kwargs", [
    dict(TableName="x", KeySchema=KS, AttributeDefinitions=AD, BillingMode="PAY_PER_REQUEST"),
    dict(TableName="bad-keys", KeySchema=KS, AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
         BillingMode="PAY_PER_REQUEST"),
    dict(TableName="no-throughput", KeySchema=KS, AttributeDefinitions=AD),
    dict(TableName="two-hash", KeySchema=KS + KS, AttributeDefinitions=AD, BillingMode="PAY_PER_REQUEST"),
])
def test_create_table_validation(us, kwargs):
    with pytest.raises(ClientError) as e:
        clients(us)["us-east-1"].create_table(**kwargs)
    assert code(e) == "ValidationException"


def test_replicas_one_call_at_a_time_copy_items_and_describe(us):
    cs = clients(us)
    _create(cs["us-east-1"], "cp-rep")
    cs["us-east-1"].put_item(TableName="cp-rep", Item={"pk": {"S": "before"}})
    cs["us-east-1"].update_table(TableName="cp-rep", ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
    assert get(cs["us-east-2"], "cp-rep", "before") is not None  # replica creation copies items
    cs["us-east-2"].update_table(TableName="cp-rep", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert get(cs["us-west-2"], "cp-rep", "before") is not None
    t = cs["us-east-1"].describe_table(TableName="cp-rep")["Table"]
    assert t["GlobalTableVersion"] == "2019.11.21"
    assert t["MultiRegionConsistency"] == "EVENTUAL"
    assert sorted(r["RegionName"] for r in t["Replicas"]) == ["us-east-2", "us-west-2"]
    assert all(r["ReplicaStatus"] == "ACTIVE" for r in t["Replicas"])
    assert "LatestStreamArn" in t
    cs["us-west-2"].put_item(TableName="cp-rep", Item={"pk": {"S": "after"}})
    wait_until(lambda: get(cs["us-east-1"], "cp-rep", "after"), what="replication to us-east-1")
    cs["us-east-1"].update_table(TableName="cp-rep", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    with pytest.raises(ClientError) as e:
        cs["us-west-2"].describe_table(TableName="cp-rep")
    assert code(e) == "ResourceNotFoundException"


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(ReplicaUpdates=[{"Create": {"RegionName": "us-east-1"}}]), "local region"),
    (dict(MultiRegionConsistency="STRONG"), "Create"),
    (dict(ReplicaUpdates=[{"Create": {"RegionName": "ap-south-9"}}]), "not part"),
    (dict(ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
          GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}},
                                     {"Create": {"RegionName": "eu-west-1"}}],
          MultiRegionConsistency="STRONG"), "exactly one"),
    (dict(ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}], MultiRegionConsistency="STRONG"),
     "exactly three"),
    (dict(ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "eu-west-1"}}],
          MultiRegionConsistency="STRONG"), "region set"),
])
def test_update_table_rules(us, kwargs, fragment):
    c = clients(us)["us-east-1"]
    name = f"cp-rule-{abs(hash(fragment)) % 100000}"
    _create(c, name)
    with pytest.raises(ClientError) as e:
        c.update_table(TableName=name, **kwargs)
    assert code(e) == "ValidationException"
    assert fragment in msg(e)
    c.delete_table(TableName=name)


def test_mrsc_needs_an_empty_table(us):
    c = clients(us)["us-east-1"]
    _create(c, "cp-mrsc-full")
    c.put_item(TableName="cp-mrsc-full", Item={"pk": {"S": "x"}})
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="cp-mrsc-full", MultiRegionConsistency="STRONG",
                       ReplicaUpdates=[{"Create": {"RegionName": r}} for r in ("us-east-2", "us-west-2")])
    assert code(e) == "ValidationException" and "empty" in msg(e)


def test_create_global_table_helper_three_regions():
    with Deployment(US, latency_scale=0.0) as d:
        cs = create_global_table(d, "helper")
        for r, c in cs.items():
            t = c.describe_table(TableName="helper")["Table"]
            assert sorted(x["RegionName"] for x in t["Replicas"]) == sorted(set(US) - {r})
