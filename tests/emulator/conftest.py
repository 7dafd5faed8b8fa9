"""Fixtures for emulator tests: one single-region deployment per module, clients through boto3."""

import pytest

from emulator import Deployment
from emulator.testing import clients


@pytest.fixture(scope="module")
def single():
    """A one-region emulator (us-east-1) at latency scale 0, with table `items` (pk S)."""
    with Deployment(["us-east-1"], latency_scale=0.0, seed=5) as d:
        c = clients(d)["us-east-1"]
        c.create_table(TableName="items", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        c.create_table(TableName="ranged", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "N"}])
        yield d


@pytest.fixture(scope="module")
def ddb(single):
    return clients(single)["us-east-1"]
