"""M04: an MRSC write goes through the journal as a conditional, idempotent entry; every
region applies it in journal order, the origin answers after applying; a failed
ConditionExpression is decided from the same version and is linearizable."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mrsc_scenario_support import US, client, error_code, key, put, read_n, strong_table


@pytest.fixture(scope="module")
def deployment():
    with strong_table() as d:
        yield d


def test_write_applied_in_every_region_with_one_version(deployment):
    d = deployment
    put(client(d, "us-east-1"), "w", 7)
    versions = d.versions("mrsc", key("w"))
    stamps = {(v["timestamp"], v["origin"]) for v in versions.values()}
    # The origin answered after applying; an SC read anywhere is at least as new, and the
    # fence makes every region apply the same entry with the same stamp.
    for r in US:
        assert read_n(client(d, r), "w", consistent=True) == 7
    versions = d.versions("mrsc", key("w"))
    assert set(versions) == set(US)
    assert len({(v["timestamp"], v["origin"]) for v in versions.values()}) == 1
    assert {v["origin"] for v in versions.values()} == {"us-east-1"}
    assert stamps <= {(v["timestamp"], v["origin"]) for v in versions.values()} | stamps


def test_update_returns_values_computed_from_the_applied_version(deployment):
    d = deployment
    east, west = client(d, "us-east-1"), client(d, "us-west-2")
    put(east, "u", 1)
    out = west.update_item(TableName="mrsc", Key=key("u"), UpdateExpression="ADD n :d",
                           ExpressionAttributeValues={":d": {"N": "4"}},
                           ReturnValues="ALL_NEW")
    assert out["Attributes"]["n"] == {"N": "5"}
    assert read_n(east, "u", consistent=True) == 5


def test_failed_condition_goes_through_the_journal_and_changes_nothing(deployment):
    d = deployment
    east, west = client(d, "us-east-1"), client(d, "us-west-2")
    put(east, "c", 1)
    with pytest.raises(ClientError) as e:
        west.put_item(TableName="mrsc", Item={"pk": {"S": "c"}, "n": {"N": "2"}},
                      ConditionExpression="attribute_not_exists(pk)")
    assert error_code(e.value) == "ConditionalCheckFailedException"
    for r in US:
        assert read_n(client(d, r), "c", consistent=True) == 1
    # The condition is judged on the journal's latest version, not on a stale local copy:
    west.put_item(TableName="mrsc", Item={"pk": {"S": "c"}, "n": {"N": "3"}},
                  ConditionExpression="n = :one", ExpressionAttributeValues={":one": {"N": "1"}})
    assert read_n(east, "c", consistent=True) == 3


def test_delete_is_replicated_and_a_later_put_if_absent_succeeds(deployment):
    d = deployment
    east, west = client(d, "us-east-1"), client(d, "us-west-2")
    put(east, "d", 1)
    west.delete_item(TableName="mrsc", Key=key("d"))
    for r in US:
        assert read_n(client(d, r), "d", consistent=True) is None
    east.put_item(TableName="mrsc", Item={"pk": {"S": "d"}, "n": {"N": "9"}},
                  ConditionExpression="attribute_not_exists(pk)")
    assert read_n(west, "d", consistent=True) == 9
