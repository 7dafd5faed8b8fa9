"""Attribute values: validation, exact numbers, equality and order, item size."""

import pytest

from emulator import attrs
from emulator.errors import DynamoError


@pytest.mark.parametrize("text, canon", [
    ("1", "1"), ("1.50", "1.5"), ("-0", "0"), ("1E+3", "1000"), ("0.000100", "0.0001"),
    ("9" * 38, "9" * 38), ("-1e-130", "-" + "0." + "0" * 129 + "1"),
])
def test_numbers_normalised_exactly(text, canon):
    assert attrs.check_value({"N": text}) == {"N": canon}


@pytest.mark.parametrize("text", ["abc", "", " 1", "1 ", "NaN", "Infinity", "1" * 39, "1e126", "1e-131", "0x10"])
def test_bad_numbers_rejected(text):
    with pytest.raises(DynamoError) as e:
        attrs.check_value({"N": text})
    assert e.value.name == "ValidationException"


@pytest.mark.parametrize("av, name", [
    ({}, "ValidationException"), ({"S": "a", "N": "1"}, "ValidationException"),
    ({"S": 1}, "SerializationException"), ({"X": 1}, "SerializationException"),
    ({"NULL": False}, "ValidationException"), ({"SS": []}, "ValidationException"),
    ({"NS": ["1", "1.0"]}, "ValidationException"), ({"B": "***"}, "SerializationException"),
    ({"L": [{"S": "ok"}, {}]}, "ValidationException"), ([], "SerializationException"),
])
def test_bad_values_rejected(av, name):
    with pytest.raises(DynamoError) as e:
        attrs.check_value(av)
    assert e.value.name == name


def test_equality_and_order():
    assert attrs.equal({"N": "1.0"}, {"N": "1"})
    assert attrs.equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert not attrs.equal({"S": "1"}, {"N": "1"})
    assert attrs.ordered({"S": "a"}, {"N": "1"}) is None
    x, y = attrs.ordered({"N": "-10"}, {"N": "9"})
    assert x < y


def test_keys_checked_against_schema():
    ks = attrs.KeySchema("pk", "S", "sk", "N")
    assert ks.key_of_item({"pk": {"S": "a"}, "sk": {"N": "1.0"}, "x": {"S": "y"}}) == ks.key_of_key(
        {"pk": {"S": "a"}, "sk": {"N": "1"}})
    for bad in ({"pk": {"S": "a"}}, {"pk": {"N": "1"}, "sk": {"N": "1"}}, {"pk": {"S": ""}, "sk": {"N": "1"}},
                {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}):
        with pytest.raises(DynamoError):
            ks.key_of_key(bad)


def test_item_size_limit():
    attrs.check_item_size({"pk": {"S": "x" * 400_000}})
    with pytest.raises(DynamoError, match="maximum allowed size"):
        attrs.check_item_size({"pk": {"S": "x" * 409_600}})
