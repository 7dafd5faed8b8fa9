"""DynamoDB expressions: a strict parser and an evaluator over items in DynamoDB JSON.

Covers the five expression kinds of the API: ConditionExpression / FilterExpression
(comparisons = <> < <= > >=, BETWEEN, IN, AND/OR/NOT, parentheses, attribute_exists,
attribute_not_exists, attribute_type, begins_with, contains, size), KeyConditionExpression
(a restricted condition, checked against the key schema by the caller), UpdateExpression
(SET with + / -, if_not_exists, list_append; REMOVE; ADD; DELETE) and ProjectionExpression.
Names may be placeholders (#n) resolved through ExpressionAttributeNames; values are always
placeholders (:v) from ExpressionAttributeValues.

Strict on purpose: anything the service rejects is rejected here with the service's
ValidationException ("Invalid UpdateExpression: Syntax error; token: ...", reserved words used
as names, a clause used twice, overlapping paths, undefined or unused placeholders), so a
workload that runs against the emulator does not fail on AWS. Parsing is a small
recursive-descent parser over a regex tokenizer; parse results are cached per expression
text (they do not depend on the placeholder maps), which keeps the hot path cheap.
"""

from __future__ import annotations

import copy
import functools
import re
from decimal import Decimal
from typing import Any, Iterable

from emulator import attrs
from emulator.errors import DynamoError, validation

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<nameref>\#[A-Za-z0-9_]+)
  | (?P<valref>:[A-Za-z0-9_]+)
  | (?P<index>\[\s*[0-9]+\s*\])
  | (?P<op><>|<=|>=|=|<|>|\(|\)|,|\.|\+|-)
""", re.VERBOSE)

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type",
                       "begins_with", "contains")
_ARITY = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
          "begins_with": 2, "contains": 2, "size": 1}
TYPE_NAMES = set(attrs.TYPES)
IN_OPERANDS_MAX = 100
EXPRESSION_LENGTH_MAX = 4096

# DynamoDB's reserved words (cannot be used as names in expressions; use #placeholders).
RESERVED = frozenset("""
ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE
ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH
AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT
BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE
CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING
CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT
COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY CONSISTENT CONSTRAINT
CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS
CUBE CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE
DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC
DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS DIRECTORIES DISABLE DISCONNECT DISTINCT
DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE
END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS
EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT
FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL FINISH FIRST FIXED FLATTERN FLOAT
FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET
GLOB GLOBAL GO GOTO GRANT GREATER GROUP GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR
IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL
INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT INSENSITIVE
INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE
JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL LIKE
LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS LOG
LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS
MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES NATIONAL NATURAL
NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF OFFLINE OFFSET OLD ON
ONLINE ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER
OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS PARTIAL PARTITION PARTITIONED
PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL POSITION
PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT
PROJECTION PROPERTY PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ
READS REAL REBUILD RECORD RECURSIVE REDUCE REF REFERENCE REFERENCES REFERENCING REGEXP REGION
REINDEX RELATIVE RELEASE REMAINDER RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE
RESPONSE RESTORE RESTRICT RESULT RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES
ROLLBACK ROLLUP ROUTINE ROW ROWS RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE
SCROLL SEARCH SECOND SECTION SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE
SERIALIZABLE SESSION SET SETS SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT
SNAPSHOT SOME SOURCE SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR
SQLEXCEPTION SQLSTATE SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING
STRUCT STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM
TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE
TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER
TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN UNLOGGED UNNEST
UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER USERS USING UUID VACUUM VALUE VALUED
VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS VIRTUAL VOID WAIT WHEN WHENEVER
WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE YEAR ZONE
""".split())

# AST nodes are tuples:
#   path:     ("path", (elem, ...))   elem = ("name", text) | ("ref", "#n") | ("index", int)
#   operand:  path | ("value", ":v") | ("size", path) | ("if_not_exists", path, operand)
#             | ("list_append", operand, operand) | ("+"/"-", operand, operand)
#   cond:     ("cmp", op, a, b) | ("between", a, lo, hi) | ("in", a, (ops,)) | ("and", c, c)
#             | ("or", c, c) | ("not", c) | ("func", name, (args,))
#   update:   {"SET": [(path, operand)], "REMOVE": [path], "ADD": [(path, val)], "DELETE": [...]}


class _Parser:
    def __init__(self, text: str, kind: str) -> None:
        self.kind = kind
        self.text = text
        if not isinstance(text, str):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        if not text.strip():
            raise validation(f"Invalid {kind}: The expression can not be empty;")
        if len(text) > EXPRESSION_LENGTH_MAX:
            raise validation(f"Invalid {kind}: Expression size has exceeded the maximum allowed "
                             f"size; expression size: {len(text)}")
        self.toks: list[tuple[str, str, int]] = []
        self.ends: list[int] = []  # where each token ends in the text (for "near")
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                start = self.toks[-1][2] if self.toks else pos  # from the token before
                raise validation(f'Invalid {kind}: Syntax error; token: "{text[pos]}", near: '
                                 f'"{text[start:pos + 1]}"')
            if m.lastgroup != "ws":
                val = m.group()
                if m.lastgroup == "index":
                    val = val[1:-1].strip()
                self.toks.append((m.lastgroup, val, pos))
                self.ends.append(m.end())
            pos = m.end()
        self.i = 0

    # ---- token helpers -------------------------------------------------------------
    def peek(self, k: int = 0) -> tuple[str, str, int] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def error(self) -> DynamoError:
        """The service's syntax error: the offending token, and "near" it the text from
        the token before it to the token after it (at the end: the last token)."""
        t = self.peek()
        j = self.i
        if t is None:
            last = len(self.toks) - 1
            near = self.text[self.toks[last][2]:self.ends[last]] if self.toks else ""
            return validation(f'Invalid {self.kind}: Syntax error; token: "<EOF>", near: '
                              f'"{near}"')
        start = self.toks[j - 1][2] if j > 0 else t[2]
        end = self.ends[j + 1] if j + 1 < len(self.toks) else self.ends[j]
        return validation(f'Invalid {self.kind}: Syntax error; token: "{t[1]}", near: '
                          f'"{self.text[start:end]}"')

    def _closing(self, open_index: int) -> int:
        """The index of the ")" token matching the "(" at `open_index`."""
        depth = 0
        for j in range(open_index, len(self.toks)):
            v = self.toks[j]
            if v[0] == "op" and v[1] == "(":
                depth += 1
            elif v[0] == "op" and v[1] == ")":
                depth -= 1
                if depth == 0:
                    return j
        return -1

    def take(self, kind: str, value: str | None = None) -> str:
        t = self.peek()
        if t is None or t[0] != kind or (value is not None and t[1].upper() != value):
            raise self.error()
        self.i += 1
        return t[1]

    def at(self, kind: str, value: str | None = None) -> bool:
        t = self.peek()
        return t is not None and t[0] == kind and (value is None or t[1].upper() == value)

    def at_keyword(self, word: str) -> bool:
        return self.at("name", word)

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error()

    # ---- paths and operands --------------------------------------------------------
    def path(self) -> tuple:
        elems = [self._path_name()]
        while True:
            if self.at("op", "."):
                self.i += 1
                elems.append(self._path_name())
            elif self.at("index"):
                elems.append(("index", int(self.take("index"))))
            else:
                return ("path", tuple(elems))

    def _path_name(self) -> tuple:
        t = self.peek()
        if t is None or t[0] not in ("name", "nameref"):
            raise self.error()
        self.i += 1
        if t[0] == "nameref":
            return ("ref", t[1])
        if t[1].upper() in RESERVED:
            raise validation(f"Invalid {self.kind}: Attribute name is a reserved keyword; "
                             f"reserved keyword: {t[1]}")
        return ("name", t[1])

    def _function_name(self) -> str | None:
        t, nxt = self.peek(), self.peek(1)
        if t is not None and t[0] == "name" and nxt is not None and nxt[1] == "(":
            return t[1]
        return None

    def operand(self, *, update: bool = False) -> tuple:
        fn = self._function_name()
        if fn is not None:
            allowed = ("if_not_exists", "list_append") if update else ("size",)
            if fn not in allowed:
                if fn in CONDITION_FUNCTIONS or fn in ("size", "if_not_exists", "list_append"):
                    raise validation(f"Invalid {self.kind}: The function is not allowed in "
                                     f"{'an update' if update else 'a condition'} expression; "
                                     f"function: {fn}")
                raise validation(f"Invalid {self.kind}: Invalid function name; function: {fn}")
            self.i += 2
            if fn == "size":
                p = self.path()
                self.take("op", ")")
                return ("size", p)
            if fn == "if_not_exists":
                p = self.path()
                self.take("op", ",")
                v = self.operand(update=True)
                self.take("op", ")")
                return ("if_not_exists", p, v)
            a = self.operand(update=True)
            self.take("op", ",")
            b = self.operand(update=True)
            self.take("op", ")")
            return ("list_append", a, b)
        if self.at("valref"):
            return ("value", self.take("valref"))
        return self.path()

    # ---- conditions ----------------------------------------------------------------
    def condition(self) -> tuple:
        left = self._and()
        while self.at_keyword("OR"):
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self.at_keyword("AND"):
            self.i += 1
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self.at_keyword("NOT"):
            self.i += 1
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> tuple:
        if self.at("op", "("):
            self.i += 1
            start = self.i
            c = self.condition()
            self.take("op", ")")
            if (self.toks[start][1] == "(" and self.toks[self.i - 2][1] == ")"
                    and self._closing(start) == self.i - 2):
                # "((x))": the service refuses a group that is nothing but another group
                raise validation(f"Invalid {self.kind}: The expression has redundant "
                                 "parentheses;")
            return c
        fn = self._function_name()
        if fn is not None and fn != "size":
            if fn not in CONDITION_FUNCTIONS:
                if fn in ("if_not_exists", "list_append"):
                    raise validation(f"Invalid {self.kind}: The function is not allowed in a "
                                     f"condition expression; function: {fn}")
                raise validation(f"Invalid {self.kind}: Invalid function name; function: {fn}")
            self.i += 2
            args = [self.path()]
            while self.at("op", ","):
                self.i += 1
                args.append(self.operand())
            self.take("op", ")")
            if len(args) != _ARITY[fn]:
                raise validation(f"Invalid {self.kind}: Incorrect number of operands for operator "
                                 f"or function; operator or function: {fn}, number of operands: "
                                 f"{len(args)}")
            return ("func", fn, tuple(args))
        a = self.operand()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in COMPARATORS:
            self.i += 1
            return ("cmp", t[1], a, self.operand())
        if self.at_keyword("BETWEEN"):
            self.i += 1
            lo = self.operand()
            self.take("name", "AND")
            return ("between", a, lo, self.operand())
        if self.at_keyword("IN"):
            self.i += 1
            self.take("op", "(")
            ops = [self.operand()]
            while self.at("op", ","):
                self.i += 1
                ops.append(self.operand())
            self.take("op", ")")
            if len(ops) > IN_OPERANDS_MAX:
                raise validation(f"Invalid {self.kind}: The IN operator is provided with too many "
                                 f"operands; number of operands: {len(ops)}")
            return ("in", a, tuple(ops))
        raise self.error()

    # ---- update --------------------------------------------------------------------
    def update(self) -> dict:
        clauses: dict[str, list] = {}
        while self.peek() is not None:
            t = self.peek()
            word = t[1].upper() if t[0] == "name" else None
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.error()
            self.i += 1
            if word in clauses:
                raise validation(f'Invalid UpdateExpression: The "{word}" section can only be used '
                                 "once in an update expression;")
            actions = clauses[word] = [self._action(word)]
            while self.at("op", ","):
                self.i += 1
                actions.append(self._action(word))
        if not clauses:
            raise self.error()
        return clauses

    def _action(self, word: str) -> Any:
        p = self.path()
        if word == "REMOVE":
            return p
        if word == "SET":
            self.take("op", "=")
            a = self.operand(update=True)
            if self.at("op", "+") or self.at("op", "-"):
                op = self.take("op")
                return (p, (op, a, self.operand(update=True)))
            return (p, a)
        v = self.operand(update=True)
        if v[0] != "value":
            raise validation(f"Invalid UpdateExpression: Incorrect operand type for operator or "
                             f"function; operator: {word}, operand type: PATH")
        return (p, v)

    def projection(self) -> tuple:
        paths = [self.path()]
        while self.at("op", ","):
            self.i += 1
            paths.append(self.path())
        return tuple(paths)


@functools.lru_cache(maxsize=4096)
def parse_condition(text: str, kind: str = "ConditionExpression") -> tuple:
    p = _Parser(text, kind)
    c = p.condition()
    p.done()
    return c


@functools.lru_cache(maxsize=4096)
def parse_update(text: str) -> dict:
    p = _Parser(text, "UpdateExpression")
    u = p.update()
    p.done()
    return u


def check_update_paths(update: dict, ph: "Placeholders") -> None:
    """No two paths of an update expression overlap, compared with the names its
    placeholders stand for (`#a` and `a` are one attribute) and shown resolved."""
    paths = [a if w == "REMOVE" else a[0] for w, acts in update.items() for a in acts]
    _check_overlap([("path", tuple(e if e[0] == "index" else ("name", ph.name(e))
                                   for e in p[1])) for p in paths], "UpdateExpression")


def _check_overlap(paths: list, kind: str) -> None:
    """No path may be a prefix of another (`a` and `a`, `a` and `a.b`): the service's rule
    for the paths of one update or projection expression."""
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            n = min(len(a[1]), len(b[1]))
            if a[1][:n] == b[1][:n]:
                raise validation(f"Invalid {kind}: Two document paths overlap with each "
                                 f"other; must remove or rewrite one of these paths; path one: "
                                 f"[{_show(a)}], path two: [{_show(b)}]")


@functools.lru_cache(maxsize=4096)
def parse_projection(text: str) -> tuple:
    p = _Parser(text, "ProjectionExpression")
    out = p.projection()
    p.done()
    _check_overlap(list(out), "ProjectionExpression")
    return out


def _show(path: tuple) -> str:
    return ", ".join(str(e[1]) for e in path[1])


# ---- placeholders --------------------------------------------------------------------
def refs(node: Any, names: set[str], values: set[str]) -> None:
    """Collect the #name and :value placeholders used in an AST (or several)."""
    if isinstance(node, dict):
        for acts in node.values():
            refs(acts, names, values)
        return
    if not isinstance(node, (tuple, list)):
        return
    if len(node) == 2 and node[0] == "ref" and isinstance(node[1], str):
        names.add(node[1])
        return
    if len(node) == 2 and node[0] == "value" and isinstance(node[1], str):
        values.add(node[1])
        return
    for x in node:
        refs(x, names, values)


def check_operands(node: Any, ph: "Placeholders", kind: str) -> None:
    """Operand types the service refuses before evaluating anything (so also on an empty
    table): a BETWEEN bound given as a NULL value."""
    stack = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, tuple) or not n:
            continue
        if n[0] == "between":
            for bound in n[2:4]:
                if bound[0] == "value" and "NULL" in ph.values.get(bound[1], {}):
                    raise validation(f"Invalid {kind}: Incorrect operand type for operator or "
                                     "function; operator or function: BETWEEN, operand type: "
                                     "NULL")
        stack.extend(x for x in n if isinstance(x, tuple))


class Placeholders:
    """ExpressionAttributeNames/Values of one request, checked against the expressions."""

    def __init__(self, names: Any, values: Any, asts: Iterable[Any]) -> None:
        if names is not None and not isinstance(names, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        if values is not None and not isinstance(values, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        asts = [a for a in asts if a is not None]
        if names is not None and not names:
            raise validation("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise validation("ExpressionAttributeValues must not be empty")
        if not asts and names:
            raise validation("ExpressionAttributeNames can only be specified when using "
                             "expressions")
        if not asts and values:
            raise validation("ExpressionAttributeValues can only be specified when using "
                             "expressions")
        for given, mark, what in ((names, "#", "Names"), (values, ":", "Values")):
            bad = [k for k in (given or {}) if not (isinstance(k, str) and k.startswith(mark))]
            if bad:
                raise validation(f"ExpressionAttribute{what} contains invalid key: Syntax "
                                 f'error; key: "{bad[0]}"')
        used_n: set[str] = set()
        used_v: set[str] = set()
        for a in asts:
            refs(a, used_n, used_v)
        names = names or {}
        values = values or {}
        for n in sorted(used_n):
            if n not in names:
                raise validation(f"An expression attribute name used in the document path is not "
                                 f"defined; attribute name: {n}")
            if not isinstance(names[n], str):
                raise DynamoError("SerializationException", "Unexpected value type in payload")
            attrs.check_attribute_name(names[n])
        for v in sorted(used_v):
            if v not in values:
                raise validation("An expression attribute value used in expression is not "
                                 f"defined; attribute value: {v}")
        unused_n = sorted(set(names) - used_n)
        if unused_n:
            raise validation("Value provided in ExpressionAttributeNames unused in expressions: "
                             f"keys: {{{', '.join(unused_n)}}}")
        unused_v = sorted(set(values) - used_v)
        if unused_v:
            raise validation("Value provided in ExpressionAttributeValues unused in expressions: "
                             f"keys: {{{', '.join(unused_v)}}}")
        self.names = names
        self.values = {k: attrs.check_value(v) for k, v in values.items()}

    def name(self, elem: tuple) -> str | int:
        kind, v = elem
        if kind == "ref":
            return self.names[v]
        return v


# ---- evaluation ----------------------------------------------------------------------
def resolve(item: dict | None, path: tuple, ph: Placeholders) -> dict | None:
    """The attribute value at `path` in `item`, or None when absent."""
    if item is None:
        return None
    elems = path[1]
    first = ph.name(elems[0])
    cur = item.get(first)
    for e in elems[1:]:
        if cur is None:
            return None
        if e[0] == "index":
            lst = cur.get("L")
            if lst is None or e[1] >= len(lst):
                return None
            cur = lst[e[1]]
        else:
            m = cur.get("M")
            if m is None:
                return None
            cur = m.get(ph.name(e))
    return cur


def operand_value(item: dict | None, node: tuple, ph: Placeholders) -> dict | None:
    kind = node[0]
    if kind == "value":
        return ph.values[node[1]]
    if kind == "path":
        return resolve(item, node, ph)
    if kind == "size":
        v = resolve(item, node[1], ph)
        if v is None:
            return None
        (t, x), = v.items()
        if t == "S":
            return {"N": str(len(x.encode("utf-8")))}
        if t == "B":
            return {"N": str(len(x) * 3 // 4 - x.count("=", -2))}
        if t in ("SS", "NS", "BS", "L", "M"):
            return {"N": str(len(x))}
        raise validation("Invalid ConditionExpression: Incorrect operand type for operator or "
                         f"function; operator or function: size, operand type: {t}")
    raise validation(f"Invalid expression: unexpected operand {kind}")


def evaluate(item: dict | None, cond: tuple, ph: Placeholders) -> bool:
    kind = cond[0]
    if kind == "and":
        return evaluate(item, cond[1], ph) and evaluate(item, cond[2], ph)
    if kind == "or":
        return evaluate(item, cond[1], ph) or evaluate(item, cond[2], ph)
    if kind == "not":
        return not evaluate(item, cond[1], ph)
    if kind == "cmp":
        a = operand_value(item, cond[2], ph)
        b = operand_value(item, cond[3], ph)
        return compare(cond[1], a, b)
    if kind == "between":
        a = operand_value(item, cond[1], ph)
        lo = operand_value(item, cond[2], ph)
        hi = operand_value(item, cond[3], ph)
        bounds = attrs.ordered(lo, hi)
        if bounds is not None and bounds[0] > bounds[1]:
            raise validation("Invalid ConditionExpression: The BETWEEN operator requires upper "
                             f"bound to be greater than or equal to lower bound; lower bound "
                             f"operand: AttributeValue: {lo}, upper bound operand: "
                             f"AttributeValue: {hi}")
        return compare(">=", a, lo) and compare("<=", a, hi)
    if kind == "in":
        a = operand_value(item, cond[1], ph)
        return any(attrs.equal(a, operand_value(item, o, ph)) for o in cond[2])
    if kind == "func":
        return _function(item, cond[1], cond[2], ph)
    raise validation(f"Invalid expression node {kind}")


def compare(op: str, a: dict | None, b: dict | None) -> bool:
    if op == "=":
        return attrs.equal(a, b)
    if op == "<>":
        return not attrs.equal(a, b)
    pair = attrs.ordered(a, b)
    if pair is None:
        return False
    x, y = pair
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _function(item: dict | None, fn: str, args: tuple, ph: Placeholders) -> bool:
    v = resolve(item, args[0], ph)
    if fn == "attribute_exists":
        return v is not None
    if fn == "attribute_not_exists":
        return v is None
    arg = operand_value(item, args[1], ph)
    if fn == "attribute_type":
        if arg is None or "S" not in arg or arg["S"] not in TYPE_NAMES:
            raise validation("Invalid ConditionExpression: Invalid attribute type name found; "
                             f"type: {None if arg is None else next(iter(arg.values()))}, valid types: "
                             "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
        return v is not None and next(iter(v)) == arg["S"]
    if v is None or arg is None:
        return False
    (tv, xv), = v.items()
    (ta, xa), = arg.items()
    if fn == "begins_with":
        if ta not in ("S", "B"):
            raise validation("Invalid ConditionExpression: Incorrect operand type for operator or "
                             f"function; operator or function: begins_with, operand type: {ta}")
        if tv != ta:
            return False
        if tv == "B":
            return attrs.key_value(v).startswith(attrs.key_value(arg))
        return xv.startswith(xa)
    if fn == "contains":
        if tv == "S" and ta == "S":
            return xa in xv
        if tv in ("SS", "NS", "BS") and ta == tv[0]:
            return attrs.set_member_key(tv, xa) in {attrs.set_member_key(tv, m) for m in xv}
        if tv == "L":
            return any(attrs.equal(m, arg) for m in xv)
        if tv == "B" and ta == "B":
            return attrs.key_value(arg) in attrs.key_value(v)
        return False
    raise validation(f"Invalid function {fn}")


# ---- updates -------------------------------------------------------------------------
def _bad_type() -> DynamoError:
    return validation("An operand in the update expression has an incorrect data type")


def update_value(item: dict | None, node: tuple, ph: Placeholders) -> dict:
    kind = node[0]
    if kind in ("+", "-"):
        a = update_value(item, node[1], ph)
        b = update_value(item, node[2], ph)
        if "N" not in a or "N" not in b:
            raise _bad_type()
        x, y = Decimal(a["N"]), Decimal(b["N"])
        r = attrs.add_numbers(x, y) if kind == "+" else attrs.sub_numbers(x, y)
        return {"N": attrs.format_number(r)}
    if kind == "if_not_exists":
        v = resolve(item, node[1], ph)
        return v if v is not None else update_value(item, node[2], ph)
    if kind == "list_append":
        a = update_value(item, node[1], ph)
        b = update_value(item, node[2], ph)
        if "L" not in a or "L" not in b:
            raise _bad_type()
        return {"L": a["L"] + b["L"]}
    v = operand_value(item, node, ph)
    if v is None:
        raise validation("The provided expression refers to an attribute that does not exist in "
                         "the item")
    return v


def _names(path: tuple, ph: Placeholders) -> list:
    return [e[1] if e[0] == "index" else ph.name(e) for e in path[1]]


def _parent(item: dict, names: list, *, create: bool = False) -> tuple[Any, Any] | None:
    """Container (dict of attributes, or a list) holding the last element of `names`."""
    cur: Any = item
    for n in names[:-1]:
        if isinstance(cur, dict) and isinstance(n, str):
            nxt = cur.get(n)
        elif isinstance(cur, list) and isinstance(n, int):
            nxt = cur[n] if n < len(cur) else None
        else:
            return None
        if nxt is None:
            return None
        if "M" in nxt:
            cur = nxt["M"]
        elif "L" in nxt:
            cur = nxt["L"]
        else:
            return None
    return cur, names[-1]


def apply_update(item: dict, update: dict, ph: Placeholders, key_names: tuple) -> dict:
    """The item after `update` (a parsed UpdateExpression); `item` is not modified."""
    for word, acts in update.items():
        for a in acts:
            p = a if word == "REMOVE" else a[0]
            top = ph.name(p[1][0])
            if len(p[1]) == 1 and top in key_names:
                raise validation(f"One or more parameter values were invalid: Cannot update "
                                 f"attribute {top}. This attribute is part of the key")
    # All right-hand sides are evaluated against the item as it was before the update.
    sets = [(p, update_value(item, v, ph)) for p, v in update.get("SET", ())]
    adds = [(p, ph.values[v[1]]) for p, v in update.get("ADD", ())]
    dels = [(p, ph.values[v[1]]) for p, v in update.get("DELETE", ())]
    new = copy.deepcopy(item)
    for p, v in sets:
        _put(new, _names(p, ph), v)
    # Every REMOVE path names an element of the item as it was: removing list elements
    # from the highest index down keeps the lower indices pointing where they pointed
    # (REMOVE l[1], l[3] removes the original second and fourth elements).
    removes = [_names(p, ph) for p in update.get("REMOVE", ())]
    for names in sorted(removes, reverse=True,
                        key=lambda ns: [(1, n) if isinstance(n, int) else (0, n) for n in ns]):
        _remove(new, names)
    for p, v in adds:
        (t, x), = v.items()
        cur = resolve(new, p, ph)
        if t == "N":
            if cur is None:
                _put(new, _names(p, ph), v)
            elif "N" in cur:
                _put(new, _names(p, ph), {"N": attrs.format_number(
                    attrs.add_numbers(Decimal(cur["N"]), Decimal(x)))})
            else:
                raise _bad_type()
        elif t in ("SS", "NS", "BS"):
            if cur is None:
                _put(new, _names(p, ph), v)
            elif t in cur:
                have = {attrs.set_member_key(t, m) for m in cur[t]}
                merged = list(cur[t]) + [m for m in x if attrs.set_member_key(t, m) not in have]
                _put(new, _names(p, ph), {t: merged})
            else:
                raise _bad_type()
        else:
            raise validation("Invalid UpdateExpression: Incorrect operand type for operator or "
                             f"function; operator: ADD, operand type: {_type_word(t)}")
    for p, v in dels:
        (t, x), = v.items()
        if t not in ("SS", "NS", "BS"):
            raise validation("Invalid UpdateExpression: Incorrect operand type for operator or "
                             f"function; operator: DELETE, operand type: {_type_word(t)}")
        cur = resolve(new, p, ph)
        if cur is None:
            continue
        if t not in cur:
            raise _bad_type()
        gone = {attrs.set_member_key(t, m) for m in x}
        left = [m for m in cur[t] if attrs.set_member_key(t, m) not in gone]
        if left:
            _put(new, _names(p, ph), {t: left})
        else:
            _remove(new, _names(p, ph))
    return new


def _type_word(t: str) -> str:
    return {"S": "STRING", "N": "NUMBER", "B": "BINARY", "L": "LIST", "M": "MAP",
            "BOOL": "BOOLEAN", "NULL": "NULL"}.get(t, t)


def _put(item: dict, names: list, value: dict) -> None:
    found = _parent(item, names)
    if found is None:
        raise validation("The document path provided in the update expression is invalid for "
                         "update")
    container, last = found
    if isinstance(container, dict) and isinstance(last, str):
        container[last] = value
    elif isinstance(container, list) and isinstance(last, int):
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        raise validation("The document path provided in the update expression is invalid for "
                         "update")


def _remove(item: dict, names: list) -> None:
    found = _parent(item, names)
    if found is None:
        return
    container, last = found
    if isinstance(container, dict) and isinstance(last, str):
        container.pop(last, None)
    elif isinstance(container, list) and isinstance(last, int) and last < len(container):
        del container[last]


def project(item: dict, paths: tuple, ph: Placeholders) -> dict:
    """The item restricted to `paths` (a parsed ProjectionExpression)."""
    out: dict = {}
    for p in paths:
        v = resolve(item, p, ph)
        if v is None:
            continue
        names = _names(p, ph)
        cur: Any = out
        src: Any = item
        for i, n in enumerate(names[:-1]):
            src_v = src[n] if isinstance(src, dict) else src[n]
            kind = "M" if "M" in src_v else "L"
            if isinstance(cur, dict):
                nxt = cur.setdefault(n, {kind: {} if kind == "M" else []})
            else:
                nxt = {kind: {} if kind == "M" else []}
                cur.append(nxt)
            cur = nxt[kind]
            src = src_v[kind]
        if isinstance(cur, dict):
            cur[names[-1]] = v
        else:
            cur.append(v)
    return out
