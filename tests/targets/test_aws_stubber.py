"""The FIS and tagging calls gtcheck makes, checked against botocore's service models with
botocore's Stubber: each request must validate against the operation's input shape (the
client validates parameters before the Stubber sees them) and match the expected
parameters exactly; each canned response validates against the output shape."""

import boto3
import pytest
from botocore.stub import ANY, Stubber

from suite.targets.aws import RUN_TAG, tagged_tables
from suite.targets.base import GlobalTableProvisioner
from suite.targets.fis import PAUSE_ACTION, TARGET_TYPE, FisPauseReplication

ARN = "arn:aws:dynamodb:us-east-2:123456789012:table/gtcheck-t"
ROLE = "arn:aws:iam::123456789012:role/gtcheck-fis"


def make(service, region):
    return boto3.client(service, region_name=region, endpoint_url="http://127.0.0.1:9",
                        aws_access_key_id="x", aws_secret_access_key="x")


def experiment(status):
    return {"experiment": {"id": "EXP1", "experimentTemplateId": "EXT1",
                           "state": {"status": status, "reason": "r"}}}


def test_fis_pause_and_resume_calls_match_the_fis_model():
    fis, ddb = make("fis", "us-east-2"), make("dynamodb", "us-east-2")
    with Stubber(fis) as f, Stubber(ddb) as d:
        d.add_response("describe_table", {"Table": {"TableName": "gtcheck-t", "TableArn": ARN}},
                       {"TableName": "gtcheck-t"})
        f.add_response("create_experiment_template",
                       {"experimentTemplate": {"id": "EXT1"}},
                       {"clientToken": ANY, "description": ANY,
                        "stopConditions": [{"source": "none"}],
                        "targets": {"Replica": {"resourceType": TARGET_TYPE,
                                                "resourceArns": [ARN], "selectionMode": "ALL"}},
                        "actions": {"PauseReplication": {
                            "actionId": PAUSE_ACTION, "parameters": {"duration": "PT10M"},
                            "targets": {"Tables": "Replica"}}},
                        "roleArn": ROLE, "tags": {"gtcheck": "pause-replication"}})
        f.add_response("start_experiment", experiment("initiating"),
                       {"clientToken": ANY, "experimentTemplateId": "EXT1",
                        "tags": {"gtcheck": "pause-replication"}})
        f.add_response("get_experiment", experiment("running"), {"id": "EXP1"})
        # heal: every experiment of its templates (also any whose id was never learned),
        # still running -> stop, wait until stopped, delete the template
        f.add_response("list_experiments", {"experiments": [
            {"id": "EXP1", "experimentTemplateId": "EXT1"}]}, {})
        f.add_response("get_experiment", experiment("running"), {"id": "EXP1"})
        f.add_response("stop_experiment", experiment("stopping"), {"id": "EXP1"})
        f.add_response("get_experiment", experiment("stopped"), {"id": "EXP1"})
        f.add_response("delete_experiment_template", {"experimentTemplate": {"id": "EXT1"}},
                       {"id": "EXT1"})
        nem = FisPauseReplication(lambda r: fis, lambda r: ddb, ROLE, poll_s=0)
        assert nem.fault("fis-pause-replication", {"region": "us-east-2"},
                         tables=["gtcheck-t"]) == {"paused": ["us-east-2"]}
        assert nem.fault("heal", None, tables=["gtcheck-t"]) == {"paused": []}
        f.assert_no_pending_responses()
        d.assert_no_pending_responses()


def test_a_refused_template_is_a_definite_failure():
    from suite.errors import BadInput
    fis, ddb = make("fis", "us-east-2"), make("dynamodb", "us-east-2")
    with Stubber(fis) as f, Stubber(ddb) as d:
        d.add_response("describe_table", {"Table": {"TableArn": ARN}}, {"TableName": "t"})
        f.add_client_error("create_experiment_template", "ValidationException",
                           "role cannot be assumed", 400)
        nem = FisPauseReplication(lambda r: fis, lambda r: ddb, ROLE, poll_s=0)
        with pytest.raises(BadInput, match="ValidationException: role cannot be assumed"):
            nem.fault("fis-pause-replication", {"region": "us-east-2"}, tables=["t"])
        assert nem.running == {}


def test_tagging_calls_match_the_dynamodb_model():
    regions = ("us-east-1", "us-east-2")
    clients = {r: make("dynamodb", r) for r in regions}
    stubs = {r: Stubber(c) for r, c in clients.items()}
    home, other = stubs["us-east-1"], stubs["us-east-2"]
    tags = [{"Key": RUN_TAG, "Value": "gtcheck-t"}]
    home.add_response("create_table", {"TableDescription": {"TableName": "gtcheck-t"}},
                      {"TableName": "gtcheck-t", "AttributeDefinitions": ANY,
                       "KeySchema": ANY, "BillingMode": "PAY_PER_REQUEST",
                       "StreamSpecification": ANY, "Tags": tags})
    for _ in range(2):  # two consecutive ACTIVE reads
        home.add_response("describe_table", {"Table": {"TableStatus": "ACTIVE"}},
                          {"TableName": "gtcheck-t"})
    home.add_response("update_table", {"TableDescription": {}},
                      {"TableName": "gtcheck-t",
                       "ReplicaUpdates": [{"Create": {"RegionName": "us-east-2"}}]})
    for _ in range(2):  # two consecutive reads with the replica ACTIVE
        home.add_response("describe_table", {"Table": {
            "TableStatus": "ACTIVE", "Replicas": [{"RegionName": "us-east-2",
                                                   "ReplicaStatus": "ACTIVE"}]}},
            {"TableName": "gtcheck-t"})
        other.add_response("describe_table", {"Table": {"TableStatus": "ACTIVE"}},
                           {"TableName": "gtcheck-t"})
    other.add_response("describe_table", {"Table": {"TableArn": ARN}},
                       {"TableName": "gtcheck-t"})
    other.add_response("tag_resource", {}, {"ResourceArn": ARN, "Tags": tags})
    # cleanup's look-up: ListTables, DescribeTable, ListTagsOfResource
    other.add_response("list_tables", {"TableNames": ["gtcheck-t"]}, {})
    other.add_response("describe_table", {"Table": {"TableArn": ARN}},
                       {"TableName": "gtcheck-t"})
    other.add_response("list_tags_of_resource", {"Tags": tags}, {"ResourceArn": ARN})
    for s in stubs.values():
        s.activate()
    try:
        GlobalTableProvisioner(lambda r: clients[r], "async", regions, poll_s=0,
                               tags={RUN_TAG: "gtcheck-t"}).create("gtcheck-t")
        assert tagged_tables(lambda r: clients[r], ["us-east-2"]) == [
            ("us-east-2", "gtcheck-t", "gtcheck-t")]
        for s in stubs.values():
            s.assert_no_pending_responses()
    finally:
        for s in stubs.values():
            s.deactivate()
