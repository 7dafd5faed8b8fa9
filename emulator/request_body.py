"""A DynamoDB request body decoded the way the service's front refuses what it cannot read.

Every endpoint (a region's own port and the all-regions endpoint, emulator/front.py) turns
the bytes of a request into a JSON value here, so that no body, however malformed, reaches
the data plane as something it cannot handle, and none is answered HTTP 500:

- bytes that are not JSON, and JSON nested deeper than Python's parser goes (a 100,000-deep
  array) are a `SerializationException`, as DynamoDB answers a body it cannot deserialize;
- a string holding a lone UTF-16 surrogate (`"\\ud800"` escaped, or its raw bytes) cannot be
  stored: DynamoDB keeps strings, names and table names as UTF-8, which has no encoding for
  it. The service answers undecodable text with `SerializationException` (its wording for
  this case is not documented); we answer the same, whatever field the string is in.

The surrogate walk only runs when the body contains a `\\u` escape or a raw 0xED byte (the
lead byte of an encoded surrogate), so ordinary requests pay two substring searches.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.errors import DynamoError

_loads = json.loads


def decode(body: bytes) -> Any:
    """The JSON value of a request body (`{}` when empty), or a SerializationException."""
    if not body:
        return {}
    try:
        req = _loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise DynamoError("SerializationException",
                          "Start of structure or map found where not expected") from None
    if (b"\\u" in body or b"\xed" in body) and has_lone_surrogate(req):
        raise DynamoError("SerializationException",
                          "Invalid UTF-8: the request holds a lone UTF-16 surrogate")
    return req


def has_lone_surrogate(value: Any) -> bool:
    """True when any string in `value` (dict keys included) cannot be encoded as UTF-8.

    Iterative, so a value nested as deep as the JSON parser allows is walked safely."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False
