"""Every malformed request is answered as DynamoDB answers it: HTTP 400 with the service's
`__type`, never a 500, never a silent success -- sent raw over HTTP (to a region's port and
to the all-regions endpoint, for a region of the deployment and for one outside it) and,
where boto3 can send it, through boto3.

Error types and messages follow the service: numbers (38 significant digits, magnitude
1e-130..1e126, "The parameter cannot be converted to a numeric value"), key sizes (2,048
bytes partition key, 1,024 sort key, the service's messages), attribute names up to 65,535
bytes, TransactGetItems/TransactWriteItems naming one item twice, transactions over 4 MB,
overlapping projection paths, a missing TableName ("Value null at 'tableName'"). Where the
service's exact wording is undocumented (lone surrogates, Limit beyond a 32-bit integer) the
type is the one its deserializer gives undecodable input: SerializationException."""

import json
import socket
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import client

VALIDATION, SERIALIZATION = "ValidationException", "SerializationException"
NOT_FOUND = "ResourceNotFoundException"
BIG = "1e999999999999"
TINY = "1e-999999999999"


def _put(item, **extra):
    return "PutItem", {"TableName": "items", "Item": {"pk": {"S": "a"}, **item}, **extra}


def _raw_json(text: str) -> bytes:
    """A body whose JSON text is given as is (escapes like \\ud800 kept verbatim)."""
    return text.encode("utf-8", "surrogatepass")


# (id, operation, body (dict or raw bytes), expected __type suffix)
CASES = [
    # numbers, anywhere a number can be
    ("N-overflow-item", *_put({"n": {"N": BIG}}), VALIDATION),
    ("N-underflow-item", *_put({"n": {"N": TINY}}), VALIDATION),
    ("N-underscore", *_put({"n": {"N": "1_000"}}), VALIDATION),
    ("N-arabic-indic-digits", *_put({"n": {"N": "\u0661\u0662"}}), VALIDATION),
    ("N-full-width-digits", *_put({"n": {"N": "\uff11\uff12"}}), VALIDATION),
    ("N-superscript-digit", *_put({"n": {"N": "\u00b2"}}), VALIDATION),
    ("N-39-digits", *_put({"n": {"N": "1" * 39}}), VALIDATION),
    ("N-1e126", *_put({"n": {"N": "1e126"}}), VALIDATION),
    ("N-1e-131", *_put({"n": {"N": "1e-131"}}), VALIDATION),
    ("N-nan", *_put({"n": {"N": "NaN"}}), VALIDATION),
    ("N-infinity", *_put({"n": {"N": "Infinity"}}), VALIDATION),
    ("N-in-map", *_put({"m": {"M": {"x": {"N": BIG}}}}), VALIDATION),
    ("N-in-list", *_put({"l": {"L": [{"N": TINY}]}}), VALIDATION),
    ("NS-overflow", *_put({"s": {"NS": ["1", BIG]}}), VALIDATION),
    ("NS-underscore", *_put({"s": {"NS": ["1_0"]}}), VALIDATION),
    ("N-sort-key-overflow", "GetItem",
     {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"N": BIG}}}, VALIDATION),
    ("N-sort-key-underflow", "PutItem",
     {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"N": TINY}}}, VALIDATION),
    ("N-condition-value", *_put({}, ConditionExpression="n = :v",
                                ExpressionAttributeValues={":v": {"N": BIG}}), VALIDATION),
    ("N-ADD-value", "UpdateItem",
     {"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :v",
      "ExpressionAttributeValues": {":v": {"N": BIG}}}, VALIDATION),
    ("N-ADD-NS", "UpdateItem",
     {"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD s :v",
      "ExpressionAttributeValues": {":v": {"NS": [TINY]}}}, VALIDATION),
    ("N-query-key-condition", "Query",
     {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND sk > :v",
      "ExpressionAttributeValues": {":p": {"S": "a"}, ":v": {"N": BIG}}}, VALIDATION),
    # lone surrogates, in every place a string can be
    ("surrogate-S", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"a"},"s":{"S":"\\ud800"}}}'), SERIALIZATION),
    ("surrogate-S-raw-bytes", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"a"},"s":{"S":"\ud800"}}}'), SERIALIZATION),
    ("surrogate-low-half", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"a"},"s":{"S":"x\\udc00"}}}'), SERIALIZATION),
    ("surrogate-SS", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"a"},"s":{"SS":["\\ud800"]}}}'), SERIALIZATION),
    ("surrogate-key", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"\\ud800"}}}'), SERIALIZATION),
    ("surrogate-get-key", "GetItem", _raw_json(
        '{"TableName":"items","Key":{"pk":{"S":"\\ud800"}}}'), SERIALIZATION),
    ("surrogate-attribute-name", "PutItem", _raw_json(
        '{"TableName":"items","Item":{"pk":{"S":"a"},"\\ud800":{"S":"x"}}}'), SERIALIZATION),
    ("surrogate-table-name", "PutItem", _raw_json(
        '{"TableName":"\\ud800","Item":{"pk":{"S":"a"}}}'), SERIALIZATION),
    ("surrogate-expression", "GetItem", _raw_json(
        '{"TableName":"items","Key":{"pk":{"S":"a"}},"ProjectionExpression":"\\ud800"}'),
     SERIALIZATION),
    # bodies the parser cannot take
    ("json-100k-deep-array", "PutItem", b"[" * 100_000 + b"]" * 100_000, SERIALIZATION),
    ("json-100k-deep-object", "PutItem", b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
     SERIALIZATION),
    ("json-not-utf8", "PutItem", b'{"TableName":"items\xff"}', SERIALIZATION),
    # limits
    ("partition-key-2049-bytes", "PutItem",
     {"TableName": "items", "Item": {"pk": {"S": "x" * 2049}}}, VALIDATION),
    ("partition-key-1025-euro-signs", "PutItem",  # 3 bytes each: 3,075 bytes
     {"TableName": "items", "Item": {"pk": {"S": "\u20ac" * 1025}}}, VALIDATION),
    ("sort-key-1025-bytes", "PutItem",
     {"TableName": "strsort", "Item": {"pk": {"S": "a"}, "sk": {"S": "x" * 1025}}}, VALIDATION),
    ("sort-key-1025-bytes-get", "GetItem",
     {"TableName": "strsort", "Key": {"pk": {"S": "a"}, "sk": {"S": "x" * 1025}}}, VALIDATION),
    ("attribute-name-70000", *_put({"x" * 70_000: {"S": "x"}}), VALIDATION),
    ("attribute-name-65536", *_put({"x" * 65_536: {"S": "x"}}), VALIDATION),
    ("placeholder-name-70000", "GetItem",
     {"TableName": "items", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "#n",
      "ExpressionAttributeNames": {"#n": "x" * 70_000}}, VALIDATION),
    ("transact-get-one-item-twice", "TransactGetItems",
     {"TransactItems": [{"Get": {"TableName": "items", "Key": {"pk": {"S": "a"}}}}] * 2},
     VALIDATION),
    ("transact-write-one-item-twice", "TransactWriteItems",
     {"TransactItems": [{"Put": {"TableName": "items", "Item": {"pk": {"S": "a"}}}},
                        {"Delete": {"TableName": "items", "Key": {"pk": {"S": "a"}}}}]},
     VALIDATION),
    ("transact-write-over-4MB", "TransactWriteItems",
     {"TransactItems": [{"Put": {"TableName": "items",
                                 "Item": {"pk": {"S": f"big{i}"}, "v": {"S": "x" * 390_000}}}}
                        for i in range(11)]}, VALIDATION),
    ("projection-a-a", "GetItem",
     {"TableName": "items", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "a, a"},
     VALIDATION),
    ("projection-a-a.b", "Scan", {"TableName": "items", "ProjectionExpression": "a, a.b"},
     VALIDATION),
    ("limit-1e30", "Scan", {"TableName": "items", "Limit": 10**30}, SERIALIZATION),
    ("limit-2^31", "Query", {"TableName": "items", "KeyConditionExpression": "pk = :p",
                             "ExpressionAttributeValues": {":p": {"S": "a"}},
                             "Limit": 2**31}, SERIALIZATION),
    ("missing-table-name-get", "GetItem", {"Key": {"pk": {"S": "a"}}}, VALIDATION),
    ("missing-table-name-scan", "Scan", {}, VALIDATION),
    ("missing-table-name-describe", "DescribeTable", {}, VALIDATION),
]
IDS = [c[0] for c in CASES]

# Names of the tables above, all created in the deployment.
TABLES = {"items": ("S", None), "ranged": ("S", "N"), "strsort": ("S", "S")}


@pytest.fixture(scope="module")
def dep():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=7) as d:
        c = client(d.endpoints["us-east-1"], "us-east-1")
        for name, (h, r) in TABLES.items():
            ks = [{"AttributeName": "pk", "KeyType": "HASH"}]
            ad = [{"AttributeName": "pk", "AttributeType": h}]
            if r:
                ks.append({"AttributeName": "sk", "KeyType": "RANGE"})
                ad.append({"AttributeName": "sk", "AttributeType": r})
            c.create_table(TableName=name, KeySchema=ks, AttributeDefinitions=ad,
                           BillingMode="PAY_PER_REQUEST")
        yield d


def send(url: str, op: str, body, *, region: str | None = None) -> tuple[int, dict]:
    """POST one DynamoDB request as raw HTTP; `region` adds a SigV4-shaped credential scope
    (all the all-regions endpoint reads). Returns (status, decoded JSON answer)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    u = urlparse(url)
    head = (f"POST / HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
            f"X-Amz-Target: DynamoDB_20120810.{op}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\nConnection: close\r\n")
    if region:
        head += ("Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/"
                 f"{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n")
    head += f"Content-Length: {len(data)}\r\n\r\n"
    with socket.create_connection((u.hostname, u.port), timeout=60) as s:
        s.sendall(head.encode() + data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    status_line, _, rest = out.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), json.loads(payload)


def _assert_dynamodb_error(status: int, answer: dict, want: str) -> None:
    assert status == 400, (status, answer)
    assert answer["__type"] == f"com.amazonaws.dynamodb.v20120810#{want}", answer
    assert answer["message"]


@pytest.mark.parametrize("name, op, body, want", CASES, ids=IDS)
def test_region_endpoint_answers_400_with_the_service_error(dep, name, op, body, want):
    _assert_dynamodb_error(*send(dep.endpoints["us-east-1"], op, body), want)


@pytest.mark.parametrize("name, op, body, want", CASES, ids=IDS)
def test_all_regions_endpoint_answers_the_same(dep, name, op, body, want):
    _assert_dynamodb_error(*send(dep.endpoint, op, body, region="us-east-1"), want)


@pytest.mark.parametrize("name, op, body, want", [
    c for c in CASES if c[1] not in ("TransactGetItems", "TransactWriteItems")], ids=[
    c[0] for c in CASES if c[1] not in ("TransactGetItems", "TransactWriteItems")])
def test_all_regions_endpoint_for_a_region_outside_the_deployment(dep, name, op, body, want):
    """A region with no endpoint here answers what DynamoDB answers where the table does not
    exist -- unless the body is malformed, which is refused first, with a 400 all the same."""
    status, answer = send(dep.endpoint, op, body, region="ap-south-2")
    assert status == 400, (status, answer)
    got = answer["__type"].rpartition("#")[2]
    if want == SERIALIZATION and not isinstance(body, dict):
        assert got == SERIALIZATION
    elif "TableName" not in (body if isinstance(body, dict) else {}):
        assert got == VALIDATION
    else:
        assert got in (NOT_FOUND, want)


def test_nothing_was_written_and_the_server_still_serves(dep):
    c = client(dep.endpoints["us-east-1"], "us-east-1")
    scan = c.scan(TableName="items", ConsistentRead=True)
    assert scan["Items"] == [], "a refused request wrote an item"
    c.put_item(TableName="items", Item={"pk": {"S": "ok"}, "n": {"N": "1e125"}})
    got = c.get_item(TableName="items", Key={"pk": {"S": "ok"}}, ConsistentRead=True)["Item"]
    assert got["n"] == {"N": "1" + "0" * 125}
    c.delete_item(TableName="items", Key={"pk": {"S": "ok"}})


@pytest.mark.parametrize("value, stored", [
    ("1e-130", "0." + "0" * 129 + "1"),
    ("9" * 38, "9" * 38),
    ("-" + "9" * 38 + "e87", "-" + "9" * 38 + "0" * 87),
    ("12300000000000000000000000000000000000000000", "123" + "0" * 41),  # 3 significant
    ("0.000", "0"),
    ("+5", "5"),
], ids=["smallest", "38-nines", "most-negative", "trailing-zeros", "zero", "plus-sign"])
def test_numbers_at_the_limits_are_stored(dep, value, stored):
    c = client(dep.endpoints["us-east-1"], "us-east-1")
    c.put_item(TableName="items", Item={"pk": {"S": "lim"}, "n": {"N": value}})
    got = c.get_item(TableName="items", Key={"pk": {"S": "lim"}}, ConsistentRead=True)["Item"]
    c.delete_item(TableName="items", Key={"pk": {"S": "lim"}})
    assert got["n"] == {"N": stored}


def test_keys_and_names_at_the_limits_are_accepted(dep):
    c = client(dep.endpoints["us-east-1"], "us-east-1")
    c.put_item(TableName="items", Item={"pk": {"S": "x" * 2048}, "y" * 65_535: {"S": "v"}})
    c.put_item(TableName="strsort", Item={"pk": {"S": "a"}, "sk": {"S": "\u20ac" * 341}})
    assert c.get_item(TableName="items", Key={"pk": {"S": "x" * 2048}},
                      ConsistentRead=True)["Item"]["y" * 65_535] == {"S": "v"}
    c.delete_item(TableName="items", Key={"pk": {"S": "x" * 2048}})
    c.delete_item(TableName="strsort", Key={"pk": {"S": "a"}, "sk": {"S": "\u20ac" * 341}})


# The cases boto3 can send (its own parameter validation lets them through).
BOTO3 = ["N-overflow-item", "N-underflow-item", "N-underscore", "N-arabic-indic-digits",
         "NS-overflow", "N-condition-value", "N-ADD-value", "N-sort-key-overflow",
         "partition-key-2049-bytes", "sort-key-1025-bytes", "attribute-name-70000",
         "transact-get-one-item-twice", "transact-write-one-item-twice", "projection-a-a",
         "limit-1e30"]


def _snake(op: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")


@pytest.mark.parametrize("name", BOTO3)
def test_through_boto3(dep, name):
    _, op, body, want = next(c for c in CASES if c[0] == name)
    c = client(dep.endpoints["us-east-1"], "us-east-1")
    with pytest.raises(ClientError) as e:
        getattr(c, _snake(op))(**body)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"] == want


def test_boto3_lone_surrogate_is_refused(dep):
    c = client(dep.endpoints["us-east-1"], "us-east-1")  # boto3 escapes it as \ud800
    with pytest.raises(ClientError) as e:
        c.put_item(TableName="items", Item={"pk": {"S": "a"}, "s": {"S": "\ud800"}})
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"] == SERIALIZATION
