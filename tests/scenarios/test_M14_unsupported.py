"""M14: MRSC tables reject transactions and TTL with a ValidationException."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mrsc_scenario_support import client, error_code, key, put, read_n, strong_table


@pytest.fixture(scope="module")
def deployment():
    with strong_table() as d:
        yield d


def _validation(fn) -> None:
    with pytest.raises(ClientError) as e:
        fn()
    assert error_code(e.value) == "ValidationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_transact_write_items_rejected_and_nothing_written(deployment):
    ddb = client(deployment, "us-east-1")
    _validation(lambda: ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "mrsc", "Item": {"pk": {"S": "tx"}, "n": {"N": "1"}}}}]))
    assert read_n(ddb, "tx", consistent=True) is None


def test_transact_get_items_rejected(deployment):
    ddb = client(deployment, "us-east-2")
    put(ddb, "g", 1)
    _validation(lambda: ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": "mrsc", "Key": key("g")}}]))


def test_update_time_to_live_rejected(deployment):
    ddb = client(deployment, "us-west-2")
    _validation(lambda: ddb.update_time_to_live(
        TableName="mrsc", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}))
