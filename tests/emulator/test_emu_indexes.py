"""Secondary indexes (emulator/indexes.py) through boto3 over HTTP: declarations and their
validation, DescribeTable's index descriptions, Query/Scan on GSIs and LSIs with
projections and sparse indexes, ConsistentRead refused on a GSI and allowed on an LSI,
index keys checked on writes, GSIs added and dropped by UpdateTable (CREATING and
Backfilling, then ACTIVE), and on global tables a GSI per region that follows that
region's replica late, in both replication modes."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import clients, create_global_table, wait_until

DEFS = [{"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"},
        {"AttributeName": "gs", "AttributeType": "N"},
        {"AttributeName": "l", "AttributeType": "N"}]
GSI_ALL = {"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
           "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                         {"AttributeName": "gs", "KeyType": "RANGE"}]}
GSI_KEYS = {"IndexName": "by-g-keys", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}
GSI_INCLUDE = {"IndexName": "by-g-incl",
               "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
               "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}
LSI = {"IndexName": "by-l", "Projection": {"ProjectionType": "ALL"},
       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                     {"AttributeName": "l", "KeyType": "RANGE"}]}


def _error(exc: pytest.ExceptionInfo) -> tuple[str, str, int]:
    e = exc.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def ddb():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=3) as d:
        c = clients(d)["us-east-1"]
        c.create_table(TableName="indexed", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=DEFS,
                       GlobalSecondaryIndexes=[GSI_ALL, GSI_KEYS, GSI_INCLUDE],
                       LocalSecondaryIndexes=[LSI])
        for i in range(6):
            c.put_item(TableName="indexed", Item={
                "pk": {"S": "p"}, "sk": {"S": f"s{i}"}, "g": {"S": "a" if i < 4 else "b"},
                "gs": {"N": str(10 - i)}, "l": {"N": str(i * 3 % 5)}, "x": {"S": f"x{i}"},
                "y": {"S": "not projected"}})
        # sparse: no GSI key attributes, so in no GSI (but in the LSI, it has `l`)
        c.put_item(TableName="indexed", Item={"pk": {"S": "p"}, "sk": {"S": "bare"},
                                              "l": {"N": "9"}})
        yield c


def test_describe_table_lists_each_index_as_the_service_does(ddb):
    t = ddb.describe_table(TableName="indexed")["Table"]
    gsis = {g["IndexName"]: g for g in t["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"by-g", "by-g-keys", "by-g-incl"}
    g = gsis["by-g"]
    assert g["IndexStatus"] == "ACTIVE" and "Backfilling" not in g  # made by CreateTable
    assert g["KeySchema"] == GSI_ALL["KeySchema"]
    assert g["Projection"] == {"ProjectionType": "ALL"}
    assert g["ItemCount"] == 6 and g["IndexSizeBytes"] > 0
    assert g["IndexArn"].endswith(":table/indexed/index/by-g")
    assert g["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert gsis["by-g-incl"]["Projection"] == GSI_INCLUDE["Projection"]
    assert gsis["by-g-keys"]["IndexSizeBytes"] < g["IndexSizeBytes"]
    (lsi,) = t["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "by-l" and lsi["ItemCount"] == 7
    assert "IndexStatus" not in lsi


def test_table_without_indexes_lists_none(ddb):
    ddb.create_table(TableName="plain", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    t = ddb.describe_table(TableName="plain")["Table"]
    assert "GlobalSecondaryIndexes" not in t and "LocalSecondaryIndexes" not in t


def test_query_gsi_in_index_order_with_pagination(ddb):
    q = dict(TableName="indexed", IndexName="by-g", KeyConditionExpression="g = :g",
             ExpressionAttributeValues={":g": {"S": "a"}})
    items = ddb.query(**q)["Items"]
    assert [i["gs"]["N"] for i in items] == ["7", "8", "9", "10"]  # sorted by the GSI's range key
    assert items[0]["y"] == {"S": "not projected"}  # ALL projects every attribute
    page = ddb.query(**q, Limit=2, ScanIndexForward=False)
    assert [i["gs"]["N"] for i in page["Items"]] == ["10", "9"]
    lek = page["LastEvaluatedKey"]
    assert set(lek) == {"pk", "sk", "g", "gs"}  # the table key and the index key
    rest = ddb.query(**q, Limit=2, ScanIndexForward=False, ExclusiveStartKey=lek)
    assert [i["gs"]["N"] for i in rest["Items"]] == ["8", "7"]
    ranged = ddb.query(TableName="indexed", IndexName="by-g",
                       KeyConditionExpression="g = :g AND gs BETWEEN :lo AND :hi",
                       ExpressionAttributeValues={":g": {"S": "a"}, ":lo": {"N": "8"},
                                                  ":hi": {"N": "9"}})
    assert ranged["Count"] == 2


def test_projections_keys_only_and_include(ddb):
    keys = ddb.query(TableName="indexed", IndexName="by-g-keys", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "b"}})["Items"]
    assert keys and all(set(i) == {"pk", "sk", "g"} for i in keys)
    incl = ddb.scan(TableName="indexed", IndexName="by-g-incl")["Items"]
    assert len(incl) == 6 and all(set(i) == {"pk", "sk", "g", "x"} for i in incl)


def test_sparse_index_leaves_out_items_without_its_key(ddb):
    assert ddb.scan(TableName="indexed", IndexName="by-g")["Count"] == 6
    assert ddb.scan(TableName="indexed")["Count"] == 7
    assert ddb.scan(TableName="indexed", IndexName="by-l")["Count"] == 7


def test_consistent_read_refused_on_a_gsi_allowed_on_an_lsi(ddb):
    for call in (lambda: ddb.query(TableName="indexed", IndexName="by-g", ConsistentRead=True,
                                   KeyConditionExpression="g = :g",
                                   ExpressionAttributeValues={":g": {"S": "a"}}),
                 lambda: ddb.scan(TableName="indexed", IndexName="by-g", ConsistentRead=True)):
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc) == ("ValidationException", "Consistent reads are not supported on "
                               "global secondary indexes", 400)
    lsi = ddb.query(TableName="indexed", IndexName="by-l", ConsistentRead=True,
                    KeyConditionExpression="pk = :p AND l >= :l",
                    ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"N": "3"}})["Items"]
    assert [i["l"]["N"] for i in lsi] == ["3", "4", "9"]


def test_query_errors_name_the_missing_key_and_the_unknown_index(ddb):
    with pytest.raises(ClientError) as exc:
        ddb.query(TableName="indexed", IndexName="by-g", KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert _error(exc) == ("ValidationException",
                           "Query condition missed key schema element: g", 400)
    with pytest.raises(ClientError) as exc:
        ddb.scan(TableName="indexed", IndexName="nope-index")
    assert _error(exc) == ("ValidationException",
                           "The table does not have the specified index: nope-index", 400)
    with pytest.raises(ClientError) as exc:
        ddb.query(TableName="indexed", IndexName="by-g-keys", Select="ALL_ATTRIBUTES",
                  KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "a"}})
    assert "projection type is not ALL" in _error(exc)[1]
    with pytest.raises(ClientError) as exc:
        ddb.scan(TableName="indexed", Select="ALL_PROJECTED_ATTRIBUTES")
    assert _error(exc)[1] == ("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using "
                              "an IndexName")


def test_index_keys_are_checked_on_writes(ddb):
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName="indexed", Item={"pk": {"S": "q"}, "sk": {"S": "1"},
                                                "g": {"N": "1"}})
    assert _error(exc) == ("ValidationException", "One or more parameter values were invalid: "
                           "Type mismatch for Index Key g Expected: S Actual: N IndexName: "
                           "by-g", 400)
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName="indexed", Item={"pk": {"S": "q"}, "sk": {"S": "1"},
                                                "g": {"S": ""}})
    assert "IndexName: by-g, IndexKey: g" in _error(exc)[1]
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName="indexed", Key={"pk": {"S": "q"}, "sk": {"S": "1"}},
                        UpdateExpression="SET g = :e", ExpressionAttributeValues={":e": {"S": ""}})
    assert "attempted to update a secondary index key" in _error(exc)[1]
    assert "Item" not in ddb.get_item(TableName="indexed", Key={"pk": {"S": "q"},
                                                                "sk": {"S": "1"}})


@pytest.mark.parametrize("kw, message", [
    (dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
          GlobalSecondaryIndexes=[{"IndexName": "by-u", "Projection": {"ProjectionType": "ALL"},
                                   "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}]}]),
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [u], AttributeDefinitions: [pk]"),
    (dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "u", "AttributeType": "S"},
                                {"AttributeName": "z", "AttributeType": "N"}],
          GlobalSecondaryIndexes=[{"IndexName": "by-u", "Projection": {"ProjectionType": "ALL"},
                                   "KeySchema": [{"AttributeName": "u", "KeyType": "HASH"}]}]),
     "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
     "AttributeDefinitions: [pk, u, z], keys used: [pk, u]"),
    (dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "z", "AttributeType": "N"}]),
     "One or more parameter values were invalid: Number of attributes in KeySchema does not "
     "exactly match number of attributes defined in AttributeDefinitions"),
])
def test_missing_and_redundant_attribute_definitions(ddb, kw, message):
    with pytest.raises(ClientError) as exc:
        ddb.create_table(TableName="refused", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], **kw)
    assert _error(exc) == ("ValidationException", message, 400)


def test_update_table_adds_a_gsi_that_backfills_then_drops_it():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=4, control_delay_ms=400) as d:
        c = clients(d)["us-east-1"]
        c.create_table(TableName="later", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        wait_until(lambda: c.describe_table(TableName="later")["Table"]["TableStatus"] == "ACTIVE")
        for i in range(3):
            c.put_item(TableName="later", Item={"pk": {"S": f"k{i}"}, "c": {"S": "red"}})
        c.update_table(TableName="later",
                       AttributeDefinitions=[{"AttributeName": "c", "AttributeType": "S"}],
                       GlobalSecondaryIndexUpdates=[{"Create": {
                           "IndexName": "by-c", "Projection": {"ProjectionType": "KEYS_ONLY"},
                           "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}]}}])
        t = c.describe_table(TableName="later")["Table"]
        (g,) = t["GlobalSecondaryIndexes"]
        assert (g["IndexStatus"], g.get("Backfilling"), t["TableStatus"]) == \
            ("CREATING", True, "UPDATING")
        with pytest.raises(ClientError) as exc:
            c.scan(TableName="later", IndexName="by-c")
        assert _error(exc)[:2] == ("ValidationException", "Cannot read from backfilling global "
                                   "secondary index: by-c")
        wait_until(lambda: c.describe_table(TableName="later")["Table"]
                   ["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE", timeout_s=30)
        assert c.scan(TableName="later", IndexName="by-c")["Count"] == 3  # backfilled
        assert {"AttributeName": "c", "AttributeType": "S"} in \
            c.describe_table(TableName="later")["Table"]["AttributeDefinitions"]
        wait_until(lambda: c.describe_table(TableName="later")["Table"]["TableStatus"] == "ACTIVE")
        c.update_table(TableName="later",
                       GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-c"}}])
        assert c.describe_table(TableName="later")["Table"]["GlobalSecondaryIndexes"][0][
            "IndexStatus"] == "DELETING"
        wait_until(lambda: "GlobalSecondaryIndexes" not in
                   c.describe_table(TableName="later")["Table"], timeout_s=30)


def test_mrsc_refuses_a_table_with_an_lsi():
    with Deployment(["us-east-1", "us-east-2", "us-west-2"], mode="strong",
                    latency_scale=0.0, seed=6) as d:
        c = clients(d)["us-east-1"]
        c.create_table(TableName="with-lsi", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "S"},
                                             {"AttributeName": "l", "AttributeType": "N"}],
                       LocalSecondaryIndexes=[LSI])
        with pytest.raises(ClientError) as exc:
            c.update_table(TableName="with-lsi", MultiRegionConsistency="STRONG",
                           ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}},
                                           {"Create": {"RegionName": "us-west-2"}}])
        assert _error(exc)[0] == "ValidationException"
        assert "local secondary indexes" in _error(exc)[1]


def _gsi_value(c, key: str) -> str | None:
    items = c.query(TableName="gtab", IndexName="by-pk", KeyConditionExpression="pk = :k",
                    ExpressionAttributeValues={":k": {"S": key}})["Items"]
    return items[0]["v"]["S"] if items else None


LAG_MS = 3000  # far above two in-process requests, even on a loaded machine


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["EVENTUAL", "STRONG"])
def test_a_gsi_follows_its_regions_replica_late_in_both_modes(mode):
    """Each region's GSI is built from that region's replica, later than the table: right
    after an acknowledged write, an SC table read in the writing region (and, under MRSC,
    in every region: M06) shows it while the GSI there still shows the old value; each
    region's GSI then catches up and never goes back."""
    with Deployment(["us-east-1", "us-east-2", "us-west-2"],
                    mode="strong" if mode == "STRONG" else "async", latency_scale=0.0,
                    seed=8, index_lag_ms=LAG_MS) as d:
        cs = create_global_table(d, "gtab", mode=mode)
        c1, c3 = cs["us-east-1"], cs["us-west-2"]
        c1.update_table(TableName="gtab", GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-pk", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}])
        for c in cs.values():  # added once, present in every replica region
            assert c.describe_table(TableName="gtab")["Table"]["GlobalSecondaryIndexes"][0][
                "IndexStatus"] == "ACTIVE"
        c1.put_item(TableName="gtab", Item={"pk": {"S": "k"}, "v": {"S": "old"}})
        for c in cs.values():
            wait_until(lambda c=c: _gsi_value(c, "k") == "old", timeout_s=60)
        c1.put_item(TableName="gtab", Item={"pk": {"S": "k"}, "v": {"S": "new"}})
        t0 = time.monotonic()
        sc = c1.get_item(TableName="gtab", Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
        assert (sc["v"]["S"], _gsi_value(c1, "k")) == ("new", "old")
        if mode == "STRONG":  # M06 reaches SC table reads anywhere, not the GSI
            sc3 = c3.get_item(TableName="gtab", Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
            assert (sc3["v"]["S"], _gsi_value(c3, "k")) == ("new", "old")
        assert time.monotonic() - t0 < LAG_MS / 1000  # the reads above were inside the lag
        for c in cs.values():
            seen: list = []
            wait_until(lambda c=c: seen.append(_gsi_value(c, "k")) or seen[-1] == "new",
                       timeout_s=60, interval_s=0.05)
            first_new = seen.index("new")
            assert set(seen[:first_new]) <= {"old"}  # it moved forward once, never back


def test_an_unknown_key_type_is_named_with_its_place(ddb):
    with pytest.raises(ClientError) as exc:
        ddb.create_table(TableName="sorted", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "SORT"}],
                         AttributeDefinitions=DEFS[:2])
    assert _error(exc) == ("ValidationException", "1 validation error detected: Value 'SORT' "
                           "at 'keySchema.2.member.keyType' failed to satisfy constraint: "
                           "Member must satisfy enum value set: [HASH, RANGE]", 400)
    bad = [{"AttributeName": "n/a", "KeyType": "HASH"}, {"AttributeName": "sth", "KeyType": "SORT"}]
    with pytest.raises(ClientError) as exc:  # before the (also missing) definitions
        ddb.create_table(TableName="sorted", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=DEFS[:1],
                         GlobalSecondaryIndexes=[{"IndexName": "bad-gsi", "KeySchema": bad,
                                                  "Projection": {"ProjectionType": "ALL"}}])
    assert _error(exc)[1] == ("1 validation error detected: Value 'SORT' at "
                              "'globalSecondaryIndexes.1.member.keySchema.2.member.keyType' "
                              "failed to satisfy constraint: Member must satisfy enum value "
                              "set: [HASH, RANGE]")
