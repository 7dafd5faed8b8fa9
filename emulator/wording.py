"""DynamoDB's wording where it depends on the operation, applied to errors on their way out.

Some of the service's validation messages carry the prefix "1 validation error detected: "
on some operations and not on others (its validation layers differ per operation): an
unused ExpressionAttributeNames/Values entry or an empty set is prefixed on PutItem,
UpdateItem and DeleteItem but not on GetItem, Query, Scan, BatchGetItem or in a
transaction; the update expression's own checks are prefixed; "ExpressionAttributeValues
must not be empty" is prefixed on UpdateItem and Query only. An empty key value is "An
AttributeValue may not contain an empty string" on PutItem, "The AttributeValue for a key
attribute cannot contain an empty string value" elsewhere. And a missing table on the
data plane (and DeleteTable) is just "Requested resource not found", where DescribeTable
names the table. The raise sites stay operation-free; `worded(operation, error)` adjusts
the message once, in `RegionService.handle`. The expectations are those of moto's
AWS-verified tests (`scripts/moto_suite.py` runs them).
"""

from __future__ import annotations

import re

from emulator.errors import DynamoError

VALIDATION_PREFIX = "1 validation error detected: "
_SINGLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_PREFIXED: list[tuple[frozenset[str], re.Pattern]] = [
    (_SINGLE_WRITES, re.compile(r"Value provided in ExpressionAttribute(Names|Values) unused "
                                r"in expressions|One or more parameter values were invalid: "
                                r"An \w+ set  may not be empty")),
    (frozenset({"UpdateItem"}), re.compile(r'Invalid UpdateExpression: (The "\w+" section can '
                                           r"only be used once|Two document paths overlap|"
                                           r"The expression can not be empty)")),
    (frozenset({"UpdateItem", "Query"}), re.compile(r"ExpressionAttributeValues must not be "
                                                    r"empty")),
    (frozenset({"Query"}), re.compile(r"Must specify the AttributesToGet or ProjectionExpression")),
]
# PutItem words an empty key value its own way; a Key parameter (GetItem, batches,
# transactions) keeps the raise site's wording.
_EMPTY_KEY = re.compile(r"One or more parameter values are not valid\. The AttributeValue for a "
                        r"key attribute cannot contain an empty (string|binary) value\. Key: (.*)")
_PLAIN_NOT_FOUND = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan",
                              "BatchGetItem", "BatchWriteItem", "DeleteTable",
                              "ExecuteStatement", "ExecuteTransaction"})


def worded(operation: str, e: DynamoError) -> DynamoError:
    """`e` as the service words it on `operation` (the same object when nothing changes)."""
    if e.name == "ValidationException" and not e.message.startswith(VALIDATION_PREFIX):
        for ops, pattern in _PREFIXED:
            if operation in ops and pattern.match(e.message):
                return DynamoError(e.name, VALIDATION_PREFIX + e.message, status=e.status,
                                   extra=e.extra)
    m = _EMPTY_KEY.fullmatch(e.message) if operation == "PutItem" else None
    if m is not None:
        return DynamoError(e.name, "One or more parameter values were invalid: An "
                           f"AttributeValue may not contain an empty {m.group(1)}. Key: "
                           f"{m.group(2)}", status=e.status, extra=e.extra)
    if (e.name == "ResourceNotFoundException" and operation in _PLAIN_NOT_FOUND
            and e.message.startswith("Requested resource not found: ")):
        return DynamoError(e.name, "Requested resource not found", status=e.status,
                           extra=e.extra)
    return e
