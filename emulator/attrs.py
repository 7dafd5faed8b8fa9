"""DynamoDB attribute values: validation, exact numbers, comparison, keys and item size.

Items travel and are stored in DynamoDB JSON (`{"S": "x"}`, `{"N": "12.5"}`, ...), so a read
returns stored values without conversion. This module checks values the way the service
does (one type per value, numbers of at most 38 significant digits, non-empty sets without
duplicates, non-empty key strings), normalises numbers exactly with `decimal`, compares
values with DynamoDB's rules (numbers numerically, strings by code point = UTF-8 byte order,
binary by bytes, `=` across any types), extracts canonical keys, and measures item size
against the 400 KB limit. Every rejection is the ValidationException the service answers.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
from decimal import Decimal
from typing import Any

from emulator.errors import DynamoError, validation

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SCALAR_KEY_TYPES = ("S", "N", "B")
ITEM_SIZE_MAX = 400 * 1024
DEPTH_MAX = 32
# Limits documented in the Developer Guide ("Quotas in Amazon DynamoDB", partition and
# sort keys, attributes): key values in UTF-8 / binary bytes, names in UTF-8 bytes.
HASH_KEY_BYTES_MAX = 2048
RANGE_KEY_BYTES_MAX = 1024
ATTRIBUTE_NAME_BYTES_MAX = 65535  # "64 KB"; 65,536 itself is refused
# A number as the service reads it: ASCII digits only (no "_", no other scripts' digits,
# which Python's Decimal would accept), an optional sign, point and exponent.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
# Wide enough that no legal (or barely illegal) number is ever rounded silently; limits
# are then checked explicitly.
_ARITH = decimal.Context(prec=1000, Emin=-100_000, Emax=100_000,
                         traps=[decimal.InvalidOperation, decimal.Overflow])


def serialization(message: str) -> DynamoError:
    return DynamoError("SerializationException", message)


# ---- numbers -------------------------------------------------------------------------
def parse_number(text: Any) -> Decimal:
    """A DynamoDB number from its wire string, exact, or ValidationException."""
    if not isinstance(text, str):
        raise serialization(f"NUMBER_VALUE cannot be converted to String")
    if len(text) > 1000 or not _NUMBER.fullmatch(text):
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    return check_number(Decimal(text))


def check_number(d: Decimal) -> Decimal:
    """`d` within DynamoDB's range (38 significant digits, magnitude 1e-130 to 1e126),
    normalised. The magnitude is judged from the exponent before any arithmetic, so an
    exponent like 1e999999999999 is refused, never overflows and never rounds to 0."""
    if not d.is_finite():
        raise validation(f"The parameter cannot be converted to a numeric value: {d}")
    if d.is_zero():
        return Decimal(0)
    adj = d.adjusted()
    if adj > 125:
        raise validation("Number overflow. Attempting to store a number with magnitude larger "
                         "than supported range")
    if adj < -130:
        raise validation("Number underflow. Attempting to store a number with magnitude "
                         "smaller than supported range")
    digits = d.as_tuple().digits
    if len(bytes(digits).rstrip(b"\0")) > 38:  # trailing zeros are not significant
        raise validation("Attempting to store more than 38 significant digits in a Number")
    return d.normalize(_ARITH)


def format_number(d: Decimal) -> str:
    """The service's text for a number: no exponent, no trailing zeros."""
    if d.is_zero():
        return "0"
    s = format(d.normalize(_ARITH), "f")
    return s


def add_numbers(a: Decimal, b: Decimal) -> Decimal:
    try:
        return check_number(_ARITH.add(a, b))
    except decimal.DecimalException:
        raise validation("Number overflow. Attempting to store a number with magnitude larger "
                         "than supported range") from None


def sub_numbers(a: Decimal, b: Decimal) -> Decimal:
    return add_numbers(a, -b)


# ---- validation ----------------------------------------------------------------------
def value_type(av: Any) -> str:
    """The type tag of a validated attribute value."""
    return next(iter(av))


def check_value(av: Any, depth: int = 0) -> dict:
    """Validate one attribute value and return it with numbers normalised."""
    if not isinstance(av, dict):
        raise serialization("Unexpected value type in payload")
    if len(av) != 1:
        if not av:
            raise validation("Supplied AttributeValue is empty, must contain exactly one of the "
                             "supported datatypes")
        unknown = [k for k in av if k not in TYPES]
        if unknown:
            raise serialization(f"Unexpected field type: {unknown[0]}")
        raise validation("Supplied AttributeValue has more than one datatypes set, must contain "
                         "exactly one of the supported datatypes")
    if depth > DEPTH_MAX:
        raise validation("Nesting Levels have exceeded supported limits: Nesting levels "
                         f"(Including the item) have exceeded the maximum allowed depth of {DEPTH_MAX}")
    (t, v), = av.items()
    if t == "S":
        if not isinstance(v, str):
            raise serialization("STRING_VALUE can not be converted to String")
        return av
    if t == "N":
        if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 38 and (v[0] != "0" or v == "0"):
            return av  # fast path: a canonical non-negative integer
        d = parse_number(v)
        s = format_number(d)
        return av if s == v else {"N": s}
    if t == "B":
        _b64(v)
        return av
    if t == "BOOL":
        if not isinstance(v, bool):
            raise serialization("Unexpected value type in payload")
        return av
    if t == "NULL":
        if v is not True:
            if isinstance(v, bool):
                raise validation("Null attribute value types must have the value of true")
            raise serialization("Unexpected value type in payload")
        return av
    if t in ("SS", "NS", "BS"):
        if not isinstance(v, list):
            raise serialization("Unexpected value type in payload")
        if not v:
            name = {"SS": "string", "NS": "number", "BS": "binary"}[t]
            raise validation(f"One or more parameter values were invalid: An {name} set  may not "
                             "be empty")
        if t == "SS":
            if not all(isinstance(x, str) for x in v):
                raise serialization("STRING_VALUE can not be converted to String")
            canon = list(v)
        elif t == "NS":
            canon = [format_number(parse_number(x)) for x in v]
        else:
            for x in v:
                _b64(x)
            canon = list(v)
        keys = [set_member_key(t, x) for x in canon]
        if len(set(keys)) != len(keys):
            raise validation(f"Input collection {v} contains duplicates.")
        return {t: canon} if canon != v else av
    if t == "L":
        if not isinstance(v, list):
            raise serialization("Unexpected value type in payload")
        out = [check_value(x, depth + 1) for x in v]
        return av if all(a is b for a, b in zip(out, v)) else {"L": out}
    if t == "M":
        if not isinstance(v, dict):
            raise serialization("Unexpected value type in payload")
        out_m = {k: check_value(x, depth + 1) for k, x in v.items()}
        return av if all(out_m[k] is v[k] for k in v) else {"M": out_m}
    raise serialization(f"Unexpected field type: {t}")


def check_item(item: Any, what: str = "Item") -> dict:
    """Validate a whole item (attribute name -> value); returns it normalised."""
    if not isinstance(item, dict):
        raise serialization("Unexpected value type in payload")
    out = {}
    for name, av in item.items():
        if not name:
            raise validation("One or more parameter values were invalid: An AttributeValue may "
                             "not contain an empty attribute name")  # service wording varies
        check_attribute_name(name)
        out[name] = check_value(av)
    return out


def check_attribute_name(name: str) -> None:
    """An attribute name's length: at most 65,535 UTF-8 bytes. (The service's exact wording
    is not documented; its type and subject are: a ValidationException about the name.)"""
    if len(name) > ATTRIBUTE_NAME_BYTES_MAX // 4 and \
            len(name.encode("utf-8", "surrogatepass")) > ATTRIBUTE_NAME_BYTES_MAX:
        raise validation("One or more parameter values were invalid: Attribute name is too "
                         f"large, must be less than {ATTRIBUTE_NAME_BYTES_MAX + 1} bytes")


def _b64(v: Any) -> bytes:
    if not isinstance(v, str):
        raise serialization("Unexpected value type in payload")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise serialization("Base64 encoded binary value is not valid") from None


def set_member_key(t: str, x: str) -> Any:
    if t == "NS":
        return Decimal(x)
    if t == "BS":
        return base64.b64decode(x)
    return x


# ---- keys ----------------------------------------------------------------------------
def key_value(av: dict) -> Any:
    """The canonical, orderable form of a key attribute value."""
    (t, v), = av.items()
    if t == "S":
        return v
    if t == "N":
        return Decimal(v)
    return base64.b64decode(v)


class KeySchema:
    """A table's primary key: hash attribute, optional range attribute, and their types."""

    __slots__ = ("hash", "hash_type", "range", "range_type", "names")

    def __init__(self, hash_name: str, hash_type: str, range_name: str | None = None,
                 range_type: str | None = None) -> None:
        self.hash, self.hash_type = hash_name, hash_type
        self.range, self.range_type = range_name, range_type
        self.names = (hash_name,) if range_name is None else (hash_name, range_name)

    def _one(self, name: str, want: str, av: Any) -> Any:
        if not isinstance(av, dict) or len(av) != 1:
            check_value(av)  # raises the right error for a malformed value
        (t, v), = av.items()
        if t != want:
            raise validation(f"One or more parameter values were invalid: Type mismatch for key "
                             f"{name} expected: {want} actual: {t}")
        check_value(av)
        if t in ("S", "B") and v == "":
            raise validation("One or more parameter values are not valid. The AttributeValue for "
                             f"a key attribute cannot contain an empty {'string' if t == 'S' else 'binary'} "
                             f"value. Key: {name}")
        if t in ("S", "B"):
            _check_key_size(name == self.hash, t, v)
        return key_value(av) if t != "N" else Decimal(format_number(parse_number(v)))

    def key_of_item(self, item: dict) -> tuple:
        """Canonical key of a full item (PutItem): key attributes must be present."""
        for name in self.names:
            if name not in item:
                raise validation("One or more parameter values were invalid: Missing the key "
                                 f"{name} in the item")
        h = self._one(self.hash, self.hash_type, item[self.hash])
        if self.range is None:
            return (h,)
        return (h, self._one(self.range, self.range_type, item[self.range]))

    def key_of_key(self, key: Any) -> tuple:
        """Canonical key from a `Key` parameter: exactly the key attributes."""
        if not isinstance(key, dict):
            raise serialization("Unexpected value type in payload")
        if set(key) != set(self.names):
            raise validation("The provided key element does not match the schema")
        return self.key_of_item(key)

    def key_attrs(self, item: dict) -> dict:
        return {n: item[n] for n in self.names}


def _check_key_size(is_hash: bool, t: str, v: str) -> None:
    """Key values are limited in bytes (UTF-8 for strings): 2,048 for the partition key and
    1,024 for the sort key; the messages are the service's."""
    limit = HASH_KEY_BYTES_MAX if is_hash else RANGE_KEY_BYTES_MAX
    if len(v) <= limit // 4 and t == "S":
        return  # fast path: at most 4 UTF-8 bytes per character
    size = len(v.encode("utf-8", "surrogatepass")) if t == "S" else len(_b64(v))
    if size <= limit:
        return
    if is_hash:
        raise validation("One or more parameter values were invalid: Size of hashkey has "
                         f"exceeded the maximum size limit of{HASH_KEY_BYTES_MAX} bytes")
    raise validation("One or more parameter values were invalid: Aggregated size of all range "
                     f"keys has exceeded the size limit of {RANGE_KEY_BYTES_MAX} bytes")


# ---- comparison ----------------------------------------------------------------------
def equal(a: dict | None, b: dict | None) -> bool:
    """DynamoDB equality: same type and value; numbers numerically; sets as sets."""
    if a is None or b is None:
        return False
    (ta, va), = a.items()
    (tb, vb), = b.items()
    if ta != tb:
        return False
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta in ("SS", "NS", "BS"):
        return {set_member_key(ta, x) for x in va} == {set_member_key(tb, x) for x in vb}
    if ta == "L":
        return len(va) == len(vb) and all(equal(x, y) for x, y in zip(va, vb))
    if ta == "M":
        return va.keys() == vb.keys() and all(equal(va[k], vb[k]) for k in va)
    if ta == "B":
        return base64.b64decode(va) == base64.b64decode(vb)
    return va == vb


def ordered(a: dict | None, b: dict | None) -> tuple[Any, Any] | None:
    """Orderable forms of `a` and `b` when both are N, S or B of one type; else None."""
    if a is None or b is None:
        return None
    (ta, va), = a.items()
    (tb, vb), = b.items()
    if ta != tb or ta not in SCALAR_KEY_TYPES:
        return None
    return key_value(a), key_value(b)


# ---- size ----------------------------------------------------------------------------
def value_size(av: dict) -> int:
    (t, v), = av.items()
    if t == "S":
        return len(v.encode("utf-8"))
    if t == "N":
        return len(v.lstrip("-").replace(".", "")) // 2 + 1 + (1 if v.startswith("-") else 0)
    if t == "B":
        return len(v) * 3 // 4
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(x.encode("utf-8")) for x in v)
    if t == "NS":
        return sum(len(x) // 2 + 1 for x in v)
    if t == "BS":
        return sum(len(x) * 3 // 4 for x in v)
    if t == "L":
        return 3 + sum(value_size(x) + 1 for x in v)
    return 3 + sum(len(k.encode("utf-8")) + value_size(x) + 1 for k, x in v.items())


def item_size(item: dict) -> int:
    return sum(len(k.encode("utf-8")) + value_size(v) for k, v in item.items())


def check_item_size(item: dict,
                    message: str = "Item size has exceeded the maximum allowed size") -> None:
    if item_size(item) > ITEM_SIZE_MAX:
        raise validation(message)
