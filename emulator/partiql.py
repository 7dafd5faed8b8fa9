"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

DynamoDB accepts a small SQL-like language besides its JSON operations (Developer Guide,
"PartiQL - a SQL-compatible query language for Amazon DynamoDB"): SELECT, INSERT, UPDATE
and DELETE on one table, `?` parameters, and for transactions EXISTS(SELECT ...). Rather
than a second data path, this module parses a statement strictly (a tokenizer and a
recursive-descent parser over the documented grammar) and maps it onto the region's
ordinary operations (emulator/dataplane.py): SELECT becomes a Query when its WHERE pins the
partition key, else a Scan with a FilterExpression (a GetItem in a batch, a TransactGetItems
entry in a transaction); INSERT a PutItem conditioned on the key's absence; UPDATE an UpdateItem
conditioned on the item's presence; DELETE a DeleteItem; a transaction becomes
TransactGetItems or TransactWriteItems. So every write is an ordinary engine write that
async replication and the MRSC journal see as any other, and MRSC's refusal of
transactions (M14) holds for PartiQL transactions too.

The rules and wording come from the DynamoDB API Reference (ExecuteStatement,
BatchExecuteStatement, ExecuteTransaction, BatchStatementError) and the PartiQL reference
pages of the Developer Guide (ql-reference.select/insert/update/delete,
ql-reference.multiplestatements.*):
- a write names exactly one item: its WHERE must hold an equality on every key attribute
  ("this condition must resolve to a single primary key value");
- INSERT of an existing key is DuplicateItemException;
- UPDATE whose WHERE matches no item is ConditionalCheckFailedException ("If the WHERE
  clause of the UPDATE statement does not evaluate to true for any item");
- DELETE of an absent key succeeds with nothing deleted; of a present item whose other
  conditions are false, ConditionalCheckFailedException;
- batches hold at most 25 statements, all reads or all writes, and a batch SELECT names
  its item by the full key; each statement's failure is its own BatchStatementError;
- transactions hold at most 100 statements, all reads or all writes (EXISTS may join the
  writes, as TransactWriteItems' ConditionCheck), each naming one item.
Messages: "Statement wasn't well formed, can't be processed: ...", "Duplicate primary key
exists in table", "Requested resource not found", "The table does not have the specified
index", "Number of parameters in request and statement don't match." and the batch's
"Select statements within BatchExecuteStatement must specify the primary key in the where
clause." are the service's (as users and moto's tests quote them); the text after the colon
of a parse error, and the messages for a write without its whole key, mixed reads and
writes, and EXISTS outside a transaction, are the emulator's own (the service's error type).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import DynamoError, validation
from emulator.legacy import PlaceholderBuilder

BATCH_MAX = 25  # BatchExecuteStatement: "Statements ... Maximum number of 25 items"
TRANSACTION_MAX = 100  # ExecuteTransaction: "TransactStatements ... Maximum 100 items"
STATEMENT_CHARS_MAX = 8192  # Statement: "Length Constraints: Minimum 1. Maximum 8192."
NESTING_MAX = 32  # parentheses, NOT, nested literals: a bound so no statement exhausts the stack

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><<|>>|<=|>=|<>|!=|[=<>()\[\]{},.:?*+\-])
""", re.X)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "INSERT", "INTO", "VALUE",
             "UPDATE", "SET", "REMOVE", "DELETE", "BETWEEN", "IN", "IS", "MISSING", "NULL",
             "TRUE", "FALSE", "ORDER", "BY", "ASC", "DESC", "RETURNING", "EXISTS"}
_CMP = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_CONDITION_FUNCTIONS = {"begins_with": 2, "contains": 2, "attribute_type": 2}
_RETURNING = {("ALL", "OLD"): "ALL_OLD", ("MODIFIED", "OLD"): "UPDATED_OLD",
              ("ALL", "NEW"): "ALL_NEW", ("MODIFIED", "NEW"): "UPDATED_NEW"}


def malformed(detail: str) -> DynamoError:
    return validation(f"Statement wasn't well formed, can't be processed: {detail}")


# ---- the statements, as data -----------------------------------------------------------
@dataclass(frozen=True)
class Select:
    table: str
    index: str | None
    paths: tuple | None  # None: SELECT *
    where: tuple | None
    order: tuple | None = None  # ORDER BY: (path, descending)


@dataclass(frozen=True)
class Insert:
    table: str
    item: dict


@dataclass(frozen=True)
class Update:
    table: str
    actions: tuple  # ("SET", path, value) | ("REMOVE", path)
    where: tuple
    returning: str | None = None


@dataclass(frozen=True)
class Delete:
    table: str
    where: tuple
    returning: str | None = None


@dataclass(frozen=True)
class Exists:
    select: Select


# ---- parsing ---------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str
    text: str


def tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise malformed(f"Unexpected character '{text[i]}'")
        i = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        tok = m.group()
        if kind == "ident" and tok.upper() in _KEYWORDS:
            out.append(_Tok("kw", tok.upper()))
        elif kind == "qident":
            out.append(_Tok("ident", tok[1:-1].replace('""', '"')))
        elif kind == "string":
            out.append(_Tok("string", tok[1:-1].replace("''", "'")))
        else:
            out.append(_Tok(kind, tok))
    return out


class _Parser:
    """Recursive descent over one statement's tokens; `?` consumes the next parameter."""

    def __init__(self, text: str, params: list) -> None:
        self.toks = tokenize(text)
        self.i = 0
        self.params = params
        self.used = 0
        self.depth = 0

    def nested(self) -> None:
        """Enter one nesting level (undone by `self.depth -= 1`); refuse beyond NESTING_MAX."""
        self.depth += 1
        if self.depth > NESTING_MAX:
            raise malformed(f"Statement is nested more than {NESTING_MAX} levels deep")

    # token helpers
    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at(self, kind: str, text: str | None = None, offset: int = 0) -> bool:
        t = self.peek(offset)
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def take(self, kind: str, text: str | None = None) -> _Tok:
        t = self.peek()
        if t is None:
            raise malformed("Unexpected end of statement")
        if t.kind != kind or (text is not None and t.text != text):
            raise malformed(f"Unexpected token: {t.text}" if text is None
                            else f"Expected {text}, found {t.text}")
        self.i += 1
        return t

    def maybe(self, kind: str, text: str | None = None) -> bool:
        if self.at(kind, text):
            self.i += 1
            return True
        return False

    def word(self) -> str:
        """A non-reserved word (RETURNING's ALL / OLD / NEW / MODIFIED)."""
        t = self.peek()
        if t is None or t.kind not in ("ident", "kw"):
            raise malformed("Unexpected end of statement" if t is None
                            else f"Unexpected token: {t.text}")
        self.i += 1
        return t.text.upper()

    def done(self) -> None:
        if self.i != len(self.toks):
            raise malformed(f"Unexpected token: {self.toks[self.i].text}")
        if self.used != len(self.params):
            raise validation("Number of parameters in request and statement don't match.")

    # statements
    def statement(self) -> Any:
        if self.maybe("kw", "SELECT"):
            return self.select_rest()
        if self.maybe("kw", "INSERT"):
            self.take("kw", "INTO")
            table = self.take("ident").text
            self.take("kw", "VALUE")
            item = self.value()
            if item[0] != "lit" or "M" not in item[1]:
                raise malformed("INSERT takes one item, a tuple {'attribute': value, ...}")
            return Insert(table, item[1]["M"])
        if self.maybe("kw", "UPDATE"):
            table = self.take("ident").text
            actions = []
            while self.at("kw", "SET") or self.at("kw", "REMOVE"):
                verb = self.take("kw").text
                while True:
                    p = self.path()
                    if verb == "SET":
                        self.take("op", "=")
                        actions.append(("SET", p, self.operand()))
                    else:
                        actions.append(("REMOVE", p))
                    if not self.maybe("op", ","):
                        break
            if not actions:
                raise malformed("UPDATE needs SET or REMOVE")
            self.take("kw", "WHERE")
            where = self.condition()
            return Update(table, tuple(actions), where, self.returning())
        if self.maybe("kw", "DELETE"):
            self.take("kw", "FROM")
            table = self.take("ident").text
            self.take("kw", "WHERE")
            where = self.condition()
            returning = self.returning()
            if returning not in (None, "ALL_OLD"):
                raise malformed("DELETE ... RETURNING takes ALL OLD *")
            return Delete(table, where, returning)
        if self.maybe("kw", "EXISTS"):
            self.take("op", "(")
            self.take("kw", "SELECT")
            sel = self.select_rest()
            self.take("op", ")")
            return Exists(sel)
        t = self.peek()
        raise malformed("Unexpected end of statement" if t is None
                        else f"Unexpected keyword: {t.text}")

    def select_rest(self) -> Select:
        paths: tuple | None
        if self.maybe("op", "*"):
            paths = None
        else:
            ps = [self.path()]
            while self.maybe("op", ","):
                ps.append(self.path())
            paths = tuple(ps)
        self.take("kw", "FROM")
        table = self.take("ident").text
        index = None
        if self.maybe("op", "."):
            index = self.take("ident").text
        where = None
        if self.maybe("kw", "WHERE"):
            where = self.condition()
        order = None
        if self.maybe("kw", "ORDER"):
            self.take("kw", "BY")
            order_path = self.path()
            descending = self.maybe("kw", "DESC")
            if not descending:
                self.maybe("kw", "ASC")
            order = (order_path, descending)  # checked against the sort key when mapped
        return Select(table, index, paths, where, order)

    def returning(self) -> str | None:
        if not self.maybe("kw", "RETURNING"):
            return None
        which = (self.word(), self.word())
        self.take("op", "*")
        if which not in _RETURNING:
            raise malformed(f"Unexpected RETURNING {' '.join(which)}")
        return _RETURNING[which]

    # paths and values
    def path(self) -> tuple:
        t = self.take("ident")
        parts: list[Any] = [t.text]
        while True:
            if self.at("op", ".") and self.at("ident", offset=1):
                self.i += 1
                parts.append(self.take("ident").text)
            elif self.at("op", "["):
                self.i += 1
                n = self.take("number").text
                if not n.isdigit():
                    raise malformed(f"Unexpected token: {n}")
                parts.append(int(n))
                self.take("op", "]")
            else:
                return ("path", tuple(parts))

    def value(self) -> tuple:
        """A literal (or parameter): ("lit", AttributeValue)."""
        t = self.peek()
        if t is None:
            raise malformed("Unexpected end of statement")
        if self.maybe("op", "?"):
            if self.used >= len(self.params):
                raise validation("Number of parameters in request and statement don't match.")
            v = self.params[self.used]
            self.used += 1
            return ("lit", v)
        if t.kind == "string":
            self.i += 1
            return ("lit", {"S": t.text})
        if t.kind == "number" or (t.kind == "op" and t.text == "-" and self.at("number", offset=1)):
            sign = "-" if self.maybe("op", "-") else ""
            return ("lit", {"N": sign + self.take("number").text})
        if self.maybe("kw", "TRUE"):
            return ("lit", {"BOOL": True})
        if self.maybe("kw", "FALSE"):
            return ("lit", {"BOOL": False})
        if self.maybe("kw", "NULL"):
            return ("lit", {"NULL": True})
        if self.maybe("op", "["):
            items = self.values_until("]")
            return ("lit", {"L": items})
        if self.maybe("op", "<<"):
            items = self.values_until(">>")
            return ("lit", _set_of(items))
        if self.maybe("op", "{"):
            m: dict[str, Any] = {}
            self.nested()
            if not self.maybe("op", "}"):
                while True:
                    k = self.take("string").text
                    self.take("op", ":")
                    m[k] = self.value()[1]
                    if self.maybe("op", "}"):
                        break
                    self.take("op", ",")
            self.depth -= 1
            return ("lit", {"M": m})
        raise malformed(f"Unexpected token: {t.text}")

    def values_until(self, close: str) -> list:
        out: list = []
        if self.maybe("op", close):
            return out
        self.nested()
        while True:
            out.append(self.value()[1])
            if self.maybe("op", close):
                self.depth -= 1
                return out
            self.take("op", ",")

    def operand(self) -> tuple:
        """A value expression: literal, path, size()/list_append()/set_add()/set_delete(),
        and + / - between them."""
        left = self.term()
        terms = 1
        while self.at("op", "+") or self.at("op", "-"):
            op = self.take("op").text
            left = ("arith", op, left, self.term())
            terms += 1
            if terms > NESTING_MAX:  # a left-deep tree: its depth is bounded too
                raise malformed(f"Statement is nested more than {NESTING_MAX} levels deep")
        return left

    def term(self) -> tuple:
        if self.at("ident") and self.at("op", "(", offset=1):
            name = self.take("ident").text.lower()
            self.take("op", "(")
            self.nested()
            args = [self.operand()]
            while self.maybe("op", ","):
                args.append(self.operand())
            self.take("op", ")")
            self.depth -= 1
            return ("call", name, tuple(args))
        if self.at("ident"):
            return self.path()
        return self.value()

    # conditions
    def condition(self) -> tuple:
        parts = [self.conjunction()]
        while self.maybe("kw", "OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", tuple(parts))

    def conjunction(self) -> tuple:
        parts = [self.negation()]
        while self.maybe("kw", "AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def negation(self) -> tuple:
        if self.maybe("kw", "NOT"):
            self.nested()
            c = ("not", self.negation())
            self.depth -= 1
            return c
        return self.predicate()

    def predicate(self) -> tuple:
        if self.at("op", "("):
            # a parenthesised condition (an operand never starts with "(")
            self.i += 1
            self.nested()
            c = self.condition()
            self.take("op", ")")
            self.depth -= 1
            return c
        left = self.operand()
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in _CMP:
            self.i += 1
            return ("cmp", _CMP[t.text], left, self.operand())
        if self.maybe("kw", "BETWEEN"):
            lo = self.operand()
            self.take("kw", "AND")
            return ("between", left, lo, self.operand())
        if self.maybe("kw", "IN"):
            close = "]" if self.maybe("op", "[") else (self.take("op", "(") and ")")
            vals = [self.operand()]
            while self.maybe("op", ","):
                vals.append(self.operand())
            self.take("op", close)
            return ("in", left, tuple(vals))
        if self.maybe("kw", "IS"):
            negated = self.maybe("kw", "NOT")
            what = self.take("kw").text
            if what not in ("MISSING", "NULL"):
                raise malformed(f"Unexpected keyword: {what}")
            return ("is", left, what, negated)
        if left[0] == "call" and left[1] in _CONDITION_FUNCTIONS:
            return ("fn", left[1], left[2])
        raise malformed("Unexpected end of statement" if t is None
                        else f"Unexpected token: {t.text}")


def _set_of(items: list) -> dict:
    kinds = {next(iter(v)) if isinstance(v, dict) and len(v) == 1 else None for v in items}
    if len(kinds) != 1 or None in kinds:
        raise malformed("A set literal holds one or more values of one type")
    kind = kinds.pop()
    if kind not in ("S", "N", "B"):
        raise malformed("A set literal holds strings, numbers or binaries")
    return {kind + "S": [v[kind] for v in items]}


def parse(text: Any, params: Any) -> Any:
    """One statement, its `?` bound to `params` (a list of AttributeValues)."""
    if not isinstance(text, str):
        raise validation("1 validation error detected: Value null at 'statement' failed to "
                         "satisfy constraint: Member must not be null")
    if not 1 <= len(text) <= STATEMENT_CHARS_MAX:
        raise validation(f"1 validation error detected: Value '{text[:64]}' at 'statement' "
                         "failed to satisfy constraint: Member must have length less than or "
                         f"equal to {STATEMENT_CHARS_MAX}" if text else
                         "1 validation error detected: Value '' at 'statement' failed to "
                         "satisfy constraint: Member must have length greater than or equal "
                         "to 1")
    if params is None:
        params = []
    elif not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    elif not params:  # Parameters: "Array Members: Minimum number of 1 item."
        raise validation("1 validation error detected: Value '[]' at 'parameters' failed to "
                         "satisfy constraint: Member must have length greater than or equal "
                         "to 1")
    p = _Parser(text, params)
    stmt = p.statement()
    p.done()
    return stmt


# ---- mapping onto the data-plane operations ----------------------------------------------
class _Expr(PlaceholderBuilder):
    """Expression text from the parsed tree, with generated #/: placeholders."""

    def path(self, p: tuple) -> str:
        out = ""
        for part in p[1]:
            out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + self.name(part)
        return out

    def operand(self, node: tuple) -> str:
        kind = node[0]
        if kind == "path":
            return self.path(node)
        if kind == "lit":
            return self.value(node[1])
        if kind == "arith":
            return f"{self.operand(node[2])} {node[1]} {self.operand(node[3])}"
        if kind == "call" and node[1] in ("size", "list_append", "if_not_exists"):
            return f"{node[1]}({', '.join(self.operand(a) for a in node[2])})"
        raise malformed(f"Unsupported function: {node[1]}" if kind == "call"
                        else "Unsupported operand")

    def condition(self, c: tuple, within: int = 0) -> str:
        """`c` as condition-expression text, in parentheses only where the operator inside
        binds looser than the one around it (`within`: 1 OR, 2 AND, 3 NOT); the service
        refuses redundant ones such as "((a = b))"."""
        text, binding = self._condition(c)
        return f"({text})" if binding < within else text

    def _condition(self, c: tuple) -> tuple[str, int]:
        kind = c[0]
        if kind in ("and", "or"):
            binding = 1 if kind == "or" else 2
            return f" {kind.upper()} ".join(self.condition(p, binding) for p in c[1]), binding
        if kind == "not":
            return f"NOT {self.condition(c[1], 3)}", 3
        return self._predicate(c), 4

    def _predicate(self, c: tuple) -> str:
        kind = c[0]
        if kind == "cmp":
            return f"{self.operand(c[2])} {c[1]} {self.operand(c[3])}"
        if kind == "between":
            return f"{self.operand(c[1])} BETWEEN {self.operand(c[2])} AND {self.operand(c[3])}"
        if kind == "in":
            return f"{self.operand(c[1])} IN ({', '.join(self.operand(v) for v in c[2])})"
        if kind == "is":
            if c[1][0] != "path":
                raise malformed("IS MISSING / IS NULL applies to an attribute")
            p = self.path(c[1])
            if c[2] == "MISSING":
                return f"attribute_exists({p})" if c[3] else f"attribute_not_exists({p})"
            # PartiQL: x IS NULL holds for NULL and for MISSING
            null = f"(attribute_not_exists({p}) OR attribute_type({p}, {self.value({'S': 'NULL'})}))"
            return f"NOT {null}" if c[3] else null  # an operand of NOT, AND, OR alike
        if kind == "fn":
            name, args = c[1], c[2]
            if len(args) != _CONDITION_FUNCTIONS[name] or args[0][0] != "path":
                raise malformed(f"Wrong arguments for function {name}")
            return f"{name}({', '.join(self.operand(a) for a in args)})"
        raise malformed("Unsupported condition")

    def request(self) -> dict:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


def _conjuncts(c: tuple | None) -> list[tuple]:
    """The top-level AND's operands (nested ANDs, from parentheses, flattened)."""
    if c is None:
        return []
    if c[0] == "and":
        return [x for p in c[1] for x in _conjuncts(p)]
    return [c]


def _and(parts: list[tuple]) -> tuple | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ("and", tuple(parts))


def _key_equality(c: tuple, attr: str) -> dict | None:
    """The value `c` pins key attribute `attr` to (`attr = literal`), else None."""
    if c[0] != "cmp" or c[1] != "=":
        return None
    for a, b in ((c[2], c[3]), (c[3], c[2])):
        if a == ("path", (attr,)) and b[0] == "lit":
            return b[1]
    return None


@dataclass
class _Keyed:
    """A WHERE split into the key it names and the conditions left over."""
    key: dict = field(default_factory=dict)
    rest: list = field(default_factory=list)


def _split_key(where: tuple | None, key_attrs: list[str]) -> _Keyed:
    out = _Keyed()
    for c in _conjuncts(where):
        for attr in key_attrs:
            v = _key_equality(c, attr)
            if v is not None and attr not in out.key:
                out.key[attr] = v
                break
        else:
            out.rest.append(c)
    return out


def _full_key(t: Any, where: tuple) -> _Keyed:
    attrs_ = [a for a in (t.schema.hash, t.schema.range) if a]
    k = _split_key(where, attrs_)
    if len(k.key) != len(attrs_):
        raise validation("Where clause does not contain a mandatory equality on all key "
                         "attributes")
    return k


class PartiQL:
    """ExecuteStatement / BatchExecuteStatement / ExecuteTransaction for one region's
    service (`svc`: emulator.dataplane.RegionService)."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc

    # -- ExecuteStatement --
    def execute_statement(self, req: dict) -> dict:
        stmt = parse(req.get("Statement"), req.get("Parameters"))
        if isinstance(stmt, Exists):
            raise validation("EXISTS can only be used in a transaction")
        if isinstance(stmt, Select):
            return self._select(stmt, req)
        return self._write(stmt, req)

    def _select(self, s: Select, req: dict) -> dict:
        t = self.svc._named(s.table)
        where = s.where
        b = _Expr()
        out: dict[str, Any] = {"TableName": s.table}
        if s.paths is not None:
            out["ProjectionExpression"] = ", ".join(b.path(p) for p in s.paths)
        for name in ("ConsistentRead", "Limit", "ReturnConsumedCapacity"):
            if name in req:
                out[name] = req[name]
        token = req.get("NextToken")
        if token is not None:
            out["ExclusiveStartKey"] = _decode_token(token)
        if s.index is not None:
            out["IndexName"] = s.index
            op = "Scan"
            if where is not None:
                out["FilterExpression"] = b.condition(where)
        else:
            k = _split_key(where, [t.schema.hash])
            if t.schema.hash in k.key:
                op = "Query"
                key_text = f"{b.name(t.schema.hash)} = {b.value(k.key[t.schema.hash])}"
                rest = list(k.rest)
                for c in rest:
                    if t.schema.range and _on_attr(c, t.schema.range) and _key_condition_form(c):
                        key_text += f" AND {b.condition(c, 2)}"
                        rest.remove(c)
                        break
                out["KeyConditionExpression"] = key_text
                if rest:
                    out["FilterExpression"] = b.condition(_and(rest))
            else:
                op = "Scan"
                if where is not None:
                    out["FilterExpression"] = b.condition(where)
        if s.order is not None:
            if op != "Query" or s.order[0] != ("path", (t.schema.range,)):
                raise validation("Must have WHERE clause in the statement when using ORDER "
                                 "BY clause." if op != "Query" else
                                 "ORDER BY is supported only on the table's sort key")
            out["ScanIndexForward"] = not s.order[1]
        out.update(b.request())
        try:
            resp = self.svc.query(out) if op == "Query" else self.svc.scan(out)
        except DynamoError as e:
            if e.name == "ValidationException" and e.message.startswith(
                    "The table does not have the specified index"):
                raise validation("The table does not have the specified index") from None
            raise
        result: dict[str, Any] = {"Items": resp.get("Items", [])}
        if "LastEvaluatedKey" in resp:
            result["NextToken"] = _encode_token(resp["LastEvaluatedKey"])
            result["LastEvaluatedKey"] = resp["LastEvaluatedKey"]
        if "ConsumedCapacity" in resp:
            result["ConsumedCapacity"] = resp["ConsumedCapacity"]
        return result

    def _write(self, stmt: Any, req: dict) -> dict:
        op, body = self._write_request(stmt)
        if "ReturnValuesOnConditionCheckFailure" in req:
            body["ReturnValuesOnConditionCheckFailure"] = req["ReturnValuesOnConditionCheckFailure"]
        if "ReturnConsumedCapacity" in req:
            body["ReturnConsumedCapacity"] = req["ReturnConsumedCapacity"]
        try:
            resp = getattr(self.svc, op)(body)
        except DynamoError as e:
            if isinstance(stmt, Insert) and e.name == "ConditionalCheckFailedException":
                raise DynamoError("DuplicateItemException",
                                  "Duplicate primary key exists in table") from None
            raise
        result: dict[str, Any] = {"Items": [resp["Attributes"]] if resp.get("Attributes") else []}
        if "ConsumedCapacity" in resp:
            result["ConsumedCapacity"] = resp["ConsumedCapacity"]
        return result

    def _write_request(self, stmt: Any) -> tuple[str, dict]:
        """(RegionService method, its request) for an INSERT / UPDATE / DELETE."""
        t = self.svc._named(stmt.table)
        b = _Expr()
        if isinstance(stmt, Insert):
            cond = f"attribute_not_exists({b.name(t.schema.hash)})"
            return "put_item", {"TableName": stmt.table, "Item": stmt.item,
                                "ConditionExpression": cond, **b.request()}
        k = _full_key(t, stmt.where)
        if isinstance(stmt, Update):
            # "If the WHERE clause ... does not evaluate to true for any item,
            # ConditionalCheckFailedException is returned": the item must exist
            cond = f"attribute_exists({b.name(t.schema.hash)})"
            if k.rest:
                cond += f" AND {b.condition(_and(k.rest), 2)}"
            body = {"TableName": stmt.table, "Key": k.key, "ConditionExpression": cond,
                    "UpdateExpression": _update_expression(stmt.actions, b), **b.request()}
            if stmt.returning:
                body["ReturnValues"] = stmt.returning
            return "update_item", body
        body = {"TableName": stmt.table, "Key": k.key}
        if k.rest:
            # an absent item is deleted without error; a present one only when the rest holds
            body["ConditionExpression"] = (f"attribute_not_exists({b.name(t.schema.hash)}) "
                                           f"OR {b.condition(_and(k.rest), 1)}")
            body.update(b.request())
        if stmt.returning:
            body["ReturnValues"] = stmt.returning
        return "delete_item", body

    # -- BatchExecuteStatement --
    def batch_execute_statement(self, req: dict) -> dict:
        statements = _statement_list(req, "Statements", BATCH_MAX)
        parsed: list[Any] = []
        for entry in statements:
            if not isinstance(entry.get("ConsistentRead", False), bool):
                raise DynamoError("SerializationException", "Unexpected value type in payload")
            try:
                parsed.append(parse(entry.get("Statement"), entry.get("Parameters")))
            except DynamoError as e:
                parsed.append(e)
        kinds = {isinstance(s, Select) for s in parsed if not isinstance(s, DynamoError)}
        if len(kinds) > 1:
            raise validation("Batch must consist of either read statements or write "
                             "statements, but not both")
        responses = []
        for entry, stmt in zip(statements, parsed):
            responses.append(self._batch_one(entry, stmt))
        return {"Responses": responses}

    def _batch_one(self, entry: dict, stmt: Any) -> dict:
        if isinstance(stmt, Exists):
            stmt = validation("EXISTS can only be used in a transaction")
        if isinstance(stmt, DynamoError):
            return {"Error": _statement_error(stmt)}
        try:
            t = self.svc._named(stmt.table)
        except DynamoError as e:
            return {"Error": _statement_error(e)}
        out: dict[str, Any] = {"TableName": stmt.table}
        try:
            if isinstance(stmt, Select):
                get = _get_request(t, stmt, "BatchExecuteStatement")
                if entry.get("ConsistentRead") is not None:
                    get["ConsistentRead"] = entry["ConsistentRead"]
                item = self.svc.get_item(get).get("Item")
                if item is not None:
                    out["Item"] = item
            else:
                self._write(stmt, entry)
        except DynamoError as e:
            out["Error"] = _statement_error(e)
            if e.name == "ConditionalCheckFailedException" and "Item" in e.extra:
                out["Error"]["Item"] = e.extra["Item"]
        return out

    # -- ExecuteTransaction --
    def execute_transaction(self, req: dict) -> dict:
        statements = _statement_list(req, "TransactStatements", TRANSACTION_MAX)
        parsed = []
        for entry in statements:
            parsed.append((entry, parse(entry.get("Statement"), entry.get("Parameters"))))
        reads = [isinstance(s, Select) for _, s in parsed]
        if any(reads) and not all(reads):
            raise validation("The entire transaction must consist of either read statements "
                             "or write statements, but not both")
        extra = {k: req[k] for k in ("ReturnConsumedCapacity",) if k in req}
        if all(reads):
            items = [{"Get": _get_request(self.svc._named(s.table), s, "ExecuteTransaction")}
                     for _, s in parsed]
            resp = self.svc.transact_get_items({"TransactItems": items, **extra})
            return resp
        actions = []
        for entry, stmt in parsed:
            actions.append(self._transact_action(entry, stmt))
        body: dict[str, Any] = {"TransactItems": actions, **extra}
        if "ClientRequestToken" in req:
            body["ClientRequestToken"] = req["ClientRequestToken"]
        try:
            resp = self.svc.transact_write_items(body)
        except DynamoError as e:
            reasons = e.extra.get("CancellationReasons")
            if e.name != "TransactionCanceledException" or not reasons:
                raise
            # an INSERT whose key exists is DuplicateItem, not a failed condition
            reasons = [{**r, "Code": "DuplicateItem",
                        "Message": "Duplicate primary key exists in table"}
                       if isinstance(s, Insert) and r.get("Code") == "ConditionalCheckFailed"
                       else r for (_, s), r in zip(parsed, reasons)]
            codes = ", ".join(r["Code"] for r in reasons)
            raise DynamoError(e.name, "Transaction cancelled, please refer cancellation "
                              f"reasons for specific reasons [{codes}]",
                              extra={**e.extra, "CancellationReasons": reasons}) from None
        out: dict[str, Any] = {}
        if "ConsumedCapacity" in resp:
            out["ConsumedCapacity"] = resp["ConsumedCapacity"]
        return out

    def _transact_action(self, entry: dict, stmt: Any) -> dict:
        if isinstance(stmt, Exists):
            t = self.svc._named(stmt.select.table)
            k = _full_key(t, stmt.select.where)
            b = _Expr()
            # "The SELECT statement must specify a full primary key and one other condition"
            cond = f"attribute_exists({b.name(t.schema.hash)})"
            if k.rest:
                cond += f" AND {b.condition(_and(k.rest), 2)}"
            return {"ConditionCheck": {"TableName": stmt.select.table, "Key": k.key,
                                       "ConditionExpression": cond, **b.request()}}
        op, body = self._write_request(stmt)
        if "ReturnValuesOnConditionCheckFailure" in entry:
            body["ReturnValuesOnConditionCheckFailure"] = entry["ReturnValuesOnConditionCheckFailure"]
        body.pop("ReturnValues", None)
        kind = {"put_item": "Put", "update_item": "Update", "delete_item": "Delete"}[op]
        return {kind: body}


def _statement_list(req: dict, member: str, most: int) -> list[dict]:
    """A batch's or transaction's list of statements: 1 to `most` objects."""
    statements = req.get(member)
    wire = member[0].lower() + member[1:]
    if not isinstance(statements, list) or not statements:
        raise validation(f"1 validation error detected: Value null at '{wire}' failed to "
                         "satisfy constraint: Member must not be null")
    if len(statements) > most:
        raise validation(f"1 validation error detected: Value at '{wire}' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {most}")
    if not all(isinstance(entry, dict) for entry in statements):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    return statements


def _get_request(t: Any, s: Select, where: str) -> dict:
    """A batch's or transaction's SELECT as a GetItem request: the full key, nothing else."""
    cond = s.where
    if s.index is not None or cond is None or s.order is not None:
        raise validation(f"Select statements within {where} must specify the primary key in "
                         "the where clause.")
    attrs_ = [a for a in (t.schema.hash, t.schema.range) if a]
    k = _split_key(cond, attrs_)
    if len(k.key) != len(attrs_) or k.rest:
        raise validation(f"Select statements within {where} must specify the primary key in "
                         "the where clause.")
    body: dict[str, Any] = {"TableName": s.table, "Key": k.key}
    if s.paths is not None:
        b = _Expr()
        body["ProjectionExpression"] = ", ".join(b.path(p) for p in s.paths)
        body.update(b.request())
    return body


def _on_attr(c: tuple, attr: str) -> bool:
    target = ("path", (attr,))
    if c[0] == "cmp":
        return target in (c[2], c[3])
    if c[0] == "between":
        return c[1] == target
    return c[0] == "fn" and c[1] == "begins_with" and c[2][0] == target


def _key_condition_form(c: tuple) -> bool:
    """A sort-key condition a KeyConditionExpression takes: a comparison other than <>
    with a literal, BETWEEN two literals, begins_with with a literal."""
    if c[0] == "cmp":
        return c[1] != "<>" and (c[2][0] == "lit") != (c[3][0] == "lit")
    if c[0] == "between":
        return c[2][0] == "lit" and c[3][0] == "lit"
    return c[0] == "fn" and c[2][1][0] == "lit"


def _update_expression(actions: tuple, b: _Expr) -> str:
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for action in actions:
        if action[0] == "REMOVE":
            clauses["REMOVE"].append(b.path(action[1]))
            continue
        _, path, value = action
        if value[0] == "call" and value[1] in ("set_add", "set_delete"):
            args = value[2]
            if len(args) != 2 or args[0] != path or args[1][0] != "lit":
                raise malformed(f"{value[1]} takes the attribute being set and a set literal")
            clauses["ADD" if value[1] == "set_add" else "DELETE"].append(
                f"{b.path(path)} {b.value(args[1][1])}")
            continue
        clauses["SET"].append(f"{b.path(path)} = {b.operand(value)}")
    return " ".join(f"{w} {', '.join(items)}" for w, items in clauses.items() if items)


_ERROR_CODES = {  # BatchStatementError.Code for the exception a statement met
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ValidationException": "ValidationError",
    "ResourceNotFoundException": "ResourceNotFound",
    "TransactionConflictException": "TransactionConflict",
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
    "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
    "RequestLimitExceeded": "RequestLimitExceeded",
    "ThrottlingException": "ThrottlingError",
    "InternalServerError": "InternalServerError",
}


def _statement_error(e: DynamoError) -> dict:
    message = e.message
    if e.name == "ResourceNotFoundException":
        message = "Requested resource not found"
    return {"Code": _ERROR_CODES.get(e.name, "ValidationError"), "Message": message}


def _encode_token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_token(token: Any) -> dict:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (AttributeError, ValueError) as e:
        raise validation("Invalid NextToken") from e
    if not isinstance(key, dict):
        raise validation("Invalid NextToken")
    return key
