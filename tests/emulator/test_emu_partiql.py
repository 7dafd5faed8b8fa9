"""PartiQL through boto3 over HTTP (emulator/partiql.py): ExecuteStatement,
BatchExecuteStatement and ExecuteTransaction as the DynamoDB API reference and the PartiQL
reference pages describe them, and their writes replicated as ordinary writes (async and
MRSC)."""

import http.client
import json
from urllib.parse import urlparse

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Deployment
from emulator.testing import NO_RETRIES, client, clients, create_global_table, wait_until

US = ["us-east-1", "us-east-2", "us-west-2"]


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture
def table(ddb):
    """`items` holding three items, emptied afterwards."""
    items = [{"pk": {"S": "p1"}, "body": {"S": "some text"}, "price": {"N": "123.4"},
              "nested": {"M": {"some": {"S": "key"}}}},
             {"pk": {"S": "p2"}, "body": {"S": "n/a"}, "tag": {"S": "key"}, "price": {"N": "2"}},
             {"pk": {"S": "p3"}, "body": {"S": "code here"}, "price": {"N": "0.5"},
              "free": {"NULL": True}}]
    for it in items:
        ddb.put_item(TableName="items", Item=it)
    yield items
    for it in ddb.scan(TableName="items", ConsistentRead=True)["Items"]:
        ddb.delete_item(TableName="items", Key={"pk": it["pk"]})


def run(ddb, statement, *params, **kw):
    if params:
        kw["Parameters"] = list(params)
    return ddb.execute_statement(Statement=statement, **kw)["Items"]


def test_select_star_projection_parameters_and_quoted_table(ddb, table):
    got = run(ddb, "SELECT * FROM items", ConsistentRead=True)
    assert sorted(got, key=lambda i: i["pk"]["S"]) == table
    assert sorted(map(str, run(ddb, 'select tag from "items"'))) == sorted(
        map(str, [{}, {}, {"tag": {"S": "key"}}]))
    assert run(ddb, "select * from items where pk = ?", {"S": "p1"}) == [table[0]]
    assert run(ddb, "select pk, nested.some from items where pk = ?", {"S": "p1"}) == [
        {"pk": {"S": "p1"}, "nested": {"M": {"some": {"S": "key"}}}}]
    assert run(ddb, "select * from items where pk = ?", {"S": "nope"}) == []


def test_where_on_non_key_attributes(ddb, table):
    def pks(stmt, *params):
        return sorted(i["pk"]["S"] for i in run(ddb, stmt, *params))
    assert pks("SELECT pk FROM items WHERE (contains(\"body\", 'code') OR contains(body, "
               "'some')) AND price >= 0 AND price <= 200") == ["p1", "p3"]
    assert pks("SELECT pk FROM items WHERE price BETWEEN 1 AND 3") == ["p2"]
    assert pks("SELECT pk FROM items WHERE body IN ['n/a', 'code here']") == ["p2", "p3"]
    assert pks("SELECT pk FROM items WHERE tag IS MISSING") == ["p1", "p3"]
    assert pks("SELECT pk FROM items WHERE tag IS NOT MISSING AND attribute_type(tag, 'S')") \
        == ["p2"]
    assert pks("SELECT pk FROM items WHERE free IS NULL AND NOT begins_with(body, 'some')") \
        == ["p2", "p3"]  # PartiQL: IS NULL holds for NULL and for MISSING
    assert pks("SELECT pk FROM items WHERE pk = ? AND price > ?", {"S": "p2"}, {"N": "1"}) \
        == ["p2"]
    assert pks("SELECT pk FROM items WHERE pk = 'p2' AND price > 5") == []


def test_sort_key_conditions_order_and_paging(ddb):
    for sk in range(7):
        ddb.put_item(TableName="ranged", Item={"pk": {"S": "r"}, "sk": {"N": str(sk)}})
    try:
        got = run(ddb, "SELECT sk FROM ranged WHERE pk = 'r' AND sk BETWEEN 2 AND 4 "
                       "ORDER BY sk DESC")
        assert [i["sk"]["N"] for i in got] == ["4", "3", "2"]
        seen, token, pages = [], None, 0
        while True:
            kw = {"Limit": 3, "ConsistentRead": True, **({"NextToken": token} if token else {})}
            resp = ddb.execute_statement(Statement="SELECT sk FROM ranged WHERE pk = 'r'", **kw)
            pages += 1
            assert len(resp["Items"]) <= 3
            seen += [i["sk"]["N"] for i in resp["Items"]]
            token = resp.get("NextToken")
            if token is None:
                break
        assert seen == [str(i) for i in range(7)] and pages == 3
        assert error_of(lambda: ddb.execute_statement(
            Statement="SELECT * FROM ranged WHERE pk = 'r'", NextToken="not a token"))[0] \
            == "ValidationException"
    finally:
        for sk in range(7):
            ddb.delete_item(TableName="ranged", Key={"pk": {"S": "r"}, "sk": {"N": str(sk)}})


def test_insert_update_delete(ddb, table):
    assert run(ddb, "INSERT INTO items VALUE {'pk': 'p4', 'attr': {'sth': ['other']}, "
                    "'ns': <<1, 2>>, 'ok': true, 'n': 1}") == []
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "p4"}}, ConsistentRead=True)["Item"]
    assert got == {"pk": {"S": "p4"}, "attr": {"M": {"sth": {"L": [{"S": "other"}]}}},
                   "ns": {"NS": ["1", "2"]}, "ok": {"BOOL": True}, "n": {"N": "1"}}
    assert error_of(lambda: run(ddb, "INSERT INTO items VALUE {'pk': 'p4'}")) == (
        "DuplicateItemException", "Duplicate primary key exists in table")

    run(ddb, "UPDATE items SET n = n + 5, body = ? SET ns = set_add(ns, <<3>>) "
             "REMOVE attr WHERE pk = 'p4'", {"S": "new"})
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "p4"}}, ConsistentRead=True)["Item"]
    assert got["n"] == {"N": "6"} and got["body"] == {"S": "new"} and "attr" not in got
    assert sorted(got["ns"]["NS"]) == ["1", "2", "3"]
    new = run(ddb, "UPDATE items SET n = 7 WHERE pk = 'p4' AND n = 6 RETURNING MODIFIED NEW *")
    assert new == [{"n": {"N": "7"}}]
    # "If the WHERE clause ... does not evaluate to true for any item": a failed condition
    assert error_of(lambda: run(ddb, "UPDATE items SET n = 1 WHERE pk = 'p4' AND n = 0"))[0] \
        == "ConditionalCheckFailedException"
    assert error_of(lambda: run(ddb, "UPDATE items SET n = 1 WHERE pk = 'absent'"))[0] \
        == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as e:  # the item as it was, when asked for
        run(ddb, "UPDATE items SET n = 1 WHERE pk = 'p4' AND n = 0",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert e.value.response["Item"]["n"] == {"N": "7"}
    assert "Item" not in ddb.get_item(TableName="items", Key={"pk": {"S": "absent"}},
                                      ConsistentRead=True)
    # one item per write: the WHERE names the whole key
    assert error_of(lambda: run(ddb, "UPDATE items SET n = 1 WHERE n = 7")) == (
        "ValidationException",
        "Where clause does not contain a mandatory equality on all key attributes")

    assert error_of(lambda: run(ddb, "DELETE FROM items WHERE pk = 'p4' AND n = 0"))[0] \
        == "ConditionalCheckFailedException"
    assert run(ddb, "DELETE FROM items WHERE pk = 'absent' AND n = 0") == []  # nothing there
    old = run(ddb, "DELETE FROM items WHERE pk = 'p4' AND n = 7 RETURNING ALL OLD *")
    assert old[0]["pk"] == {"S": "p4"} and old[0]["n"] == {"N": "7"}
    assert "Item" not in ddb.get_item(TableName="items", Key={"pk": {"S": "p4"}},
                                      ConsistentRead=True)


def test_delete_needs_the_whole_key(ddb):
    ddb.put_item(TableName="ranged", Item={"pk": {"S": "d"}, "sk": {"N": "1"}})
    assert error_of(lambda: run(ddb, "DELETE FROM ranged WHERE pk = 'd'"))[0] \
        == "ValidationException"
    run(ddb, "DELETE FROM ranged WHERE pk = 'd' AND sk = 1")
    assert ddb.scan(TableName="ranged", ConsistentRead=True)["Items"] == []


@pytest.mark.parametrize("statement, params, code, message", [
    ("selec * from items", None, "ValidationException",
     "Statement wasn't well formed, can't be processed: Unexpected keyword: selec"),
    ("select * from items where", None, "ValidationException",
     "Statement wasn't well formed, can't be processed: Unexpected end of statement"),
    ("select * from items where pk = ?", None, "ValidationException",
     "Number of parameters in request and statement don't match."),
    ("select * from items", [{"S": "x"}], "ValidationException",
     "Number of parameters in request and statement don't match."),
    ("select * from nope", None, "ResourceNotFoundException", "Requested resource not found"),
    ("select * from nope.idx", None, "ResourceNotFoundException",
     "Requested resource not found"),
    ("select * from items.idx", None, "ValidationException",
     "The table does not have the specified index"),
    ("select * from items where pk = 'a' 'b'", None, "ValidationException",
     "Statement wasn't well formed, can't be processed: Unexpected token: b"),
    ("EXISTS(SELECT * FROM items WHERE pk = 'a')", None, "ValidationException",
     "EXISTS can only be used in a transaction"),
])
def test_statement_errors(ddb, statement, params, code, message):
    kw = {"Parameters": params} if params else {}
    assert error_of(lambda: ddb.execute_statement(Statement=statement, **kw)) == (code, message)


def test_batch_execute_statement(ddb, table):
    resp = ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT pk FROM items WHERE pk = ?", "Parameters": [{"S": "p1"}]},
        {"Statement": "SELECT * FROM items WHERE pk = 'absent'"},
        {"Statement": "SELECT * FROM items"},
        {"Statement": "SELECT * FROM items WHERE body = 'n/a'"},
        {"Statement": "SELECT * FROM nope WHERE pk = 'p1'"},
        {"Statement": "SELECT * FROM items WHERE pk = ?"},
    ])["Responses"]
    no_key = {"Code": "ValidationError", "Message": "Select statements within "
              "BatchExecuteStatement must specify the primary key in the where clause."}
    assert resp == [
        {"TableName": "items", "Item": {"pk": {"S": "p1"}}},
        {"TableName": "items"},
        {"TableName": "items", "Error": no_key},
        {"TableName": "items", "Error": no_key},
        {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}},
        {"Error": {"Code": "ValidationError",
                   "Message": "Number of parameters in request and statement don't match."}},
    ]
    # writes: each on its own (not atomic), a failure answered in its slot
    resp = ddb.batch_execute_statement(Statements=[
        {"Statement": "UPDATE items SET body = ? WHERE pk = ?",
         "Parameters": [{"S": "changed"}, {"S": "p1"}]},
        {"Statement": "DELETE FROM items WHERE pk = 'p2'"},
        {"Statement": "INSERT INTO items VALUE {'pk': 'p3'}"},
        {"Statement": "INSERT INTO items VALUE {'pk': 'p9'}"},
    ])["Responses"]
    assert resp == [{"TableName": "items"}, {"TableName": "items"},
                    {"TableName": "items", "Error": {
                        "Code": "DuplicateItem",
                        "Message": "Duplicate primary key exists in table"}},
                    {"TableName": "items"}]
    pks = sorted(i["pk"]["S"] for i in ddb.scan(TableName="items", ConsistentRead=True)["Items"])
    assert pks == ["p1", "p3", "p9"]
    assert ddb.get_item(TableName="items", Key={"pk": {"S": "p1"}},
                        ConsistentRead=True)["Item"]["body"] == {"S": "changed"}
    # "The entire batch must consist of either read statements or write statements"
    assert error_of(lambda: ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT * FROM items WHERE pk = 'p1'"},
        {"Statement": "DELETE FROM items WHERE pk = 'p1'"}]))[0] == "ValidationException"
    assert error_of(lambda: ddb.batch_execute_statement(Statements=[
        {"Statement": "DELETE FROM items WHERE pk = 'p1'"}] * 26))[0] == "ValidationException"


def test_execute_transaction(ddb, table):
    resp = ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT pk, price FROM items WHERE pk = 'p2'"},
        {"Statement": "SELECT * FROM items WHERE pk = ?", "Parameters": [{"S": "absent"}]},
    ])
    assert resp["Responses"] == [{"Item": {"pk": {"S": "p2"}, "price": {"N": "2"}}}, {}]
    assert error_of(lambda: ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT * FROM items"}]))[0] == "ValidationException"
    assert error_of(lambda: ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT * FROM items WHERE pk = 'p1'"},
        {"Statement": "DELETE FROM items WHERE pk = 'p1'"}]))[0] == "ValidationException"

    # all or nothing: a duplicate INSERT cancels the UPDATE beside it
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "UPDATE items SET body = 'tx' WHERE pk = 'p1'"},
            {"Statement": "INSERT INTO items VALUE {'pk': 'p2'}"}])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "DuplicateItem"]
    assert ddb.get_item(TableName="items", Key={"pk": {"S": "p1"}},
                        ConsistentRead=True)["Item"]["body"] == {"S": "some text"}
    # EXISTS is the transaction's ConditionCheck
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "EXISTS(SELECT * FROM items WHERE pk = 'p2' AND tag IS MISSING)"},
            {"Statement": "DELETE FROM items WHERE pk = 'p1'"}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == [
        "ConditionalCheckFailed", "None"]
    ddb.execute_transaction(TransactStatements=[
        {"Statement": "EXISTS(SELECT * FROM items WHERE pk = 'p2' AND tag = 'key')"},
        {"Statement": "DELETE FROM items WHERE pk = 'p1'"},
        {"Statement": "INSERT INTO items VALUE {'pk': 'p5', 'n': 5}"}])
    pks = sorted(i["pk"]["S"] for i in ddb.scan(TableName="items", ConsistentRead=True)["Items"])
    assert pks == ["p2", "p3", "p5"]


def test_partiql_writes_replicate_as_ordinary_writes_async():
    """A01/A13: a PartiQL write is acknowledged in its region, held back while replication
    is paused, and delivered to the other regions afterwards."""
    with Deployment(US[:2], latency_scale=0.0, seed=11) as d:
        cs = create_global_table(d, "pqa")
        east, ohio = cs["us-east-1"], cs["us-east-2"]
        wait_until(lambda: ohio.describe_table(TableName="pqa")["Table"]["TableStatus"]
                   == "ACTIVE", what="the replica")
        d.pause_replication()
        run(east, "INSERT INTO pqa VALUE {'pk': 'k', 'v': 1}")
        run(east, "UPDATE pqa SET v = v + 1 WHERE pk = 'k'")
        assert run(east, "SELECT v FROM pqa WHERE pk = 'k'", ConsistentRead=True) == [
            {"v": {"N": "2"}}]
        assert run(ohio, "SELECT * FROM pqa WHERE pk = 'k'", ConsistentRead=True) == []
        d.resume_replication()
        wait_until(lambda: run(ohio, "SELECT v FROM pqa WHERE pk = 'k'", ConsistentRead=True)
                   == [{"v": {"N": "2"}}], what="the PartiQL writes in us-east-2")
        run(ohio, "DELETE FROM pqa WHERE pk = 'k'")
        wait_until(lambda: "Item" not in east.get_item(TableName="pqa", Key={"pk": {"S": "k"}},
                                                        ConsistentRead=True),
                   what="the PartiQL delete in us-east-1")


def test_partiql_on_mrsc():
    """M06: a PartiQL write is seen at once by an SC read in another region; M14: PartiQL
    transactions are refused like TransactWriteItems / TransactGetItems."""
    with Deployment(US, mode="strong", latency_scale=0.0, seed=12) as d:
        cs = create_global_table(d, "pqs", mode="STRONG")
        run(cs["us-east-1"], "INSERT INTO pqs VALUE {'pk': 'k', 'v': 1}")
        assert run(cs["us-west-2"], "SELECT v FROM pqs WHERE pk = 'k'", ConsistentRead=True) \
            == [{"v": {"N": "1"}}]
        run(cs["us-east-2"], "UPDATE pqs SET v = 2 WHERE pk = 'k'")
        assert run(cs["us-east-1"], "SELECT v FROM pqs WHERE pk = 'k'", ConsistentRead=True) \
            == [{"v": {"N": "2"}}]
        for statements in ([{"Statement": "SELECT * FROM pqs WHERE pk = 'k'"}],
                           [{"Statement": "DELETE FROM pqs WHERE pk = 'k'"}]):
            code, message = error_of(lambda: cs["us-east-1"].execute_transaction(
                TransactStatements=statements))
            assert code == "ValidationException" and "strongly consistent" in message


@pytest.mark.parametrize("statement", [
    "(" * 5000,
    "SELECT * FROM items WHERE " + "(" * 2000 + "a = 1" + ")" * 2000,
    "SELECT * FROM items WHERE " + "NOT " * 1500 + "a = 1",
    "UPDATE items SET a = " + " + ".join(["1"] * 1500) + " WHERE pk = 'x'",
    "INSERT INTO items VALUE " + "{'a': " * 900 + "1" + "}" * 900,
    "INSERT INTO items VALUE {'pk': 'x', 'a': " + "[" * 2000 + "]" * 2000 + "}",
])
def test_deeply_nested_statements_are_refused_not_a_crash(ddb, statement):
    """No statement within the 8,192 characters exhausts the parser: nesting is bounded
    (partiql.NESTING_MAX) and answered as a statement that is not well formed (HTTP 400)."""
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=statement)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"].startswith(
        "Statement wasn't well formed, can't be processed: ")


def test_request_members_are_checked(single):
    """What botocore would refuse before sending, sent anyway (its validation off)."""
    ddb = client(single.endpoints["us-east-1"], "us-east-1",
                 config=NO_RETRIES.merge(Config(parameter_validation=False)))
    assert error_of(lambda: ddb.execute_statement(Statement="SELECT * FROM items",
                                                  Parameters=[]))[0] == "ValidationException"
    assert error_of(lambda: ddb.execute_statement(Statement="SELECT * FROM items",
                                                  Limit=0))[0] == "ValidationException"
    assert error_of(lambda: ddb.execute_statement(Statement="SELECT * FROM items",
                                                  ReturnConsumedCapacity="SOME"))[0] \
        == "ValidationException"
    assert error_of(lambda: ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT * FROM items WHERE pk = 'a'", "ConsistentRead": "yes"}]))[0] \
        == "SerializationException"
    assert error_of(lambda: ddb.execute_statement(Statement=""))[0] == "ValidationException"
    for odd in ({}, {"N": "1", "S": "x"}, {"S": "a"}):  # not one set of one type
        assert error_of(lambda: ddb.execute_statement(
            Statement="INSERT INTO items VALUE {'pk': 'set', 's': <<1, ?>>}",
            Parameters=[odd]))[0] == "ValidationException"


# ---- fuzz: random statements never crash the region, never touch another table ----------
PARTIQL_WORDS = ["SELECT", "*", "FROM", "fuzz", '"fuzz"', "fuzz.idx", "WHERE", "pk", "v",
                 "w.x", "v[0]", "=", "<>", "<", ">=", "AND", "OR", "NOT", "(", ")", "?", "'a'",
                 "1", "-2.5e3", "TRUE", "NULL", "MISSING", "IS", "IN", "[", "]", "{", "}",
                 "'pk':", ",", "<<", ">>", "BETWEEN", "INSERT", "INTO", "VALUE", "UPDATE",
                 "SET", "REMOVE", "DELETE", "RETURNING", "ALL", "OLD", "NEW", "+", "size(v)",
                 "begins_with(v, 'a')", "contains(v, 1)", "attribute_type(v, 'N')",
                 "list_append(v, [1])", "set_add(v, <<1>>)", "EXISTS", "ORDER", "BY", "DESC"]
PARTIQL_PARAMS = [{"S": "a"}, {"N": "1"}, {"N": "x"}, {"N": "1e999"}, {"BOOL": True},
                  {"L": [{"S": "b"}]}, {"SS": []}, {"X": 1}, {}, {"S": ""}]


@pytest.fixture(scope="module")
def fuzz_target():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=98) as d:
        c = clients(d)["us-east-1"]
        for name in ("fuzz", "sentinel"):
            c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        for i in range(10):
            c.put_item(TableName="sentinel", Item={"pk": {"S": f"s{i}"}, "v": {"N": str(i)}})
        before = c.scan(TableName="sentinel", ConsistentRead=True)["Items"]
        u = urlparse(d.endpoints["us-east-1"])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        yield c, conn, before
        conn.close()


literals = st.sampled_from(["'a'", "'b'", "1", "-2.5e3", "TRUE", "NULL", "?", "[1, 'x']",
                            "{'k': 1}", "<<1, 2>>", "<<'a'>>", "1e999", "''", "<<>>",
                            "<<1, ?>>", "{'k': ?}"])
paths = st.sampled_from(["pk", "v", '"v"', "w.x", "v[0]", "size(v)"])
conditions = st.recursive(
    st.one_of(st.builds("{} {} {}".format, paths, st.sampled_from(["=", "<>", "<", ">="]), literals),
              st.builds("{} IS {}".format, paths, st.sampled_from(["MISSING", "NOT MISSING",
                                                                    "NULL"])),
              st.builds("{} BETWEEN {} AND {}".format, paths, literals, literals),
              st.builds("{} IN [{}, {}]".format, paths, literals, literals),
              st.builds("begins_with({}, {})".format, paths, literals),
              st.builds("attribute_type({}, {})".format, paths, literals)),
    lambda inner: st.one_of(st.builds("{} AND {}".format, inner, inner),
                            st.builds("{} OR {}".format, inner, inner),
                            st.builds("NOT {}".format, inner), st.builds("({})".format, inner)),
    max_leaves=5)
tables = st.sampled_from(["fuzz", '"fuzz"', "fuzz.idx", "nope", '"other"'])  # never sentinel
well_formed = st.one_of(
    st.builds("SELECT {} FROM {} WHERE {}".format, st.sampled_from(["*", "pk, v", "w.x"]),
              tables, conditions),
    st.builds("SELECT * FROM {} WHERE pk = {} AND {}".format, tables, literals, conditions),
    st.builds("INSERT INTO {} VALUE {{'pk': {}, 'v': {}}}".format, tables, literals, literals),
    st.builds("UPDATE {} SET v = {} WHERE pk = {} AND {}".format, tables, literals, literals,
              conditions),
    st.builds("UPDATE {} SET v = v + {} REMOVE w WHERE pk = {}".format, tables, literals,
              literals),
    st.builds("DELETE FROM {} WHERE pk = {} AND {} RETURNING ALL OLD *".format, tables,
              literals, conditions),
    st.builds("EXISTS(SELECT * FROM {} WHERE pk = {} AND {})".format, tables, literals,
              conditions))
statements = st.one_of(
    well_formed,
    st.lists(st.sampled_from(PARTIQL_WORDS), min_size=1, max_size=16).map(" ".join))


def _entry(statement: str, params: list, exact: bool, consistent: bool | None) -> dict:
    """One statement with, mostly, as many parameters as it has `?`."""
    if exact:
        n = statement.count("?")
        params = (params * n)[:n]
    out = {"Statement": statement, **({"Parameters": params} if params else {})}
    return out if consistent is None else {**out, "ConsistentRead": consistent}


entries = st.builds(_entry, statements, st.lists(st.sampled_from(PARTIQL_PARAMS), min_size=1,
                                                 max_size=3),
                    st.sampled_from([True, True, True, False]), st.one_of(st.none(), st.booleans()))
partiql_requests = st.one_of(
    st.tuples(st.just("ExecuteStatement"), entries),
    st.tuples(st.just("BatchExecuteStatement"),
              st.lists(entries, min_size=1, max_size=3).map(lambda s: {"Statements": s})),
    st.tuples(st.just("ExecuteTransaction"),
              st.lists(entries, min_size=1, max_size=3).map(lambda s: {"TransactStatements": s})))


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(request=partiql_requests)
def test_random_statements_get_service_answers(fuzz_target, request):
    """Every answer is 200 or a 400 naming a DynamoDB error, never a 500 or a dropped
    connection, whatever the statement."""
    _, conn, _ = fuzz_target
    op, body = request
    conn.request("POST", "/", body=json.dumps(body),
                 headers={"X-Amz-Target": f"DynamoDB_20120810.{op}",
                          "Content-Type": "application/x-amz-json-1.0"})
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    assert resp.status in (200, 400), (resp.status, answer)
    if resp.status == 400:
        assert answer["__type"].rsplit("#", 1)[1] in {
            "ValidationException", "SerializationException", "ResourceNotFoundException",
            "ConditionalCheckFailedException", "DuplicateItemException",
            "TransactionCanceledException"}, answer
        assert answer["message"]


def test_fuzzed_statements_left_other_tables_alone(fuzz_target):
    c, _, before = fuzz_target
    assert c.scan(TableName="sentinel", ConsistentRead=True)["Items"] == before
    for it in c.scan(TableName="fuzz", ConsistentRead=True)["Items"]:  # only valid items
        assert set(it["pk"]) == {"S"} and it["pk"]["S"]
