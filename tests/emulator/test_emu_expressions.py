"""The expression parser and evaluator, directly (pure functions): accepts, rejects, evaluates."""

import pytest

from emulator import expressions as ex
from emulator.errors import DynamoError

ITEM = {"pk": {"S": "k"}, "n": {"N": "5"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"a": {"M": {"b": {"N": "2"}}}}}, "ss": {"SS": ["a", "b"]}, "t": {"BOOL": True}}


def ph(asts, names=None, values=None):
    return ex.Placeholders(names, values, asts)


@pytest.mark.parametrize("text, values, expected", [
    ("n = :v", {":v": {"N": "5.0"}}, True),
    ("n <> :v", {":v": {"N": "5"}}, False),
    ("n < :v", {":v": {"S": "9"}}, False),  # different types never order
    ("s > :v", {":v": {"S": "hell"}}, True),
    ("n BETWEEN :a AND :b", {":a": {"N": "1"}, ":b": {"N": "5"}}, True),
    ("n IN (:a, :b)", {":a": {"N": "1"}, ":b": {"N": "2"}}, False),
    ("m.a.b = :v", {":v": {"N": "2"}}, True),
    ("l[1] = :v", {":v": {"S": "x"}}, True),
    ("l[5] = :v", {":v": {"S": "x"}}, False),
    ("contains(ss, :v)", {":v": {"S": "a"}}, True),
    ("contains(l, :v)", {":v": {"N": "1"}}, True),
    ("begins_with(s, :v)", {":v": {"S": "he"}}, True),
    ("size(l) = :v", {":v": {"N": "2"}}, True),
    ("attribute_type(t, :v)", {":v": {"S": "BOOL"}}, True),
    ("NOT attribute_exists(nope) AND (n = :v OR s = :v)", {":v": {"N": "5"}}, True),
    ("nope <> :v", {":v": {"N": "5"}}, True),
    ("a = :v OR b = :v AND c = :v", {":v": {"N": "1"}}, False),
])
def test_condition_evaluation(text, values, expected):
    c = ex.parse_condition(text)
    assert ex.evaluate(ITEM, c, ph([c], None, values)) is expected


def test_precedence_and_binds_tighter_than_or():
    c = ex.parse_condition("a = :x OR b = :x AND c = :x")
    assert c[0] == "or" and c[2][0] == "and"
    c = ex.parse_condition("NOT a = :x AND b = :x")
    assert c[0] == "and" and c[1][0] == "not"


@pytest.mark.parametrize("text", [
    "", "   ", "n =", "= :v", "n = :v :w", "(n = :v", "n = :v)", "n BETWEEN :a", "n IN ()",
    "attribute_exists()", "attribute_exists(n, :v)", "foo(n)", "if_not_exists(n, :v)", "n == :v",
    "n = 'x'", "n = 5", "size = :v", "n.#", "n[x] = :v", "AND", "n = :v AND", "#",
])
def test_condition_syntax_rejected(text):
    with pytest.raises(DynamoError) as e:
        ex.parse_condition(text)
    assert e.value.name == "ValidationException"


@pytest.mark.parametrize("text", [
    "SET", "SET a", "SET a =", "SET a = :v,", "SET a = :v SET b = :v", "REMOVE", "ADD a", "ADD a b",
    "DELETE a size(b)", "SET a = size(b)", "a = :v", "SET a = :v + ",
    "SET a = list_append(:v)", "SET status = :v", "UPDATE a = :v",
])
def test_update_syntax_rejected(text):
    with pytest.raises(DynamoError) as e:
        ex.parse_update(text)
    assert e.value.name == "ValidationException"


def test_update_applies_against_the_old_item():
    u = ex.parse_update("SET a = b, b = a")
    new = ex.apply_update({"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}}, u, ph([u]), ("pk",))
    assert new["a"] == {"N": "2"} and new["b"] == {"N": "1"}


def test_update_nested_and_list_index():
    u = ex.parse_update("SET m.a.c = :v, l[9] = :w REMOVE l[0]")
    p = ph([u], None, {":v": {"S": "new"}, ":w": {"S": "end"}})
    new = ex.apply_update(ITEM, u, p, ("pk",))
    assert new["m"]["M"]["a"]["M"]["c"] == {"S": "new"}
    assert new["l"]["L"] == [{"S": "x"}, {"S": "end"}]
    assert ITEM["l"]["L"][0] == {"N": "1"}  # the input is never modified


def test_placeholders_must_all_be_defined_and_used():
    c = ex.parse_condition("#a = :v")
    with pytest.raises(DynamoError, match="not defined"):
        ph([c], None, {":v": {"N": "1"}})
    with pytest.raises(DynamoError, match="unused"):
        ph([c], {"#a": "x", "#b": "y"}, {":v": {"N": "1"}})
    with pytest.raises(DynamoError, match="unused"):
        ph([c], {"#a": "x"}, {":v": {"N": "1"}, ":w": {"N": "1"}})
    with pytest.raises(DynamoError, match="only be specified when using"):
        ph([], None, {":v": {"N": "1"}})
    with pytest.raises(DynamoError, match="must not be empty"):
        ph([c], {}, {":v": {"N": "1"}})


def test_reserved_words_need_placeholders():
    with pytest.raises(DynamoError, match="reserved keyword"):
        ex.parse_condition("name = :v")
    c = ex.parse_condition("#name = :v")
    assert ex.evaluate({"name": {"S": "x"}}, c, ph([c], {"#name": "name"}, {":v": {"S": "x"}}))


def test_projection_keeps_structure():
    p = ex.parse_projection("m.a.b, l[1], s")
    out = ex.project(ITEM, p, ph([p]))
    assert out == {"m": {"M": {"a": {"M": {"b": {"N": "2"}}}}}, "l": {"L": [{"S": "x"}]},
                   "s": {"S": "hello"}}


@pytest.mark.parametrize("text, names", [
    ("SET a = :v, a = :w", None), ("SET a.b = :v REMOVE a", None),
    ("SET #x = :v REMOVE a", {"#x": "a"}),  # a placeholder and its name are one path
])
def test_update_overlapping_paths_rejected(text, names):
    upd = ex.parse_update(text)
    values = {k: {"N": "1"} for k in (":v", ":w") if k in text}
    ph = ex.Placeholders(names, values or None, [upd])
    with pytest.raises(DynamoError) as e:
        ex.check_update_paths(upd, ph)
    assert "Two document paths overlap" in e.value.message
