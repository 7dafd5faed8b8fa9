"""A11: transactions are ACID in their region; replication is per item, so a remote region
can observe a torn transaction.

A bank transfer moves 1 between accounts A and B with TransactWriteItems in us-east-1, over
and over. In us-east-1, TransactGetItems always sees A + B == 100. us-east-2 reads A and B
in one TransactGetItems (a consistent snapshot of us-east-2) while the two items replicate
separately, and catches a state where the transfer is half applied (A + B != 100).
"""

from emulator import Deployment
from emulator.testing import create_global_table, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
TRANSFERS_MAX = 40


def _balances(c):
    resp = c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "a11", "Key": {"pk": {"S": k}}}} for k in ("A", "B")])
    items = [r.get("Item") for r in resp["Responses"]]
    return tuple(int(i["v"]["N"]) if i else None for i in items)


def _transfer(c, src, dst):
    c.transact_write_items(TransactItems=[
        {"Update": {"TableName": "a11", "Key": {"pk": {"S": src}},
                    "UpdateExpression": "SET v = v - :one", "ConditionExpression": "v >= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Update": {"TableName": "a11", "Key": {"pk": {"S": dst}},
                    "UpdateExpression": "SET v = v + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])


def test_remote_region_sees_torn_transaction():
    with Deployment(REGIONS, latency_scale=0.01, seed=11, replication_jitter_ms=80) as d:
        cs = create_global_table(d, "a11")
        east1, east2 = cs["us-east-1"], cs["us-east-2"]
        east1.transact_write_items(TransactItems=[
            {"Put": {"TableName": "a11", "Item": {"pk": {"S": "A"}, "v": {"N": "50"}}}},
            {"Put": {"TableName": "a11", "Item": {"pk": {"S": "B"}, "v": {"N": "50"}}}}])
        wait_until(lambda: _balances(east2) == (50, 50), what="initial balances replicated")
        torn = []
        for i in range(TRANSFERS_MAX):
            _transfer(east1, "A", "B")
            assert sum(_balances(east1)) == 100  # ACID in the region that ran it
            for _ in range(30):  # watch us-east-2 while this transfer replicates
                a, b = _balances(east2)
                if a + b != 100:
                    torn.append((a, b))
                if (a, b) == (50 - i - 1, 50 + i + 1):
                    break
            if torn:
                break
        assert torn, "us-east-2 never showed a half-applied transfer"
        wait_until(lambda: _balances(east2) == _balances(east1), what="convergence")
