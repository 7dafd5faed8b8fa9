"""Secondary indexes: GSIs and LSIs of a table, maintained per region, read by Query and Scan.

A table's indexes are declared once (CreateTable `GlobalSecondaryIndexes` /
`LocalSecondaryIndexes`, UpdateTable `GlobalSecondaryIndexUpdates` Create / Update / Delete)
and exist in every replica region, as on a 2019.11.21 global table. What an index holds is
derived per region from that region's replica, never replicated itself:

- a local secondary index (LSI) shares its table's partitions and is updated with the item
  in the same write, so a Query on it is computed from the region's copies at read time:
  `ConsistentRead=true` reads the leader copy, false the lagging copy (G2), exactly as a
  table read;
- a global secondary index (GSI) is a separate structure that DynamoDB updates
  asynchronously from the table ("changes to the table data are propagated to the global
  secondary indexes within a fraction of a second, under normal conditions", DynamoDB
  developer guide, Global secondary indexes: read consistency), so its reads are always
  eventually consistent (`ConsistentRead=true` is refused with a ValidationException). Here
  each region's GSI state (`RegionIndex`) follows that region's replica: every version the
  replica installs (a local write, a replicated LWW write, an MRSC journal entry applied) is
  applied to the index after a seeded lag (`INDEX_LAG_MS` + up to `INDEX_JITTER_MS`, times
  the latency scale), newer versions only, so a GSI read in a region can miss writes that
  region's table already shows, in both replication modes, even where an SC table read is
  linearizable (MRSC, M06 does not extend to indexes), and never goes back in time.

Items lacking an index's key attributes are not in the index (sparse indexes); the
projection (ALL, KEYS_ONLY, INCLUDE) decides which attributes an index read returns. Index
keys may name up to four attributes per role (multi-attribute keys): every HASH attribute
must be matched by equality; RANGE attributes left to right, equality on all but the last,
which may also be compared.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from emulator import attrs
from emulator import expressions as ex
from emulator.errors import DynamoError, validation
from emulator.store import Key, TableReplica, Version

INDEX_LAG_MS = 20.0     # GSI propagation within a region at latency scale 1 ...
INDEX_JITTER_MS = 20.0  # ... plus a seeded 0-20 ms, per version
GSI_MAX = 20            # per table (AWS's default quota)
LSI_MAX = 5
KEY_ATTRIBUTES_MAX = 4  # per role (HASH / RANGE) in a multi-attribute GSI key
NON_KEY_ATTRIBUTES_MAX = 100  # INCLUDE projections, over all indexes of a table
WARM_READS_ON_DEMAND = 12_000  # a new on-demand GSI's warm throughput, per second
WARM_WRITES_ON_DEMAND = 4_000
INDEX_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
PROJECTION_TYPES = ("ALL", "KEYS_ONLY", "INCLUDE")


@dataclass
class IndexSpec:
    """One secondary index's declaration and control-plane state."""

    name: str
    local: bool
    hash: tuple[str, ...]
    range: tuple[str, ...]
    types: dict[str, str]           # key attribute -> S | N | B
    projection: dict
    throughput: dict | None = None  # GSI ProvisionedThroughput as given (or None)
    warm: dict | None = None        # GSI WarmThroughput as given
    creating_until: float = 0.0     # monotonic: CREATING (and Backfilling) until then
    deleting_until: float = 0.0     # monotonic: DELETING until then (then gone)
    backfilling: bool = False       # added by UpdateTable: backfilled while CREATING

    @property
    def key_names(self) -> tuple[str, ...]:
        return self.hash + self.range

    def key_schema(self) -> list[dict]:
        return ([{"AttributeName": n, "KeyType": "HASH"} for n in self.hash]
                + [{"AttributeName": n, "KeyType": "RANGE"} for n in self.range])

    def covers(self, item: dict) -> bool:
        """True when `item` has every key attribute of the index (sparse indexes)."""
        return all(n in item for n in self.key_names)

    def project(self, item: dict, table_keys: tuple[str, ...]) -> dict:
        kind = self.projection["ProjectionType"]
        if kind == "ALL":
            return item
        keep = set(table_keys) | set(self.key_names)
        if kind == "INCLUDE":
            keep |= set(self.projection.get("NonKeyAttributes", []))
        return {k: v for k, v in item.items() if k in keep}

    def order_key(self, item: dict, table_key: tuple) -> tuple:
        """Where `item` sits in the index: its hash values, range values, then its table
        key (the order of items with equal index keys is the service's to choose)."""
        return (tuple(attrs.key_value(item[n]) for n in self.hash),
                tuple(attrs.key_value(item[n]) for n in self.range), table_key)

    def status(self, now: float) -> str:
        if self.deleting_until > now:
            return "DELETING"
        return "CREATING" if self.creating_until > now else "ACTIVE"

    def describe(self, table_arn: str, count: int, size: int, now: float) -> dict:
        out: dict[str, Any] = {"IndexName": self.name, "KeySchema": self.key_schema(),
                               "Projection": self.projection, "IndexSizeBytes": size,
                               "ItemCount": count, "IndexArn": f"{table_arn}/index/{self.name}"}
        if self.local:
            return out
        status = self.status(now)
        out["IndexStatus"] = status
        if status == "CREATING" and self.backfilling:
            out["Backfilling"] = True
        tp = self.throughput or {}
        out["ProvisionedThroughput"] = {"NumberOfDecreasesToday": 0,
                                        "ReadCapacityUnits": tp.get("ReadCapacityUnits", 0),
                                        "WriteCapacityUnits": tp.get("WriteCapacityUnits", 0)}
        if self.warm is not None:
            out["WarmThroughput"] = {**self.warm, "Status": "ACTIVE" if status == "ACTIVE"
                                     else "UPDATING"}
        return out


# ---- declarations ------------------------------------------------------------------
def parse_declarations(gsis: Any, lsis: Any, table_hash: str, table_range: str | None,
                       types: dict[str, str]) -> list[IndexSpec]:
    """The indexes a CreateTable declares, validated as the service does."""
    out: list[IndexSpec] = []
    for decls, local in ((gsis, False), (lsis, True)):
        if decls is None:
            continue
        if not isinstance(decls, list):
            raise attrs.serialization("Unexpected value type in payload")
        if not decls:
            what = "LocalSecondaryIndexes" if local else "GlobalSecondaryIndexes"
            raise validation(f"One or more parameter values were invalid: List of {what} is empty")
        for d in decls:
            out.append(parse_one(d, local, table_hash, table_range, types))
    names = [s.name for s in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise validation(f"One or more parameter values were invalid: Duplicate index name: {dup}")
    if sum(1 for s in out if s.local) > LSI_MAX:
        raise validation("One or more parameter values were invalid: Number of LocalSecondaryIndexes "
                         f"exceeds per-table limit of {LSI_MAX}")
    if sum(1 for s in out if not s.local) > GSI_MAX:
        raise DynamoError("LimitExceededException", "One or more parameter values were invalid: "
                          "Number of GlobalSecondaryIndexes exceeds per-table limit of "
                          f"{GSI_MAX}")
    return out


def check_key_types(gsis: Any, lsis: Any) -> None:
    """Every index KeySchema element's KeyType is HASH or RANGE: the request's first,
    syntactic validation, before any check of attribute definitions (the message names
    the element's place, as the service's does)."""
    for decls, where in ((gsis, "globalSecondaryIndexes"), (lsis, "localSecondaryIndexes")):
        for i, d in enumerate(decls if isinstance(decls, list) else [], 1):
            ks = d.get("KeySchema") if isinstance(d, dict) else None
            for j, k in enumerate(ks if isinstance(ks, list) else [], 1):
                kt = k.get("KeyType") if isinstance(k, dict) else None
                if isinstance(kt, str) and kt not in ("HASH", "RANGE"):
                    raise validation(f"1 validation error detected: Value '{kt}' at '{where}."
                                     f"{i}.member.keySchema.{j}.member.keyType' failed to "
                                     "satisfy constraint: Member must satisfy enum value set: "
                                     "[HASH, RANGE]")


def key_names_declared(gsis: Any, lsis: Any) -> list[str]:
    """Every attribute an index's KeySchema names (for the AttributeDefinitions check);
    malformed entries contribute nothing here and are refused by `parse_one`."""
    names: list[str] = []
    for decls in (gsis, lsis):
        for d in decls if isinstance(decls, list) else []:
            ks = d.get("KeySchema") if isinstance(d, dict) else None
            for k in ks if isinstance(ks, list) else []:
                if isinstance(k, dict) and isinstance(k.get("AttributeName"), str):
                    names.append(k["AttributeName"])
    return names


def check_definitions(defined: list[str], table_keys: list[str], index_keys: list[str],
                      has_indexes: bool) -> None:
    """AttributeDefinitions must define exactly the key attributes of the table and its
    indexes; the service words a mismatch by whether indexes were declared and whether
    there are more or fewer definitions than keys."""
    used = sorted(set(table_keys) | set(index_keys))
    have = sorted(set(defined))
    if have == used:
        return
    head = "One or more parameter values were invalid: "
    missing = [n for n in used if n not in have]

    def listed(xs: list[str]) -> str:
        return "[" + ", ".join(xs) + "]"
    if len(have) > len(used):
        if has_indexes:
            raise validation(f"{head}Some AttributeDefinitions are not used. AttributeDefinitions: "
                             f"{listed(have)}, keys used: {listed(used)}")
        raise validation(f"{head}Number of attributes in KeySchema does not exactly match number "
                         "of attributes defined in AttributeDefinitions")
    if len(have) < len(used) and not has_indexes:
        raise validation("Invalid KeySchema: Some index key attribute have no definition")
    raise validation(f"{head}Some index key attributes are not defined in AttributeDefinitions. "
                     f"Keys: {listed(missing)}, AttributeDefinitions: {listed(have)}")


def parse_one(d: Any, local: bool, table_hash: str, table_range: str | None,
              types: dict[str, str]) -> IndexSpec:
    if not isinstance(d, dict):
        raise attrs.serialization("Unexpected value type in payload")
    name = d.get("IndexName")
    if not isinstance(name, str) or not INDEX_NAME.fullmatch(name):
        raise validation(f"1 validation error detected: Value '{name}' at 'indexName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "[a-zA-Z0-9_.-]+ and have length between 3 and 255")
    ks = d.get("KeySchema")
    if not isinstance(ks, list) or not ks:
        raise validation("1 validation error detected: Value null at 'keySchema' failed to "
                         "satisfy constraint: Member must not be null")
    hashes: list[str] = []
    ranges: list[str] = []
    where = "localSecondaryIndexes" if local else "globalSecondaryIndexes"
    for i, k in enumerate(ks, 1):
        kt = k.get("KeyType") if isinstance(k, dict) else None
        an = k.get("AttributeName") if isinstance(k, dict) else None
        if kt not in ("HASH", "RANGE") or not isinstance(an, str):
            raise validation(f"1 validation error detected: Value '{kt}' at '{where}.member."
                             f"keySchema.{i}.member.keyType' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [HASH, RANGE]")
        if kt == "HASH" and ranges:
            raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        (hashes if kt == "HASH" else ranges).append(an)
    if not hashes:
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(hashes) > KEY_ATTRIBUTES_MAX or len(ranges) > KEY_ATTRIBUTES_MAX:
        raise validation("Invalid KeySchema: an index key holds at most "
                         f"{KEY_ATTRIBUTES_MAX} HASH and {KEY_ATTRIBUTES_MAX} RANGE attributes")
    names = hashes + ranges
    if len(set(names)) != len(names):
        raise validation("Invalid KeySchema: Some index key schema element is not valid")
    for n in names:
        if n not in types:
            raise validation("One or more parameter values were invalid: Some index key attributes "
                             f"are not defined in AttributeDefinitions. Keys: [{n}], "
                             f"AttributeDefinitions: [{', '.join(sorted(types))}]")
    if local:
        if hashes != [table_hash]:
            raise validation("One or more parameter values were invalid: Index KeySchema does not "
                             "have the same leading hash key as table KeySchema for index: "
                             f"{name}. index hash key: {hashes[0]}, table hash key: {table_hash}")
        if table_range is None:
            raise validation("One or more parameter values were invalid: Table KeySchema does not "
                             "have a range key, which is required when specifying a "
                             "LocalSecondaryIndex")
        if len(ranges) != 1:
            raise validation("One or more parameter values were invalid: Index KeySchema of a "
                             f"LocalSecondaryIndex needs one RANGE key: {name}")
    # (a GSI's key may name several HASH and RANGE attributes: multi-attribute keys)
    projection = _projection(d.get("Projection"), name, names)
    throughput = d.get("ProvisionedThroughput")
    if throughput is not None and not isinstance(throughput, dict):
        raise attrs.serialization("Unexpected value type in payload")
    warm = d.get("WarmThroughput")
    if warm is not None and not isinstance(warm, dict):
        raise attrs.serialization("Unexpected value type in payload")
    if local and (throughput is not None or warm is not None):
        raise validation("One or more parameter values were invalid: ProvisionedThroughput is "
                         "not supported for a LocalSecondaryIndex")
    if not local:
        warm = warm_throughput(warm, throughput, name)
    return IndexSpec(name, local, tuple(hashes), tuple(ranges), {n: types[n] for n in names},
                     projection, throughput, warm)


def warm_throughput(warm: dict | None, throughput: dict | None, name: str) -> dict:
    """A GSI's WarmThroughput: as given, at least its initial throughput (an on-demand
    index starts at 12,000 reads and 4,000 writes per second, a provisioned one at its
    capacity units; DynamoDB developer guide, "Understanding warm throughput")."""
    if throughput is not None:
        lows = {"Read": throughput.get("ReadCapacityUnits", 0),
                "Write": throughput.get("WriteCapacityUnits", 0)}
        why = {"Read": "ReadCapacityUnits of ProvisionedThroughput",
               "Write": "WriteCapacityUnits of ProvisionedThroughput"}
    else:
        lows = {"Read": WARM_READS_ON_DEMAND, "Write": WARM_WRITES_ON_DEMAND}
        why = {"Read": "initial throughput for OnDemand", "Write": "initial throughput for OnDemand"}
    out = {f"{rw}UnitsPerSecond": low for rw, low in lows.items()}
    for rw, low in lows.items():
        v = (warm or {}).get(f"{rw}UnitsPerSecond")
        if v is None:
            continue
        if not isinstance(v, int) or isinstance(v, bool):
            raise attrs.serialization("Unexpected value type in payload")
        if v < low:
            raise validation(f"One or more parameter values were invalid: Requested {rw}"
                             f"UnitsPerSecond for WarmThroughput for index {name} is lower than "
                             f"{why[rw]}")
        out[f"{rw}UnitsPerSecond"] = v
    return out


def _projection(p: Any, name: str, key_names: list[str]) -> dict:
    if not isinstance(p, dict):
        raise validation("1 validation error detected: Value null at 'projection' failed to "
                         "satisfy constraint: Member must not be null")
    kind = p.get("ProjectionType", "ALL" if not p.get("NonKeyAttributes") else None)
    if kind not in PROJECTION_TYPES:
        raise validation(f"1 validation error detected: Value '{kind}' at 'projection."
                         "projectionType' failed to satisfy constraint: Member must satisfy "
                         "enum value set: [ALL, INCLUDE, KEYS_ONLY]")
    nka = p.get("NonKeyAttributes")
    if kind == "INCLUDE":
        if not isinstance(nka, list) or not nka or not all(isinstance(a, str) for a in nka):
            raise validation("One or more parameter values were invalid: NonKeyAttributes must "
                             f"not be empty for an INCLUDE projection. IndexName: {name}")
        if len(nka) > NON_KEY_ATTRIBUTES_MAX:
            raise validation("One or more parameter values were invalid: Number of projected "
                             f"attributes in all indexes exceeds limit of {NON_KEY_ATTRIBUTES_MAX}")
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(nka)}
    if nka is not None:
        raise validation("One or more parameter values were invalid: ProjectionType is "
                         f"{kind}, but NonKeyAttributes is specified")
    return {"ProjectionType": kind}


# ---- per-region GSI state ---------------------------------------------------------
class RegionIndex:
    """One GSI in one region: the versions of the region's replica, applied late.

    `entries` maps a table key to the newest version the index has applied (tombstones
    included, so an older version arriving late never brings an item back)."""

    def __init__(self, replica: TableReplica, lag: Callable[[], float],
                 call_later: Callable[[float, Callable[[], None]], None]) -> None:
        self.replica = replica
        self.lock = replica.lock
        self._lag = lag
        self._call_later = call_later
        self.entries: dict[Key, Version] = {}
        self.closed = False

    def backfill(self) -> None:
        """Index every version the replica holds now (caller holds the region lock)."""
        self.entries = dict(self.replica.leader)

    def on_install(self, key: Key, version: Version) -> None:
        delay = self._lag()
        if delay <= 0:
            self._apply(key, version)
        else:
            self._call_later(delay, lambda: self._apply(key, version))

    def _apply(self, key: Key, version: Version) -> None:
        with self.lock:
            if self.closed:
                return
            cur = self.entries.get(key)
            if cur is None or cur.stamp() < version.stamp():
                self.entries[key] = version

    def items(self) -> list[dict]:
        with self.lock:
            return [v.item for v in self.entries.values() if v.item is not None]


@dataclass
class TableIndexes:
    """A table's index declarations and, per region, its GSIs' state."""

    table_name: str
    key_names: tuple[str, ...]
    call_later: Callable[[float, Callable[[], None]], None]
    lag_s: float = 0.0
    jitter_s: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    specs: dict[str, IndexSpec] = field(default_factory=dict)
    # region -> index name -> state; region -> the replica (to backfill new GSIs)
    state: dict[str, dict[str, RegionIndex]] = field(default_factory=dict)
    replicas: dict[str, TableReplica] = field(default_factory=dict)
    _rng_lock: threading.Lock = field(default_factory=threading.Lock)

    def _lag(self) -> float:
        if self.lag_s <= 0 and self.jitter_s <= 0:
            return 0.0
        with self._rng_lock:
            return self.lag_s + self.rng.uniform(0.0, self.jitter_s)

    # -- declarations
    def declare(self, spec: IndexSpec) -> None:
        self.specs[spec.name] = spec
        if not spec.local:
            for region, rep in self.replicas.items():
                self._start(region, rep, spec)

    def drop(self, name: str) -> None:
        self.specs.pop(name, None)
        for per in self.state.values():
            st = per.pop(name, None)
            if st is not None:
                st.closed = True

    def expire(self, now: float) -> None:
        """Forget the indexes whose DELETING window has passed."""
        for name in [n for n, s in list(self.specs.items()) if 0 < s.deleting_until <= now]:
            self.drop(name)

    def listed(self, now: float) -> list[IndexSpec]:
        self.expire(now)
        return list(self.specs.values())  # a copy: UpdateTable may change `specs` meanwhile

    def busy(self, now: float) -> bool:
        return any(s.creating_until > now or s.deleting_until > now
                   for s in list(self.specs.values()))

    # -- regions
    def attach(self, region: str, replica: TableReplica) -> None:
        """A replica joins (table creation, a new replica region): its GSIs are built from
        it and follow every version it installs from now on."""
        with replica.lock:
            self.replicas[region] = replica
            replica.install_listeners.append(self._installed(region))
            for spec in list(self.specs.values()):
                if not spec.local:
                    self._start(region, replica, spec)

    def detach(self, region: str) -> None:
        for st in self.state.pop(region, {}).values():
            st.closed = True
        self.replicas.pop(region, None)

    def _start(self, region: str, replica: TableReplica, spec: IndexSpec) -> None:
        with replica.lock:
            st = RegionIndex(replica, self._lag, self.call_later)
            st.backfill()
            self.state.setdefault(region, {})[spec.name] = st

    def _installed(self, region: str) -> Callable[[Key, Version], None]:
        def on_install(key: Key, version: Version) -> None:
            for st in list(self.state.get(region, {}).values()):
                st.on_install(key, version)
        return on_install

    # -- reads
    def spec(self, name: Any, now: float | None = None) -> IndexSpec:
        if not isinstance(name, str):
            raise attrs.serialization("Unexpected value type in payload")
        s = self.specs.get(name)
        now = time.monotonic() if now is None else now
        if s is None or s.deleting_until > now:
            raise validation(f"The table does not have the specified index: {name}")
        return s

    def gsi_items(self, region: str, spec: IndexSpec) -> list[dict]:
        st = self.state.get(region, {}).get(spec.name)
        return [] if st is None else [it for it in st.items() if spec.covers(it)]

    def counts(self, region: str, spec: IndexSpec, table_items: list[dict]) -> tuple[int, int]:
        """(ItemCount, IndexSizeBytes) of an index in a region."""
        items = (self.gsi_items(region, spec) if not spec.local
                 else [it for it in table_items if spec.covers(it)])
        size = sum(attrs.item_size(spec.project(it, self.key_names)) for it in items)
        return len(items), size

    # -- writes
    def check_item(self, item: dict, *, updating: bool = False) -> None:
        """A written item's index key attributes: of the declared type, not empty, within
        the key size limits (ValidationException, the service's wording, which differs
        for an UpdateExpression's result: `updating`)."""
        for spec in list(self.specs.values()):  # a copy: UpdateTable may change `specs`
            for n in spec.key_names:
                av = item.get(n)
                if av is None:
                    continue
                t = next(iter(av)) if isinstance(av, dict) and len(av) == 1 else "?"
                want = spec.types[n]
                if t != want:
                    raise validation("One or more parameter values were invalid: Type mismatch for "
                                     f"Index Key {n} Expected: {want} Actual: {t} IndexName: "
                                     f"{spec.name}")
                v = av[t]
                if t in ("S", "B") and v == "" and updating:
                    raise validation("One or more parameter values are not valid. The update "
                                     "expression attempted to update a secondary index key to "
                                     "a value that is not supported. The AttributeValue for a "
                                     "key attribute cannot contain an empty "
                                     f"{'string' if t == 'S' else 'binary'} value.")
                if t in ("S", "B") and v == "":
                    raise validation("One or more parameter values are not valid. A value "
                                     "specified for a secondary index key is not supported. The "
                                     "AttributeValue for a key attribute cannot contain an empty "
                                     f"{'string' if t == 'S' else 'binary'} value. IndexName: "
                                     f"{spec.name}, IndexKey: {n}")
                if t in ("S", "B"):
                    attrs._check_key_size(n in spec.hash, t, v)


# ---- Query on an index -------------------------------------------------------------
def key_condition(kc: tuple, ph: ex.Placeholders, spec: IndexSpec) -> Callable[[dict], bool]:
    """A KeyConditionExpression on `spec`'s key as a predicate over items: equality on
    every HASH attribute; RANGE attributes from the first, equality on all but the last
    one named, which may be any key comparison (=, <, <=, >, >=, BETWEEN, begins_with)."""
    parts: list[tuple] = []

    def flatten(node: tuple) -> None:
        if node[0] == "and":
            flatten(node[1])
            flatten(node[2])
        else:
            parts.append(node)
    flatten(kc)
    if len(parts) > len(spec.key_names):
        raise validation(f"The number of query conditions ({len(parts)}) exceeds the number of "
                         f"key attributes defined in the schema ({len(spec.key_names)})")
    named_parts: list[tuple[str, tuple]] = []
    for p in parts:
        path = _key_path(p)
        if path is None or len(path[1]) != 1:
            raise validation("Query key condition not supported")
        named_parts.append((ph.name(path[1][0]), p))
    if any(n not in spec.key_names for n, _ in named_parts):
        given = {n for n, _ in named_parts}
        missing = next((k for k in spec.key_names if k not in given), spec.key_names[0])
        raise validation(f"Query condition missed key schema element: {missing}")
    by_name: dict[str, tuple] = {}
    for n, p in named_parts:
        if n in by_name:
            raise validation("KeyConditionExpressions must only contain one condition per key")
        by_name[n] = _normalised(p)
    for h in spec.hash:
        if h not in by_name:
            raise validation(f"Query condition missed key schema element: {h}")
        p = by_name[h]
        if p[0] != "cmp" or p[1] != "=":
            raise validation("Query key condition not supported")
        _check_key_value(h, spec.types[h], ph.values[p[3][1]])
    named = [r for r in spec.range if r in by_name]
    if named != list(spec.range[:len(named)]):
        skipped = next(r for r in spec.range if r not in by_name)
        raise validation(f"Query condition missed key schema element: {skipped}")
    for r in named[:-1]:
        p = by_name[r]
        if p[0] != "cmp" or p[1] != "=":
            raise validation("Query key condition not supported: only the last range key "
                             f"attribute may use a comparison other than equality ({r})")
    for r in named:
        p = by_name[r]
        if p[0] == "cmp" and p[1] == "<>":
            raise validation("Unsupported operator on KeyConditionExpression: operator: <>")
    conds = [by_name[n] for n in spec.hash + tuple(named)]
    return lambda item: all(ex.evaluate(item, c, ph) for c in conds)


def _key_path(p: tuple) -> tuple | None:
    if p[0] == "cmp":
        a, b = p[2], p[3]
        if a[0] == "path" and b[0] == "path":
            raise validation("Invalid condition in KeyConditionExpression: Multiple attribute "
                             "names used in one condition")
        if a[0] == "path" and b[0] == "value":
            return a
        if b[0] == "path" and a[0] == "value":
            return b
        return None
    if p[0] == "between" and p[1][0] == "path":
        return p[1]
    if p[0] == "func" and p[1] == "begins_with" and p[2][0][0] == "path":
        return p[2][0]
    return None


def _normalised(p: tuple) -> tuple:
    """`:v < a` as `a > :v`, so every comparison has its path first."""
    if p[0] == "cmp" and p[2][0] == "value":
        flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
        return ("cmp", flip.get(p[1], p[1]), p[3], p[2])
    return p


def _check_key_value(name: str, want: str, av: dict) -> None:
    t = next(iter(av))
    if t != want:
        raise validation("One or more parameter values were invalid: Condition parameter type "
                         "does not match schema type")
    if t in ("S", "B") and av[t] == "":
        raise validation("One or more parameter values are not valid. The AttributeValue for a "
                         f"key attribute cannot contain an empty string value. Key: {name}")
