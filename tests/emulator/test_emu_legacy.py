"""Legacy (pre-expression) parameters through boto3 (emulator/legacy.py): each behaves as
its expression equivalent, and mixing them with expressions is refused."""

import pytest
from botocore.exceptions import ClientError


def code_and_message(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture
def rows(ddb):
    for sk in range(5):
        ddb.put_item(TableName="ranged", Item={"pk": {"S": "lg"}, "sk": {"N": str(sk)},
                                               "tag": {"S": "even" if sk % 2 == 0 else "odd"}})
    yield
    for sk in range(5):
        ddb.delete_item(TableName="ranged", Key={"pk": {"S": "lg"}, "sk": {"N": str(sk)}})


def test_expected_and_attribute_updates(ddb):
    key = {"pk": {"S": "legacy"}}
    ddb.put_item(TableName="items", Item={**key, "n": {"N": "1"}},
                 Expected={"pk": {"Exists": False}})
    code, _ = code_and_message(lambda: ddb.put_item(
        TableName="items", Item=key, Expected={"pk": {"Exists": False}}))
    assert code == "ConditionalCheckFailedException"
    ddb.update_item(TableName="items", Key=key,
                    AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "4"}},
                                      "s": {"Action": "PUT", "Value": {"SS": ["a", "b"]}}},
                    Expected={"n": {"ComparisonOperator": "EQ",
                                    "AttributeValueList": [{"N": "1"}]}})
    ddb.update_item(TableName="items", Key=key,
                    AttributeUpdates={"s": {"Action": "DELETE", "Value": {"SS": ["a"]}}})
    item = ddb.get_item(TableName="items", Key=key, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "5"} and item["s"] == {"SS": ["b"]}
    code, _ = code_and_message(lambda: ddb.delete_item(
        TableName="items", Key=key, Expected={"n": {"Value": {"N": "1"}}}))
    assert code == "ConditionalCheckFailedException"
    ddb.update_item(TableName="items", Key=key, AttributeUpdates={"s": {"Action": "DELETE"}})
    assert "s" not in ddb.get_item(TableName="items", Key=key, ConsistentRead=True)["Item"]
    ddb.delete_item(TableName="items", Key=key,
                    Expected={"n": {"ComparisonOperator": "GT",
                                    "AttributeValueList": [{"N": "4"}]},
                              "gone": {"ComparisonOperator": "NULL"}})
    assert "Item" not in ddb.get_item(TableName="items", Key=key, ConsistentRead=True)


def test_key_conditions_and_filters(ddb, rows):
    got = ddb.query(TableName="ranged", ConsistentRead=True, KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "lg"}]},
        "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "3"}]}},
        QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]}})
    assert [i["sk"]["N"] for i in got["Items"]] == ["1", "3"]
    got = ddb.scan(TableName="ranged", ConsistentRead=True, ConditionalOperator="OR",
                   ScanFilter={"sk": {"ComparisonOperator": "IN",
                                      "AttributeValueList": [{"N": "0"}, {"N": "4"}]},
                               "tag": {"ComparisonOperator": "BEGINS_WITH",
                                       "AttributeValueList": [{"S": "od"}]}})
    assert sorted(i["sk"]["N"] for i in got["Items"] if i["pk"]["S"] == "lg") == \
        ["0", "1", "3", "4"]


def test_mixing_and_bad_arguments_are_refused(ddb):
    code, msg = code_and_message(lambda: ddb.scan(
        TableName="items", FilterExpression="a = :v", ExpressionAttributeValues={":v": {"S": "x"}},
        ScanFilter={"a": {"ComparisonOperator": "NOT_NULL"}}))
    assert code == "ValidationException"
    assert msg.startswith("Can not use both expression and non-expression parameters")
    code, msg = code_and_message(lambda: ddb.scan(
        TableName="items", ScanFilter={"a": {"ComparisonOperator": "BETWEEN",
                                             "AttributeValueList": [{"N": "1"}]}}))
    assert code == "ValidationException" and "Invalid number of argument(s)" in msg


def test_legacy_add_appends_to_a_list_and_mixing_names_only_expressions(ddb):
    key = {"pk": {"S": "legacy-list"}}
    for _ in range(2):
        ddb.update_item(TableName="items", Key=key, AttributeUpdates={
            "l": {"Action": "ADD", "Value": {"L": [{"S": "x"}]}}})
    got = ddb.get_item(TableName="items", Key=key, ConsistentRead=True)["Item"]["l"]
    assert got == {"L": [{"S": "x"}, {"S": "x"}]}
    code, msg = code_and_message(lambda: ddb.update_item(
        TableName="items", Key=key, AttributeUpdates={"a": {"Action": "PUT", "Value": {"N": "1"}}},
        UpdateExpression="SET b = :v", ExpressionAttributeValues={":v": {"N": "1"}}))
    assert msg == ("Can not use both expression and non-expression parameters in the same "
                   "request: Non-expression parameters: {AttributeUpdates} Expression "
                   "parameters: {UpdateExpression}")
    ddb.delete_item(TableName="items", Key=key)
