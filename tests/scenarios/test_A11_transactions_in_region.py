"""A11, in the region that runs them: TransactWriteItems / TransactGetItems are ACID.

Through boto3 against the emulator: a transaction with one failing condition writes
nothing (all-or-nothing, with cancellation reasons); concurrent transfers and snapshot
reads in one region always see the total conserved (serializable with the region's other
writes); 100 items are accepted and 101 rejected; a repeated ClientRequestToken is applied
once and a reused token with other parameters is refused (idempotency); MRSC tables reject
transactions (M14). The planted fault `transaction-two-step` (emulator/bugs.py) breaks the
in-region guarantee, and a same-region snapshot read then sees half a transaction.
"""

import threading

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import create_global_table, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
T = "a11tx"


def item(k, v):
    return {"pk": {"S": k}, "v": {"N": str(v)}}


def put(k, v):
    return {"Put": {"TableName": T, "Item": item(k, v)}}


def balances(c, keys):
    resp = c.transact_get_items(TransactItems=[
        {"Get": {"TableName": T, "Key": {"pk": {"S": k}}}} for k in keys])
    return [int(r["Item"]["v"]["N"]) if "Item" in r else None for r in resp["Responses"]]


def transfer(c, src, dst, amount=1):
    c.transact_write_items(TransactItems=[
        {"Update": {"TableName": T, "Key": {"pk": {"S": src}},
                    "UpdateExpression": "SET v = v - :a", "ConditionExpression": "v >= :a",
                    "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
        {"Update": {"TableName": T, "Key": {"pk": {"S": dst}},
                    "UpdateExpression": "SET v = v + :a",
                    "ExpressionAttributeValues": {":a": {"N": str(amount)}}}}])


@pytest.fixture
def east1():
    with Deployment(REGIONS, latency_scale=0.01, seed=5) as d:
        yield create_global_table(d, T)["us-east-1"]


def test_all_or_nothing_with_cancellation_reasons(east1):
    east1.transact_write_items(TransactItems=[put("A", 5), put("B", 5)])
    with pytest.raises(ClientError) as e:
        transfer(east1, "A", "B", amount=6)  # A's condition fails: B must not change
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in e.value.response["CancellationReasons"]]
    assert reasons == ["ConditionalCheckFailed", "None"]
    assert balances(east1, ["A", "B"]) == [5, 5]


def test_concurrent_transfers_and_reads_conserve_the_total_in_region(east1):
    keys = ["A", "B", "C", "D"]
    east1.transact_write_items(TransactItems=[put(k, 25) for k in keys])
    seen, errors = [], []

    def mover(i):
        for j in range(40):
            try:
                transfer(east1, keys[(i + j) % 4], keys[(i + j + 1) % 4])
            except ClientError as e:  # a failed condition: definitely not applied
                if e.response["Error"]["Code"] != "TransactionCanceledException":
                    errors.append(e)

    def reader():
        for _ in range(60):
            seen.append(sum(balances(east1, keys)))

    threads = [threading.Thread(target=mover, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert seen and set(seen) == {100}
    assert sum(balances(east1, keys)) == 100


def test_one_hundred_items_and_no_more(east1):
    east1.transact_write_items(TransactItems=[put(f"k{i}", i) for i in range(100)])
    assert balances(east1, ["k0", "k99"]) == [0, 99]
    with pytest.raises(ClientError) as e:
        east1.transact_write_items(TransactItems=[put(f"k{i}", i) for i in range(101)])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        balances(east1, [f"k{i}" for i in range(101)])
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_client_request_token_makes_the_transaction_idempotent(east1):
    add = [{"Update": {"TableName": T, "Key": {"pk": {"S": "n"}},
                       "UpdateExpression": "ADD v :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    east1.transact_write_items(TransactItems=add, ClientRequestToken="tok-1")
    east1.transact_write_items(TransactItems=add, ClientRequestToken="tok-1")  # a retry
    assert balances(east1, ["n"]) == [1]
    east1.transact_write_items(TransactItems=add, ClientRequestToken="tok-2")
    assert balances(east1, ["n"]) == [2]
    with pytest.raises(ClientError) as e:
        east1.transact_write_items(TransactItems=[put("n", 0)], ClientRequestToken="tok-1")
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert balances(east1, ["n"]) == [2]


def test_mrsc_rejects_transactions():
    with Deployment(REGIONS, latency_scale=0.01, seed=5) as d:
        c = create_global_table(d, T, mode="STRONG")["us-east-1"]
        with pytest.raises(ClientError) as e:
            c.transact_write_items(TransactItems=[put("A", 1), put("B", 1)])
        assert e.value.response["Error"]["Code"] == "ValidationException"


def test_two_step_fault_lets_the_same_region_see_half_a_transaction():
    with Deployment(REGIONS, latency_scale=0.01, seed=5,
                    bugs=["transaction-two-step"]) as d:
        c = create_global_table(d, T)["us-east-1"]
        c.transact_write_items(TransactItems=[put("A", 50), put("B", 50)])
        torn, stop = [], threading.Event()

        def reader():
            while not stop.is_set():
                a, b = balances(c, ["A", "B"])
                if a + b != 100:
                    torn.append((a, b))

        t = threading.Thread(target=reader)
        t.start()
        try:
            for _ in range(30):
                transfer(c, "A", "B")
                if torn:
                    break
        finally:
            stop.set()
            t.join(timeout=30)
        assert torn, "the same region never saw half of a transfer"
        wait_until(lambda: sum(balances(c, ["A", "B"])) == 100, what="both halves applied")
