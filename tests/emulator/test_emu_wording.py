"""The data plane words its errors as DynamoDB does on each operation (emulator/wording.py,
expectations from moto's AWS-verified tests), and accepts a table's ARN as TableName --
all through boto3."""

import pytest
from botocore.exceptions import ClientError

PREFIX = "1 validation error detected: "


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]


def test_unused_names_prefixed_on_writes_not_on_reads(ddb):
    extra = {"ExpressionAttributeNames": {"#count": "count"}}
    put = err(lambda: ddb.put_item(TableName="items", Item={"pk": {"S": "w"}},
                                   ConditionExpression="attribute_not_exists(pk)", **extra))
    assert put["Message"] == PREFIX + "Value provided in ExpressionAttributeNames unused in " \
                                      "expressions: keys: {#count}"
    get = err(lambda: ddb.get_item(TableName="items", Key={"pk": {"S": "w"}},
                                   ProjectionExpression="pk", **extra))
    assert get["Message"] == "Value provided in ExpressionAttributeNames unused in " \
                             "expressions: keys: {#count}"


def test_update_expression_checks_prefixed(ddb):
    e = err(lambda: ddb.update_item(TableName="items", Key={"pk": {"S": "w"}},
                                    UpdateExpression="SET a = :v SET b = :v",
                                    ExpressionAttributeValues={":v": {"S": "x"}}))
    assert e["Message"] == PREFIX + 'Invalid UpdateExpression: The "SET" section can only be ' \
                                    "used once in an update expression;"


def test_missing_table_on_the_data_plane(ddb):
    for call in (lambda: ddb.get_item(TableName="nope", Key={"pk": {"S": "a"}}),
                 lambda: ddb.scan(TableName="nope"),
                 lambda: ddb.batch_get_item(RequestItems={"nope": {"Keys": [{"pk": {"S": "a"}}]}})):
        e = err(call)
        assert (e["Code"], e["Message"]) == ("ResourceNotFoundException",
                                             "Requested resource not found")
    e = err(lambda: ddb.describe_table(TableName="nope"))
    assert e["Message"] == "Requested resource not found: Table: nope not found"


def test_other_messages(ddb):
    assert err(lambda: ddb.put_item(TableName="items", Item={"pk": {"S": "a"}},
                                    ReturnValues="ALL_NEW"))["Message"] == \
        "Return values set to invalid value"
    assert err(lambda: ddb.put_item(TableName="items", Item={"pk": {"S": ""}}))["Message"] == \
        "One or more parameter values were invalid: An AttributeValue may not contain an " \
        "empty string. Key: pk"
    e = err(lambda: ddb.scan(TableName="items", ReturnConsumedCapacity="Garbage"))
    assert e["Message"] == PREFIX + "Value 'Garbage' at 'returnConsumedCapacity' failed to " \
        "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
    e = err(lambda: ddb.get_item(TableName="items", Key={"wrong": {"S": "a"}},
                                 ExpressionAttributeNames={"#a": "b"}))
    assert e["Message"] == "ExpressionAttributeNames can only be specified when using " \
                           "expressions"  # checked before the key, as the service does


def test_table_arn_as_table_name(ddb):
    arn = ddb.describe_table(TableName="items")["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item={"pk": {"S": "by-arn"}})
    assert ddb.get_item(TableName=arn, Key={"pk": {"S": "by-arn"}},
                        ConsistentRead=True)["Item"] == {"pk": {"S": "by-arn"}}
    got = ddb.batch_get_item(RequestItems={arn: {"Keys": [{"pk": {"S": "by-arn"}}]}})
    assert got["Responses"] == {arn: [{"pk": {"S": "by-arn"}}]}
    other = arn.replace(":us-east-1:", ":eu-west-1:")
    assert err(lambda: ddb.get_item(TableName=other, Key={"pk": {"S": "by-arn"}}))["Code"] == \
        "ValidationException"
    ddb.delete_item(TableName=arn, Key={"pk": {"S": "by-arn"}})


def test_batch_get_item_answers_at_most_16_mb(ddb):
    keys = [{"pk": {"S": f"big{i}"}} for i in range(60)]
    for k in keys:
        ddb.put_item(TableName="items", Item={**k, "v": {"S": "x" * 300_000}})
    try:
        got = ddb.batch_get_item(RequestItems={"items": {"Keys": keys, "ConsistentRead": True}})
        returned = got["Responses"]["items"]
        left = got["UnprocessedKeys"]["items"]["Keys"]
        assert len(returned) == 55  # 55 x 300,009 bytes fit in 16 MiB, 56 do not
        assert len(returned) + len(left) == 60
        assert got["UnprocessedKeys"]["items"]["ConsistentRead"] is True
        assert {i["pk"]["S"] for i in returned}.isdisjoint(k["pk"]["S"] for k in left)
    finally:
        for k in keys:
            ddb.delete_item(TableName="items", Key=k)


@pytest.mark.parametrize("expression, token, near", [
    ("SET MyStr = myNum + 1", "1", "+ 1"),
    ("SET MyStr = myNum Mystr2 myNum2", "Mystr2", "myNum Mystr2 myNum2"),
    ("SET MyStr = my Num", "Num", "my Num"),
    ("SET #a = :v, #b = :v,", "<EOF>", ","),
])
def test_syntax_errors_say_near_what(ddb, expression, token, near):
    names = {"#a": "a", "#b": "b"} if "#a" in expression else None
    kw = {"ExpressionAttributeNames": names} if names else {}
    if ":v" in expression:
        kw["ExpressionAttributeValues"] = {":v": {"N": "1"}}
    e = err(lambda: ddb.update_item(TableName="items", Key={"pk": {"S": "s"}},
                                    UpdateExpression=expression, **kw))
    assert e["Message"] == (f'Invalid UpdateExpression: Syntax error; token: "{token}", '
                            f'near: "{near}"')


def test_between_with_a_null_bound_is_refused_even_on_an_empty_result(ddb):
    e = err(lambda: ddb.scan(TableName="ranged", FilterExpression="price BETWEEN :lo AND :hi",
                             ExpressionAttributeValues={":lo": {"NULL": True},
                                                        ":hi": {"N": "100"}}))
    assert e["Message"] == ("Invalid FilterExpression: Incorrect operand type for operator or "
                            "function; operator or function: BETWEEN, operand type: NULL")


def test_query_with_an_empty_key_value(ddb):
    for kc, values, key in (("pk = :p", {":p": {"S": ""}}, "pk"),):
        e = err(lambda: ddb.query(TableName="ranged", KeyConditionExpression=kc,
                                  ExpressionAttributeValues=values))
        assert e["Message"] == ("One or more parameter values are not valid. The AttributeValue "
                                "for a key attribute cannot contain an empty string value. "
                                f"Key: {key}")


@pytest.mark.parametrize("condition, refused", [
    ("((((a < b))))", True), ("((a < b))", True), ("(a < b)", False),
    ("(attribute_exists (#0)) AND (((#1 <> :0) AND (#1 <> :1)) AND (#2 = :3))", False),
])
def test_redundant_parentheses(ddb, condition, refused):
    names = {"#0": "pk", "#1": "pk", "#2": "pk"} if "#0" in condition else None
    values = {":0": {"S": "x"}, ":1": {"S": "y"}, ":3": {"S": "z"}} if names else None
    kw = {k: v for k, v in (("ExpressionAttributeNames", names),
                            ("ExpressionAttributeValues", values)) if v}
    call = lambda: ddb.delete_item(TableName="items", Key={"pk": {"S": "paren"}},  # noqa: E731
                                   ConditionExpression=condition, **kw)
    if refused:
        assert err(call)["Message"] == ("Invalid ConditionExpression: The expression has "
                                        "redundant parentheses;")
    else:
        with pytest.raises(ClientError) as e:  # parsed, then the condition fails: no item
            call()
        assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_updated_new_returns_the_updated_nested_paths(ddb):
    key = {"pk": {"S": "nested-rv"}}
    ddb.put_item(TableName="items", Item={**key, "a": {"M": {"b": {"L": [{"S": "bar1"}]},
                                                              "c": {"L": [{"S": "car1"}]}}},
                                          "z": {"N": "1"}})
    got = ddb.update_item(TableName="items", Key=key,
                          UpdateExpression="SET a.#c = list_append(a.#b, :i) REMOVE z",
                          ExpressionAttributeValues={":i": {"L": [{"S": "bar2"}]}},
                          ExpressionAttributeNames={"#b": "b", "#c": "c"},
                          ReturnValues="UPDATED_NEW")
    assert got["Attributes"] == {"a": {"M": {"c": {"L": [{"S": "bar1"}, {"S": "bar2"}]}}}}
    old = ddb.update_item(TableName="items", Key=key, UpdateExpression="SET a.c = :n",
                          ExpressionAttributeValues={":n": {"N": "3"}}, ReturnValues="UPDATED_OLD")
    assert old["Attributes"] == {"a": {"M": {"c": {"L": [{"S": "bar1"}, {"S": "bar2"}]}}}}
    ddb.delete_item(TableName="items", Key=key)


def test_remove_of_several_list_indexes_uses_the_original_positions(ddb):
    key = {"pk": {"S": "rm-list"}}
    ddb.put_item(TableName="items", Item={**key, "l": {"L": [{"N": str(i)} for i in range(5)]}})
    ddb.update_item(TableName="items", Key=key, UpdateExpression="REMOVE l[1], l[3]")
    got = ddb.get_item(TableName="items", Key=key, ConsistentRead=True)["Item"]["l"]["L"]
    assert got == [{"N": "0"}, {"N": "2"}, {"N": "4"}]
    ddb.delete_item(TableName="items", Key=key)


def test_transact_get_items_consumed_capacity(ddb):
    ddb.put_item(TableName="items", Item={"pk": {"S": "tg1"}})
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": "items", "Key": {"pk": {"S": "tg1"}}}},
        {"Get": {"TableName": "items", "Key": {"pk": {"S": "tg-absent"}}}},
        {"Get": {"TableName": "ranged", "Key": {"pk": {"S": "x"}, "sk": {"N": "1"}}}}],
        ReturnConsumedCapacity="TOTAL")
    assert got["Responses"][0]["Item"] == {"pk": {"S": "tg1"}} and got["Responses"][1] == {}
    assert got["ConsumedCapacity"] == [
        {"TableName": "items", "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0},
        {"TableName": "ranged", "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}]
    ddb.delete_item(TableName="items", Key={"pk": {"S": "tg1"}})


def test_placeholder_keys_must_carry_their_mark(ddb):
    e = err(lambda: ddb.scan(TableName="items", FilterExpression="a = :loc",
                             ExpressionAttributeValues={"loc": {"S": "x"}, ":loc": {"S": "y"}}))
    assert e["Message"] == 'ExpressionAttributeValues contains invalid key: Syntax error; key: "loc"'


def test_empty_key_wording_differs_between_put_and_key_parameters(ddb):
    put = err(lambda: ddb.put_item(TableName="items", Item={"pk": {"S": ""}}))["Message"]
    get = err(lambda: ddb.get_item(TableName="items", Key={"pk": {"S": ""}}))["Message"]
    assert put == ("One or more parameter values were invalid: An AttributeValue may not "
                   "contain an empty string. Key: pk")
    assert get == ("One or more parameter values are not valid. The AttributeValue for a key "
                   "attribute cannot contain an empty string value. Key: pk")


def test_specific_attributes_needs_a_projection(ddb):
    scan = err(lambda: ddb.scan(TableName="items", Select="SPECIFIC_ATTRIBUTES"))["Message"]
    assert scan == ("Must specify the AttributesToGet or ProjectionExpression when choosing "
                    "to get SPECIFIC_ATTRIBUTES")
    query = err(lambda: ddb.query(TableName="items", Select="SPECIFIC_ATTRIBUTES",
                                  KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues={":p": {"S": "a"}}))["Message"]
    assert query == PREFIX + scan


def test_overlapping_update_paths_are_compared_and_shown_by_name(ddb):
    e = err(lambda: ddb.update_item(TableName="items", Key={"pk": {"S": "ov"}},
                                    UpdateExpression="SET #s = :v REMOVE string_set",
                                    ExpressionAttributeNames={"#s": "string_set"},
                                    ExpressionAttributeValues={":v": {"S": "x"}}))
    assert e["Message"] == (PREFIX + "Invalid UpdateExpression: Two document paths overlap "
                            "with each other; must remove or rewrite one of these paths; path "
                            "one: [string_set], path two: [string_set]")


def test_transaction_checks_expression_parameters_before_the_key(ddb):
    e = err(lambda: ddb.transact_write_items(TransactItems=[{"Delete": {
        "TableName": "items", "Key": {"wrong": {"S": "a"}},
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": {"#count": "count"}}}]))
    assert e["Message"] == ("Value provided in ExpressionAttributeNames unused in expressions: "
                            "keys: {#count}")


def test_a_key_schema_of_three_elements_is_a_member_constraint(ddb):
    """CreateTable's KeySchema holds 1 to 2 members (API reference): a third is refused as
    a member constraint, before the schema's meaning is looked at."""
    e = err(lambda: ddb.create_table(
        TableName="three-keys", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"},
                   {"AttributeName": "b", "KeyType": "RANGE"},
                   {"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "abc"]))
    assert e["Code"] == "ValidationException"
    assert e["Message"] == (
        PREFIX + "Value '[KeySchemaElement(attributeName=a, keyType=HASH), "
        "KeySchemaElement(attributeName=b, keyType=RANGE), KeySchemaElement(attributeName=c, "
        "keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length "
        "less than or equal to 2")
    assert "three-keys" not in ddb.list_tables()["TableNames"]
