"""DynamoDB's legacy (pre-expression) parameters, translated into expressions.

Older clients and many tests still send `Expected`, `AttributeUpdates`, `KeyConditions`,
`QueryFilter`, `ScanFilter` and `ConditionalOperator` (the "legacy conditional
parameters" of the Developer Guide). Each has an exact equivalent in the expression
language, so rather than a second evaluator this module rewrites a request's legacy
parameters into `ConditionExpression` / `UpdateExpression` / `KeyConditionExpression` /
`FilterExpression` with generated placeholders (`#lN`, `:lN`), and the request then goes
the one way every request goes (emulator/dataplane.py, emulator/expressions.py).

The mapping (Developer Guide, "Legacy conditional parameters"): `Expected` {attr: {Value}}
is `attr = :v`, {Exists: false} is `attribute_not_exists(attr)`; a ComparisonOperator
with its AttributeValueList: EQ NE LE LT GE GT (`=`, `<>`, ...), NOT_NULL / NULL
(`attribute_exists` / `attribute_not_exists`), CONTAINS / NOT_CONTAINS, BEGINS_WITH, IN,
BETWEEN; conditions are joined by `ConditionalOperator` (AND by default).
`AttributeUpdates` {attr: {Action, Value}}: PUT is `SET`, ADD is `ADD`, DELETE with a value
is `DELETE`, without one `REMOVE`. A request mixing legacy and expression parameters is
refused, as the service refuses it.
"""

from __future__ import annotations

from typing import Any

from emulator.errors import DynamoError, validation

# Operation -> (legacy parameter -> the expression parameter it becomes).
LEGACY = {
    "PutItem": {"Expected": "ConditionExpression"},
    "DeleteItem": {"Expected": "ConditionExpression"},
    "UpdateItem": {"Expected": "ConditionExpression", "AttributeUpdates": "UpdateExpression"},
    "Query": {"KeyConditions": "KeyConditionExpression", "QueryFilter": "FilterExpression"},
    "Scan": {"ScanFilter": "FilterExpression"},
}
_EXPRESSION_PARAMS = ("ConditionExpression", "UpdateExpression", "KeyConditionExpression",
                      "FilterExpression", "ProjectionExpression")
_CMP = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
# ComparisonOperator -> how many values it takes (None: one or more)
_ARITY = {**{op: 1 for op in _CMP}, "NOT_NULL": 0, "NULL": 0, "CONTAINS": 1,
          "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": None, "BETWEEN": 2}


class PlaceholderBuilder:
    """Collects generated placeholders for one request (also used by emulator/partiql.py)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        if not isinstance(attr, str) or not attr:
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        key = f"#l{len(self.names)}"
        self.names[key] = attr
        return key

    def value(self, v: Any) -> str:
        key = f":l{len(self.values)}"
        self.values[key] = v
        return key


def translate(operation: str, req: dict) -> dict:
    """`req` with its legacy parameters rewritten as expressions (`req` itself when it has
    none); ValidationException when it mixes both kinds or a legacy parameter is wrong."""
    params = LEGACY.get(operation)
    if not params or not any(p in req for p in params):
        return req
    legacy = [p for p in (*params, "ConditionalOperator") if p in req]
    modern = [p for p in _EXPRESSION_PARAMS if p in req]
    if modern:
        raise validation("Can not use both expression and non-expression parameters in the "
                         f"same request: Non-expression parameters: {{{', '.join(legacy)}}} "
                         f"Expression parameters: {{{', '.join(modern)}}}")
    out = {k: v for k, v in req.items() if k not in params and k != "ConditionalOperator"}
    b = PlaceholderBuilder()
    joiner = req.get("ConditionalOperator", "AND")
    if joiner not in ("AND", "OR"):
        raise validation(f"1 validation error detected: Value '{joiner}' at "
                         "'conditionalOperator' failed to satisfy constraint: Member must "
                         "satisfy enum value set: [OR, AND]")
    for param, target in params.items():
        if param not in req:
            continue
        spec = req[param]
        if not isinstance(spec, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        if param == "AttributeUpdates":
            text = _updates(spec, b)
        elif param == "Expected":
            text = _conditions(spec, b, f" {joiner} ", expected=True)
        elif param == "KeyConditions":  # the key condition grammar takes no parentheses
            text = _conditions(spec, b, " AND ", expected=False, wrap=False)
        else:
            text = _conditions(spec, b, f" {joiner} ", expected=False)
        if text:
            out[target] = text
    if b.names:
        out["ExpressionAttributeNames"] = b.names
    if b.values:
        out["ExpressionAttributeValues"] = b.values
    return out


def _conditions(spec: dict, b: PlaceholderBuilder, joiner: str, *, expected: bool,
                wrap: bool = True) -> str:
    parts = []
    for attr, cond in spec.items():
        if not isinstance(cond, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        n = b.name(attr)
        op = cond.get("ComparisonOperator")
        if op is None and expected:  # the short form: Value and/or Exists
            exists = cond.get("Exists", True)
            if "Value" in cond:
                if exists is False:
                    raise validation("One or more parameter values were invalid: Value cannot "
                                     "be used when Exists is false for Attribute: " + attr)
                parts.append(f"{n} = {b.value(cond['Value'])}")
            elif exists is False:
                parts.append(f"attribute_not_exists({n})")
            else:
                raise validation("One or more parameter values were invalid: Value must be "
                                 "provided when Exists is true for Attribute: " + attr)
            continue
        values = cond.get("AttributeValueList", [])
        if op not in _ARITY or not isinstance(values, list):
            raise validation(f"1 validation error detected: Value '{op}' at "
                             "'comparisonOperator' failed to satisfy constraint: Member must "
                             "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, "
                             "EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
        want = _ARITY[op]
        if (want is None and not values) or (want is not None and len(values) != want):
            raise validation("One or more parameter values were invalid: Invalid number of "
                             f"argument(s) for the {op} ComparisonOperator")
        vs = [b.value(v) for v in values]
        if op in _CMP:
            parts.append(f"{n} {_CMP[op]} {vs[0]}")
        elif op == "NOT_NULL":
            parts.append(f"attribute_exists({n})")
        elif op == "NULL":
            parts.append(f"attribute_not_exists({n})")
        elif op == "CONTAINS":
            parts.append(f"contains({n}, {vs[0]})")
        elif op == "NOT_CONTAINS":
            parts.append(f"NOT contains({n}, {vs[0]})")
        elif op == "BEGINS_WITH":
            parts.append(f"begins_with({n}, {vs[0]})")
        elif op == "IN":
            parts.append(f"{n} IN ({', '.join(vs)})")
        else:
            parts.append(f"{n} BETWEEN {vs[0]} AND {vs[1]}")
    return joiner.join(f"({p})" if wrap else p for p in parts)


def _updates(spec: dict, b: PlaceholderBuilder) -> str:
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for attr, upd in spec.items():
        if not isinstance(upd, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        action = upd.get("Action", "PUT")
        n = b.name(attr)
        if action == "PUT":
            if "Value" not in upd:
                raise validation("One or more parameter values were invalid: Only DELETE "
                                 "action is allowed when no attribute value is specified")
            clauses["SET"].append(f"{n} = {b.value(upd['Value'])}")
        elif action == "ADD":
            if "Value" not in upd:
                raise validation("One or more parameter values were invalid: Only DELETE "
                                 "action is allowed when no attribute value is specified")
            v = upd["Value"]
            if isinstance(v, dict) and "L" in v:  # legacy ADD appends to a list
                clauses["SET"].append(f"{n} = list_append(if_not_exists({n}, "
                                      f"{b.value({'L': []})}), {b.value(v)})")
            else:
                clauses["ADD"].append(f"{n} {b.value(v)}")
        elif action == "DELETE":
            if "Value" in upd:
                clauses["DELETE"].append(f"{n} {b.value(upd['Value'])}")
            else:
                clauses["REMOVE"].append(n)
        else:
            raise validation(f"1 validation error detected: Value '{action}' at "
                             f"'attributeUpdates.{attr}.member.action' failed to satisfy "
                             "constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]")
    return " ".join(f"{word} {', '.join(items)}" for word, items in clauses.items() if items)
