"""Table settings through boto3 over HTTP: capacity mode and throughput, warm throughput,
encryption at rest, deletion protection, streams enabled twice, tag pages
(emulator/table_settings.py, emulator/cluster.py)."""

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import client, clients, wait_until

KEY = [{"AttributeName": "id", "KeyType": "HASH"}]
DEFS = [{"AttributeName": "id", "AttributeType": "S"}]


@pytest.fixture
def dep():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=9) as d:
        yield d


@pytest.fixture
def ddb(dep):
    return clients(dep)["us-east-1"]


@pytest.fixture
def raw(dep):
    """A client that sends what boto3 would refuse to send (the server must refuse it)."""
    return client(dep.endpoints["us-east-1"], "us-east-1",
                  config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))


def make(c, name, **kw):
    return c.create_table(TableName=name, KeySchema=KEY, AttributeDefinitions=DEFS,
                          **kw)["TableDescription"]


def table(c, name):
    return c.describe_table(TableName=name)["Table"]


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_provisioned_throughput_is_kept_and_updated(ddb, raw):
    make(ddb, "prov", ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3})
    t = table(ddb, "prov")
    assert t["BillingModeSummary"] == {"BillingMode": "PROVISIONED"}
    assert t["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 2,
                                          "WriteCapacityUnits": 3}
    up = ddb.update_table(TableName="prov", ProvisionedThroughput={
        "ReadCapacityUnits": 10, "WriteCapacityUnits": 11})["TableDescription"]
    assert up["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert "LastIncreaseDateTime" in up["ProvisionedThroughput"]
    down = ddb.update_table(TableName="prov", ProvisionedThroughput={
        "ReadCapacityUnits": 1, "WriteCapacityUnits": 11})["TableDescription"]
    assert down["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1
    with pytest.raises(ClientError) as e:  # nothing would change
        ddb.update_table(TableName="prov", ProvisionedThroughput={
            "ReadCapacityUnits": 1, "WriteCapacityUnits": 11})
    assert error(e)[0] == "ValidationException"
    assert error(e)[1].startswith("The provisioned throughput for the table will not change")
    with pytest.raises(ClientError) as e:
        make(raw, "zero", ProvisionedThroughput={"ReadCapacityUnits": 0, "WriteCapacityUnits": 1})
    assert error(e)[0] == "ValidationException" and "readCapacityUnits" in error(e)[1]


def test_billing_mode_rules_and_switches(ddb):
    with pytest.raises(ClientError) as e:
        make(ddb, "both", BillingMode="PAY_PER_REQUEST",
             ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert error(e) == ("ValidationException", "ProvisionedThroughput cannot be specified when "
                        "BillingMode is PAY_PER_REQUEST")
    make(ddb, "ondemand", BillingMode="PAY_PER_REQUEST")
    assert table(ddb, "ondemand")["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    with pytest.raises(ClientError) as e:  # units on an on-demand table
        ddb.update_table(TableName="ondemand", ProvisionedThroughput={
            "ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert error(e)[0] == "ValidationException" and "PAY_PER_REQUEST" in error(e)[1]
    with pytest.raises(ClientError) as e:  # to PROVISIONED without units
        ddb.update_table(TableName="ondemand", BillingMode="PROVISIONED")
    assert error(e)[0] == "ValidationException"
    t = ddb.update_table(TableName="ondemand", BillingMode="PROVISIONED", ProvisionedThroughput={
        "ReadCapacityUnits": 1, "WriteCapacityUnits": 2})["TableDescription"]
    assert t["BillingModeSummary"] == {"BillingMode": "PROVISIONED"}
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"],
            t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (1, 2)
    back = ddb.update_table(TableName="ondemand", BillingMode="PAY_PER_REQUEST")["TableDescription"]
    assert back["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in back["BillingModeSummary"]
    assert back["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


def test_warm_throughput(ddb):
    make(ddb, "warm0", BillingMode="PAY_PER_REQUEST")
    assert table(ddb, "warm0")["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
    make(ddb, "warm1", BillingMode="PAY_PER_REQUEST",
         WarmThroughput={"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000})
    assert table(ddb, "warm1")["WarmThroughput"]["ReadUnitsPerSecond"] == 15000
    with pytest.raises(ClientError) as e:
        make(ddb, "warm2", BillingMode="PAY_PER_REQUEST",
             WarmThroughput={"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 3000})
    assert error(e)[0] == "ValidationException"
    assert ("Requested WriteUnitsPerSecond for WarmThroughput for table is lower than initial "
            "throughput for OnDemand") in error(e)[1]
    ddb.update_table(TableName="warm0", WarmThroughput={"WriteUnitsPerSecond": 9000})
    assert table(ddb, "warm0")["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 9000, "Status": "ACTIVE"}
    with pytest.raises(ClientError) as e:  # warm throughput is never lowered
        ddb.update_table(TableName="warm0", WarmThroughput={"WriteUnitsPerSecond": 8000})
    assert error(e)[0] == "ValidationException"
    # Provisioned units above the warm throughput raise it.
    make(ddb, "warm3", ProvisionedThroughput={"ReadCapacityUnits": 20000, "WriteCapacityUnits": 1})
    assert table(ddb, "warm3")["WarmThroughput"]["ReadUnitsPerSecond"] == 20000


def test_warm_throughput_update_takes_time_on_the_aws_like_control_plane():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=4, control_plane_scale=0.05) as d:
        c = clients(d)["us-east-1"]
        make(c, "www", BillingMode="PAY_PER_REQUEST")
        wait_until(lambda: _status(c, "www") == "ACTIVE", timeout_s=30, what="ACTIVE")
        t = c.update_table(TableName="www", WarmThroughput={"ReadUnitsPerSecond": 20000})
        assert t["TableDescription"]["WarmThroughput"]["Status"] == "UPDATING"
        wait_until(lambda: table(c, "www")["WarmThroughput"]["Status"] == "ACTIVE", timeout_s=30,
                   what="warm throughput ACTIVE")


def _status(c, name):
    try:
        return table(c, name)["TableStatus"]
    except c.exceptions.ResourceNotFoundException:
        return None


def test_encryption_at_rest(ddb):
    make(ddb, "owned", BillingMode="PAY_PER_REQUEST", SSESpecification={"Enabled": False})
    assert "SSEDescription" not in table(ddb, "owned")
    make(ddb, "managed", BillingMode="PAY_PER_REQUEST", SSESpecification={"Enabled": True})
    sse = table(ddb, "managed")["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    assert sse["KMSMasterKeyArn"].startswith("arn:aws:kms:us-east-1:")
    make(ddb, "custom", BillingMode="PAY_PER_REQUEST",
         SSESpecification={"Enabled": True, "KMSMasterKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})
    assert table(ddb, "custom")["SSEDescription"]["KMSMasterKeyArn"] == (
        "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    arn = "arn:aws:kms:us-east-1:000000000000:key/given"
    ddb.update_table(TableName="owned", SSESpecification={"Enabled": True, "KMSMasterKeyId": arn})
    assert table(ddb, "owned")["SSEDescription"]["KMSMasterKeyArn"] == arn


def test_deletion_protection(ddb):
    make(ddb, "kept", BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True)
    assert table(ddb, "kept")["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName="kept")
    assert error(e) == ("ValidationException", "1 validation error detected: Table 'kept' can't "
                        "be deleted while DeletionProtectionEnabled is set to True")
    assert "kept" in ddb.list_tables()["TableNames"]
    t = ddb.update_table(TableName="kept", DeletionProtectionEnabled=False)["TableDescription"]
    assert t["DeletionProtectionEnabled"] is False
    ddb.delete_table(TableName="kept")
    assert "kept" not in ddb.list_tables()["TableNames"]


def test_enabling_a_stream_twice_is_refused(ddb):
    make(ddb, "streamed", BillingMode="PAY_PER_REQUEST",
         StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName="streamed", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert error(e) == ("ValidationException",
                        "Table already has an enabled stream: TableName: streamed")
    assert table(ddb, "streamed")["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    ddb.update_table(TableName="streamed", StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in table(ddb, "streamed")
    ddb.update_table(TableName="streamed", StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert table(ddb, "streamed")["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"


def test_tags_come_in_pages(ddb):
    arn = make(ddb, "tagged", BillingMode="PAY_PER_REQUEST")["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(11)])
    first = ddb.list_tags_of_resource(ResourceArn=arn)
    assert len(first["Tags"]) == 10 and "NextToken" in first
    rest = ddb.list_tags_of_resource(ResourceArn=arn, NextToken=first["NextToken"])
    assert rest["Tags"] == [{"Key": "k10", "Value": "v"}] and "NextToken" not in rest


def test_capacity_change_makes_the_table_updating_on_the_aws_like_control_plane():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=6, control_plane_scale=0.05) as d:
        c = clients(d)["us-east-1"]
        # The update takes 3 s here, so the next request surely finds the table UPDATING.
        d.cluster.control_plane.times_s["table_update"] = (60.0, 60.0)
        make(c, "cap", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        wait_until(lambda: _status(c, "cap") == "ACTIVE", timeout_s=30, what="ACTIVE")
        t = c.update_table(TableName="cap", ProvisionedThroughput={
            "ReadCapacityUnits": 2, "WriteCapacityUnits": 2})["TableDescription"]
        assert t["TableStatus"] == "UPDATING"
        with pytest.raises(ClientError) as e:  # one change at a time
            c.update_table(TableName="cap", BillingMode="PAY_PER_REQUEST")
        assert error(e)[0] == "ResourceInUseException"
        wait_until(lambda: _status(c, "cap") == "ACTIVE", timeout_s=30, what="ACTIVE again")
        assert table(c, "cap")["ProvisionedThroughput"]["ReadCapacityUnits"] == 2


def test_control_plane_calls_accept_the_table_arn(ddb):
    arn = make(ddb, "by-arn", BillingMode="PAY_PER_REQUEST")["TableArn"]
    assert ddb.describe_table(TableName=arn)["Table"]["TableName"] == "by-arn"
    assert ddb.update_table(TableName=arn, DeletionProtectionEnabled=True)[
        "TableDescription"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as e:  # another region's ARN names no table here
        ddb.describe_table(TableName=arn.replace("us-east-1", "us-west-2"))
    assert error(e)[0] == "ValidationException"
    ddb.update_table(TableName=arn, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=arn)
    assert "by-arn" not in ddb.list_tables()["TableNames"]


def test_key_schema_length_is_checked_before_its_contents(ddb):
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName="three", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                                               {"AttributeName": "b", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "a", "KeyType": "HASH"},
                                    {"AttributeName": "b", "KeyType": "RANGE"},
                                    {"AttributeName": "c", "KeyType": "RANGE"}])
    assert error(e) == ("ValidationException", "1 validation error detected: Value "
                        "'[KeySchemaElement(attributeName=a, keyType=HASH), KeySchemaElement("
                        "attributeName=b, keyType=RANGE), KeySchemaElement(attributeName=c, "
                        "keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member "
                        "must have length less than or equal to 2")
