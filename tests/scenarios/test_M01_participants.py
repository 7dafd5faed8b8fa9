"""M01: an MRSC table has exactly three participants -- three replicas, or two replicas
plus a witness that holds only the journal (no table, no data endpoint) -- set up with
one UpdateTable on an empty table; invalid set-ups get the service's ValidationException."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.deployment import Deployment
from mrsc_scenario_support import (US, client, create_strong_table, error_code, put, read_n,
                                   strong_deployment, strong_table)


def test_three_replicas():
    with strong_deployment() as d:
        table = create_strong_table(d)
        assert table["MultiRegionConsistency"] == "STRONG"
        # Replicas lists the other replica regions (DescribeTable answered by us-east-1).
        assert {r["RegionName"] for r in table["Replicas"]} | {"us-east-1"} == set(US)
        assert "GlobalTableWitnesses" not in table or not table["GlobalTableWitnesses"]
        put(client(d, "us-west-2"), "k", 1)
        assert read_n(client(d, "us-east-1"), "k", consistent=True) == 1


def test_two_replicas_and_a_witness_without_data_endpoint():
    with strong_deployment(witness=True) as d:
        table = create_strong_table(d)
        assert table["MultiRegionConsistency"] == "STRONG"
        assert {r["RegionName"] for r in table["Replicas"]} | {"us-east-1"} == {
            "us-east-1", "us-east-2"}
        assert [(w["RegionName"], w["WitnessStatus"]) for w in table["GlobalTableWitnesses"]] \
            == [("us-west-2", "ACTIVE")]
        assert "us-west-2" not in d.endpoints  # the witness serves no data
        status = d.status()["tables"]["mrsc"]["engine"]
        participants = {j["participant"] for j in status["journal"]}
        assert participants == set(US)  # ...but it is a journal participant
        put(client(d, "us-east-2"), "k", 1)
        assert read_n(client(d, "us-east-1"), "k", consistent=True) == 1


def _create(d, home="us-east-1"):
    client(d, home).create_table(
        TableName="mrsc", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return client(d, home)


def _rejected(fn) -> str:
    with pytest.raises(ClientError) as e:
        fn()
    assert error_code(e.value) == "ValidationException"
    return e.value.response["Error"]["Message"]


def test_a_fourth_region_is_rejected():
    with Deployment([*US, "us-west-1"], mode="strong", latency_scale=0) as d:
        ddb = _create(d)
        _rejected(lambda: ddb.update_table(
            TableName="mrsc", MultiRegionConsistency="STRONG",
            ReplicaUpdates=[{"Create": {"RegionName": r}}
                            for r in ("us-east-2", "us-west-2", "us-west-1")]))


def test_a_witness_with_three_replicas_is_rejected():
    with Deployment(["us-east-1", "us-east-2", "us-west-1"], mode="strong",
                    witness="us-west-2", latency_scale=0) as d:
        ddb = _create(d)
        _rejected(lambda: ddb.update_table(
            TableName="mrsc", MultiRegionConsistency="STRONG",
            ReplicaUpdates=[{"Create": {"RegionName": r}} for r in ("us-east-2", "us-west-1")],
            GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}]))


def test_a_region_outside_the_region_set_is_rejected():
    with Deployment(["us-east-1", "us-east-2", "eu-west-1"], mode="strong",
                    latency_scale=0) as d:
        ddb = _create(d)
        _rejected(lambda: ddb.update_table(
            TableName="mrsc", MultiRegionConsistency="STRONG",
            ReplicaUpdates=[{"Create": {"RegionName": r}} for r in ("us-east-2", "eu-west-1")]))


def test_non_empty_table_and_later_changes_are_rejected():
    with strong_deployment() as d:
        ddb = _create(d)
        put(ddb, "k", 1)
        _rejected(lambda: ddb.update_table(
            TableName="mrsc", MultiRegionConsistency="STRONG",
            ReplicaUpdates=[{"Create": {"RegionName": r}} for r in ("us-east-2", "us-west-2")]))
    with strong_table() as d:
        ddb = client(d, "us-east-1")
        # A single replica cannot be removed.
        _rejected(lambda: ddb.update_table(
            TableName="mrsc", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}]))
        put(ddb, "k", 1)  # and the table keeps working
        assert read_n(client(d, "us-west-2"), "k", consistent=True) == 1
