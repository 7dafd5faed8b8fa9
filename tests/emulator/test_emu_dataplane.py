"""The data plane through boto3 over HTTP: semantics, return values and the service's errors."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def put(ddb, pk, **attrs):
    item = {"pk": {"S": pk}}
    item.update(attrs)
    ddb.put_item(TableName="items", Item=item)


def get(ddb, pk, **kw):
    return ddb.get_item(TableName="items", Key={"pk": {"S": pk}}, ConsistentRead=True, **kw).get("Item")


def test_put_get_types_round_trip(ddb):
    item = {"pk": {"S": "types"}, "s": {"S": ""}, "n": {"N": "-12.50"}, "b": {"B": b"\x00\x01"},
            "t": {"BOOL": True}, "z": {"NULL": True}, "l": {"L": [{"N": "1"}, {"S": "x"}]},
            "m": {"M": {"a": {"SS": ["x", "y"]}}}, "ns": {"NS": ["1", "2.5"]},
            "bs": {"BS": [b"a", b"b"]}}
    ddb.put_item(TableName="items", Item=item)
    got = get(ddb, "types")
    assert got["n"] == {"N": "-12.5"}  # numbers come back normalised, exactly
    assert got["b"] == {"B": b"\x00\x01"}
    assert got["m"]["M"]["a"]["SS"] == ["x", "y"]
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert got["l"] == item["l"] and got["z"] == {"NULL": True} and got["s"] == {"S": ""}


def test_exact_decimal_arithmetic(ddb):
    put(ddb, "dec", v={"N": "0.1"})
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "dec"}}, UpdateExpression="SET v = v + :x",
                        ExpressionAttributeValues={":x": {"N": "0.2"}}, ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"v": {"N": "0.3"}}


def test_update_set_add_remove_list_append_if_not_exists(ddb):
    put(ddb, "u", a={"N": "1"}, gone={"S": "x"})
    r = ddb.update_item(
        TableName="items", Key={"pk": {"S": "u"}},
        UpdateExpression="SET l = list_append(if_not_exists(l, :empty), :one), c = if_not_exists(c, :zero) "
                         "REMOVE gone ADD a :two, tags :tags",
        ExpressionAttributeValues={":empty": {"L": []}, ":one": {"L": [{"N": "1"}]},
                                   ":zero": {"N": "0"}, ":two": {"N": "2"}, ":tags": {"SS": ["t"]}},
        ReturnValues="ALL_NEW")
    assert r["Attributes"] == {"pk": {"S": "u"}, "a": {"N": "3"}, "l": {"L": [{"N": "1"}]},
                               "c": {"N": "0"}, "tags": {"SS": ["t"]}}
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}},
                        UpdateExpression="DELETE tags :tags", ExpressionAttributeValues={":tags": {"SS": ["t"]}},
                        ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"tags": {"SS": ["t"]}}
    assert "tags" not in get(ddb, "u")


def test_update_creates_item_and_return_values(ddb):
    r = ddb.update_item(TableName="items", Key={"pk": {"S": "fresh"}}, UpdateExpression="ADD n :one",
                        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in r
    assert get(ddb, "fresh") == {"pk": {"S": "fresh"}, "n": {"N": "1"}}


def test_conditions(ddb):
    put(ddb, "c", v={"N": "5"}, s={"S": "hello"})
    ok = [
        "v = :five", "v <> :six", "v BETWEEN :one AND :six", "v IN (:one, :five)",
        "attribute_exists(v) AND attribute_not_exists(w)", "NOT v < :one",
        "begins_with(s, :he) OR v > :six", "contains(s, :ll)", "size(s) = :five",
        "attribute_type(v, :ntype)",
    ]
    vals = {":one": {"N": "1"}, ":five": {"N": "5"}, ":six": {"N": "6"}, ":he": {"S": "he"},
            ":ll": {"S": "ll"}, ":ntype": {"S": "N"}}
    for cond in ok:
        used = {k: v for k, v in vals.items() if k in cond}
        kw = {"ExpressionAttributeValues": used} if used else {}
        ddb.put_item(TableName="items", Item={"pk": {"S": "c"}, "v": {"N": "5"}, "s": {"S": "hello"}},
                     ConditionExpression=cond, **kw)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="items", Item={"pk": {"S": "c"}}, ConditionExpression="v > :five",
                     ExpressionAttributeValues={":five": {"N": "5"}},
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert code(e) == "ConditionalCheckFailedException" and status(e) == 400
    assert e.value.response["Item"]["v"] == {"N": "5"}
    assert get(ddb, "c")["v"] == {"N": "5"}  # nothing written


def test_delete_with_return_values(ddb):
    put(ddb, "d", v={"N": "1"})
    r = ddb.delete_item(TableName="items", Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert r["Attributes"]["v"] == {"N": "1"}
    assert get(ddb, "d") is None
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName="items", Key={"pk": {"S": "d"}}, ConditionExpression="attribute_exists(pk)")
    assert code(e) == "ConditionalCheckFailedException"


def test_projection(ddb):
    put(ddb, "p", a={"N": "1"}, m={"M": {"x": {"S": "1"}, "y": {"S": "2"}}})
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "p"}}, ProjectionExpression="a, #m.x",
                       ExpressionAttributeNames={"#m": "m"})["Item"]
    assert got == {"a": {"N": "1"}, "m": {"M": {"x": {"S": "1"}}}}


@pytest.mark.parametrize("kwargs, expected", [
    (dict(TableName="nope", Key={"pk": {"S": "x"}}), "ResourceNotFoundException"),
    (dict(TableName="items", Key={"pk": {"N": "1"}}), "ValidationException"),
    (dict(TableName="items", Key={"pk": {"S": "x"}, "other": {"S": "y"}}), "ValidationException"),
    (dict(TableName="items", Key={"pk": {"S": ""}}), "ValidationException"),
    (dict(TableName="items", Key={"pk": {"S": "x"}}, ProjectionExpression="name"), "ValidationException"),
    (dict(TableName="items", Key={"pk": {"S": "x"}}, ProjectionExpression="a,,b"), "ValidationException"),
])
def test_get_item_errors(ddb, kwargs, expected):
    with pytest.raises(ClientError) as e:
        ddb.get_item(**kwargs)
    assert code(e) == expected and status(e) == 400


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1"}, ":w": {"N": "2"}}),
     "unused"),
    (dict(UpdateExpression="SET v = :v"), "not defined"),
    (dict(UpdateExpression="SET #v = :v", ExpressionAttributeValues={":v": {"N": "1"}}), "not defined"),
    (dict(UpdateExpression="SET v = :v SET w = :v", ExpressionAttributeValues={":v": {"N": "1"}}),
     "only be used once"),
    (dict(UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": {"S": "1"}}), "part of the key"),
    (dict(UpdateExpression="SET v = nothere + :v", ExpressionAttributeValues={":v": {"N": "1"}}),
     "does not exist"),
    (dict(UpdateExpression="SET v = v + :v", ExpressionAttributeValues={":v": {"S": "a"}}),
     "incorrect data type"),
    (dict(UpdateExpression="ADD v :v", ExpressionAttributeValues={":v": {"S": "a"}}), "operand type"),
    (dict(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1e400"}}), "overflow"),
    (dict(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "12a"}}), "numeric"),
    (dict(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"SS": ["a", "a"]}}), "duplicates"),
    (dict(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"SS": []}}), "empty"),
    (dict(UpdateExpression="SET a.b = :v", ExpressionAttributeValues={":v": {"N": "1"}}), "document path"),
    (dict(UpdateExpression="DANCE v", ), "Syntax error"),
])
def test_update_item_validation_errors(ddb, kwargs, fragment):
    put(ddb, "val", v={"N": "1"})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName="items", Key={"pk": {"S": "val"}}, **kwargs)
    assert code(e) == "ValidationException"
    assert fragment in e.value.response["Error"]["Message"]
    assert get(ddb, "val") == {"pk": {"S": "val"}, "v": {"N": "1"}}


def test_oversized_item_rejected(ddb):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="items", Item={"pk": {"S": "big"}, "v": {"S": "x" * (400 * 1024)}})
    assert code(e) == "ValidationException" and "size" in e.value.response["Error"]["Message"]
    ddb.put_item(TableName="items", Item={"pk": {"S": "big"}, "v": {"S": "x" * (390 * 1024)}})


def test_query_scan_and_paging(ddb):
    for i in range(10):
        ddb.put_item(TableName="ranged", Item={"pk": {"S": "q"}, "sk": {"N": str(i)}, "odd": {"BOOL": i % 2 == 1}})
    ddb.put_item(TableName="ranged", Item={"pk": {"S": "other"}, "sk": {"N": "1"}})
    r = ddb.query(TableName="ranged", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                  ExpressionAttributeValues={":p": {"S": "q"}, ":a": {"N": "2"}, ":b": {"N": "7"},
                                             ":t": {"BOOL": True}},
                  ScanIndexForward=False, FilterExpression="#o = :t",
                  ExpressionAttributeNames={"#o": "odd"})
    assert [int(i["sk"]["N"]) for i in r["Items"]] == [7, 5, 3]
    assert r["ScannedCount"] == 6
    seen, start = [], None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(TableName="ranged", KeyConditionExpression="pk = :p", Limit=4,
                         ExpressionAttributeValues={":p": {"S": "q"}}, **kw)
        seen += [int(i["sk"]["N"]) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(10))
    with pytest.raises(ClientError) as e:
        ddb.query(TableName="ranged", KeyConditionExpression="sk = :a",
                  ExpressionAttributeValues={":a": {"N": "1"}})
    assert code(e) == "ValidationException"
    scan = ddb.scan(TableName="ranged", Select="COUNT")
    assert scan["Count"] == 11 and "Items" not in scan
    parts = [ddb.scan(TableName="ranged", Segment=s, TotalSegments=3)["Count"] for s in range(3)]
    assert sum(parts) == 11


def test_batch_operations(ddb):
    ddb.batch_write_item(RequestItems={"items": [
        {"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "v": {"N": str(i)}}}} for i in range(5)]})
    r = ddb.batch_get_item(RequestItems={"items": {"Keys": [{"pk": {"S": f"b{i}"}} for i in range(6)],
                                                   "ConsistentRead": True}})
    assert sorted(int(i["v"]["N"]) for i in r["Responses"]["items"]) == [0, 1, 2, 3, 4]
    assert r["UnprocessedKeys"] == {}
    ddb.batch_write_item(RequestItems={"items": [{"DeleteRequest": {"Key": {"pk": {"S": "b0"}}}}]})
    assert get(ddb, "b0") is None
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"items": [
            {"PutRequest": {"Item": {"pk": {"S": "dup"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "dup"}}}}]})
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"items": [
            {"PutRequest": {"Item": {"pk": {"S": f"x{i}"}}}} for i in range(26)]})
    assert code(e) == "ValidationException"


def test_transactions_all_or_nothing(ddb):
    put(ddb, "t1", v={"N": "1"})
    put(ddb, "t2", v={"N": "1"})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "items", "Item": {"pk": {"S": "t1"}, "v": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": "items", "Key": {"pk": {"S": "t2"}},
                                "ConditionExpression": "v = :nine",
                                "ExpressionAttributeValues": {":nine": {"N": "9"}}}}])
    assert code(e) == "TransactionCanceledException"
    reasons = [r["Code"] for r in e.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert get(ddb, "t1")["v"] == {"N": "1"}  # nothing applied
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "items", "Key": {"pk": {"S": "t1"}}, "UpdateExpression": "SET v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Delete": {"TableName": "items", "Key": {"pk": {"S": "t2"}}}}])
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": "items", "Key": {"pk": {"S": k}}}} for k in ("t1", "t2")])["Responses"]
    assert got[0]["Item"]["v"] == {"N": "2"} and got[1] == {}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": "items", "Key": {"pk": {"S": "t1"}}}},
            {"Delete": {"TableName": "items", "Key": {"pk": {"S": "t1"}}}}])
    assert code(e) == "ValidationException"


def _raw(endpoint, body, target="DynamoDB_20120810.GetItem"):
    req = urllib.request.Request(endpoint, data=body, method="POST", headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_protocol_errors_and_headers(single):
    url = single.endpoints["us-east-1"]
    s, h, b = _raw(url, b"{not json")
    assert s == 400 and b["__type"].endswith("#SerializationException")
    assert "x-amzn-RequestId" in h or "X-Amzn-RequestId" in h or "x-amzn-requestid" in {k.lower() for k in h}
    s, _, b = _raw(url, b"{}", target="DynamoDB_20120810.Nope")
    assert s == 400 and b["__type"].endswith("#UnknownOperationException")
    s, _, b = _raw(url, b'{"TableName": 5}')
    assert s == 400 and b["__type"].endswith("#SerializationException")
    s, _, b = _raw(url, b'{"TableName": "items", "Key": {"pk": {"S": "x", "N": "1"}}}')
    assert s == 400 and b["__type"].endswith("#ValidationException")
    s, _, b = _raw(url, b"[" * 100_000 + b"]" * 100_000)
    assert s == 400
    s, _, b = _raw(url, b"{}", target="")
    assert s == 400 and b["__type"].endswith("#UnknownOperationException")
