"""The emulated deployment's state and its control plane (tables, replicas, witnesses).

A `Cluster` is everything behind the regional endpoints: the WAN model and its scheduler,
each region's clock and lock, the replication-pause state, and the tables. A table created
in a region is a `GlobalTable` (one per lineage, shared by all its replica regions) with one
`TableReplica` (emulator/store.py) per replica region and one replication engine
(emulator/engine.py) chosen by its MultiRegionConsistency.

The control plane follows the 2019.11.21 global tables API as SEMANTICS.md "API facts"
describes it: CreateTable has no replica fields; UpdateTable's ReplicaUpdates Create/Delete
adds or removes replica regions (a Create copies the existing items), MultiRegionConsistency
is valid only with Create actions, GlobalTableWitnessUpdates holds at most one Create or
Delete, MRSC is set up in one call on an empty table with exactly three regions from one
region set, and its mode never changes afterwards. DescribeTable shapes `Replicas` (the other
replica regions), `GlobalTableWitnesses`, `MultiRegionConsistency` and `GlobalTableVersion`.
Changes take time as on AWS when the cluster's `control_delay_s` is above zero (the
default 0 completes every change at once): a replica added by UpdateTable is CREATING (the
table UPDATING) for that long, then ACTIVE; MRSC set-up and the witness likewise; a removed
replica shows DELETING, and a deleted table answers DescribeTable with DELETING, for that
long before it is gone. With an AWS-like `ControlPlane` (emulator/control_plane.py) the
changes also show late, as AWS's eventually consistent DescribeTable shows them: a new
table answers ResourceNotFoundException in DescribeTable for a while, a new replica or
witness is absent from `Replicas` / `GlobalTableWitnesses` before it is CREATING, a removed
one stays listed DELETING, and too many simultaneous table operations answer
LimitExceededException. The MREC rule of one replica Create or Delete per UpdateTable and
the MRSC rule that a witness needs `MultiRegionConsistency: STRONG` hold in every case.
Data-plane calls are served meanwhile. Tables carry tags per region
(CreateTable `Tags`, TagResource, UntagResource, ListTagsOfResource), so `gtcheck aws
cleanup` finds what gtcheck left behind.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator import attrs
from emulator.bugs import NO_BUGS, Bugs
from emulator.control_plane import ControlPlane
from emulator.engine import (EngineContext, ReplicationEngine,
                             ReplicationPause, TableDescription, engine_factory)
from emulator.errors import DynamoError, not_found, validation
from emulator import indexes as ix
from emulator.mrsc_setup import REGION_SETS
from emulator.store import RegionClock, TableReplica, Version
from emulator.table_settings import TableSettings, apply_update, names_settings, parse_create
from emulator.ttl import TtlSweeper
from emulator.wan import Scheduler, Wan

ACCOUNT = "000000000000"
GLOBAL_TABLE_VERSION = "2019.11.21"
TABLE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
TABLES_MAX = 256  # per region: a limit on everything
TAGS_MAX = 50  # per resource, as on AWS
TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):[0-9]{12}:table/([a-zA-Z0-9_.-]{3,255})")
TAGS_PAGE = 10  # ListTagsOfResource page size (the service pages; its size is not documented)


def check_table_name(name: Any) -> str:
    if name is None:  # absent: the service's constraint message, not a type error
        raise validation("1 validation error detected: Value null at 'tableName' failed to "
                         "satisfy constraint: Member must not be null")
    if not isinstance(name, str):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    if not 3 <= len(name) <= 255 or not set(name) <= TABLE_NAME_CHARS:
        raise validation(f"1 validation error detected: Value '{name}' at 'tableName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "[a-zA-Z0-9_.-]+ and have length between 3 and 255")
    return name


def table_name_in(region: str, name: Any) -> str:
    """The table a request's TableName names in `region`: its name, or its ARN
    (`arn:aws:dynamodb:<region>:<account>:table/<name>`; the API reference: "You can also
    provide the Amazon Resource Name (ARN) of the table in this parameter")."""
    if isinstance(name, str) and name.startswith("arn:"):
        m = TABLE_ARN.fullmatch(name)
        if m is None or m.group(1) != region:
            raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {name}")
        name = m.group(2)
    return check_table_name(name)


@dataclass
class Region:
    name: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    tables: dict[str, "GlobalTable"] = field(default_factory=dict)
    # Deleted tables still DELETING: name -> (last description, monotonic time gone).
    deleting: dict[str, tuple[dict, float]] = field(default_factory=dict)

    def still_deleting(self, name: str) -> dict | None:
        entry = self.deleting.get(name)
        if entry is None:
            return None
        if time.monotonic() >= entry[1]:
            self.deleting.pop(name, None)
            return None
        return entry[0]


class GlobalTable:
    """One table and its replicas; the unit a replication engine serves."""

    def __init__(self, cluster: "Cluster", name: str, schema: attrs.KeySchema,
                 definitions: list[dict], created_in: str, stream_spec: dict | None,
                 billing: str) -> None:
        self.cluster = cluster
        self.name = name
        self.schema = schema
        self.definitions = definitions
        self.created_in = created_in
        self.stream_spec = stream_spec
        self.billing = billing
        self.settings = TableSettings(billing=billing)  # emulator/table_settings.py
        self.created = time.time()
        self.table_id = str(uuid.UUID(int=cluster.rng.getrandbits(128)))
        self.stream_label = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime(self.created))
        self.mode = "EVENTUAL"
        self.witness: str | None = None
        self.global_ = False  # True once it has had a replica
        self.ttl_attribute: str | None = None  # A12: items whose N attribute < now expire
        # Control-plane progress (monotonic times): replicas and witness CREATING until,
        # removed replicas DELETING until; tags per region.
        self.creating_until: dict[str, float] = {}
        self.witness_until = 0.0
        self.leaving_until: dict[str, float] = {}
        # Eventual consistency of DescribeTable (AWS-like control plane): the table is not
        # found in a region before visible_at; a replica is absent from the other regions'
        # `Replicas` before listed_at, the witness before witness_listed_at.
        self.visible_at: dict[str, float] = {}
        self.listed_at: dict[str, float] = {}
        self.witness_listed_at = 0.0
        self.tags: dict[str, dict[str, str]] = {}
        desc = TableDescription(name, schema.hash, schema.range, self.mode)
        replica = cluster.new_replica(name, created_in)
        self.ctx = EngineContext(desc, {created_in: replica}, cluster.wan, cluster.clocks,
                                 cluster.pause, random.Random(cluster.rng.getrandbits(64)),
                                 dict(cluster.engine_settings))
        self.engine: ReplicationEngine = engine_factory("EVENTUAL")(self.ctx)
        # Secondary indexes (emulator/indexes.py): declared per table, GSIs kept per region.
        self.indexes = ix.TableIndexes(name, schema.names, cluster.scheduler.call_later,
                                       cluster.index_lag_s, cluster.index_jitter_s,
                                       random.Random(cluster.rng.getrandbits(64)))
        self.indexes.attach(created_in, replica)

    @property
    def replicas(self) -> dict[str, TableReplica]:
        return self.ctx.replicas

    def arn(self, region: str) -> str:
        return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{self.name}"

    def stream_arn(self, region: str) -> str:
        return f"{self.arn(region)}/stream/{self.stream_label}"

    def replica_status(self, region: str, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        return "CREATING" if self.creating_until.get(region, 0.0) > now else "ACTIVE"

    def busy(self, now: float | None = None) -> bool:
        """True while any replica or the witness is still CREATING or DELETING."""
        now = time.monotonic() if now is None else now
        return (any(u > now for u in self.creating_until.values()) or self.witness_until > now
                or any(u > now for u in self.leaving_until.values())
                or self.settings.updating_until > now
                or self.indexes.busy(now))

    def describe_indexes(self, region: str, now: float) -> dict:
        """DescribeTable's `GlobalSecondaryIndexes` / `LocalSecondaryIndexes` (absent when the
        table has none, as the service answers)."""
        out: dict[str, list] = {}
        specs = self.indexes.listed(now)
        if not specs:
            return out
        rep = self.replicas[region]
        with rep.lock:
            table_items = [v.item for v in rep.leader.values() if v.item is not None]
        for spec in specs:
            count, size = self.indexes.counts(region, spec, table_items)
            key = "LocalSecondaryIndexes" if spec.local else "GlobalSecondaryIndexes"
            out.setdefault(key, []).append(spec.describe(self.arn(region), count, size, now))
        return out

    def describe(self, region: str) -> dict:
        rep = self.replicas[region]
        with rep.lock:
            count = rep.live_count()
            size = sum(attrs.item_size(v.item) for v in rep.leader.values() if v.item is not None)
        now = time.monotonic()
        own = self.replica_status(region, now)
        out: dict[str, Any] = {
            "TableName": self.name,
            "TableStatus": own if own != "ACTIVE" else ("UPDATING" if self.busy(now)
                                                        else "ACTIVE"),
            "TableArn": self.arn(region),
            "TableId": self.table_id,
            "KeySchema": [{"AttributeName": self.schema.hash, "KeyType": "HASH"}]
            + ([{"AttributeName": self.schema.range, "KeyType": "RANGE"}] if self.schema.range else []),
            "AttributeDefinitions": self.definitions,
            "CreationDateTime": self.created,
            "ItemCount": count,
            "TableSizeBytes": size,
            **self.settings.description(restoring=own == "CREATING"),
        }
        out.update(self.describe_indexes(region, now))
        if self.stream_spec or self.global_:
            out["StreamSpecification"] = self.stream_spec or {
                "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            out["LatestStreamArn"] = self.stream_arn(region)
            out["LatestStreamLabel"] = self.stream_label
        leaving = any(u > now for u in self.leaving_until.values())
        if self.global_ or leaving:
            out["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
            out["Replicas"] = [{"RegionName": r, "ReplicaStatus": self.replica_status(r, now)}
                               for r in sorted(self.replicas)
                               if r != region and self.listed_at.get(r, 0.0) <= now]
            out["Replicas"] += [{"RegionName": r, "ReplicaStatus": "DELETING"}
                                for r, until in sorted(self.leaving_until.items())
                                if until > now and r not in self.replicas]
            if self.witness is not None and self.witness_listed_at <= now:
                out["GlobalTableWitnesses"] = [{
                    "RegionName": self.witness,
                    "WitnessStatus": "CREATING" if self.witness_until > now else "ACTIVE"}]
            out["MultiRegionConsistency"] = self.mode
        return out


class Cluster:
    """All regions of one emulated deployment and the control plane over them."""

    def __init__(self, regions: list[str], *, witness: str | None = None,
                 latency_scale: float = 1.0, seed: int = 0, copies: int = 3,
                 copy_lag_ms: float | None = None,
                 latency_ms: dict[tuple[str, str], float] | None = None,
                 engine_settings: dict[str, Any] | None = None,
                 control_delay_s: float = 0.0,
                 control_plane: ControlPlane | None = None,
                 bugs: Bugs | None = None) -> None:
        self.rng = random.Random(seed)
        self.seed = seed  # for services that draw from their own seeded generator
        self.control_delay_s = float(control_delay_s)
        self.control_plane = control_plane  # None: changes complete after control_delay_s
        # Set by the deployment: True while an FIS experiment pauses replication in a region.
        self.fis_pausing: Any = lambda region: False
        self.bugs = bugs or NO_BUGS  # emulator/bugs.py: mistakes switched on (off by default)
        self.scheduler = Scheduler()
        wan_regions = list(regions) + ([witness] if witness and witness not in regions else [])
        self.wan = Wan(wan_regions, latency_scale=latency_scale, latency_ms=latency_ms,
                       scheduler=self.scheduler, seed=seed,
                       jitter_ms=(engine_settings or {}).get("message_jitter_ms"))
        self.regions = {r: Region(r) for r in regions}
        # Set while a region runs; cleared while the `pause` fault freezes it.
        self.running = {r: threading.Event() for r in regions}
        for ev in self.running.values():
            ev.set()
        self.witness = witness
        self.clocks = {r: RegionClock(r) for r in wan_regions}
        self.pause = ReplicationPause()
        self.copies = copies
        # G2: the last follower copy trails the leader; 4 ms at latency scale 1.
        self.copy_lag_s = (4.0 * latency_scale if copy_lag_ms is None else copy_lag_ms) / 1000.0
        # GSI propagation inside a region (emulator/indexes.py), scaled like the WAN.
        settings = engine_settings or {}
        self.index_lag_s = settings.get("index_lag_ms", ix.INDEX_LAG_MS * latency_scale) / 1000.0
        self.index_jitter_s = settings.get("index_jitter_ms",
                                           ix.INDEX_JITTER_MS * latency_scale) / 1000.0
        # The `lag-copy` fault: region -> extra seconds its lagging copies trail by.
        self.copy_lag_extra_s: dict[str, float] = {}
        self.engine_settings = dict(engine_settings or {})
        self.engine_settings.setdefault("bugs", self.bugs)
        self._control = threading.RLock()
        # Called with (region, table) when DeleteTable is about to delete it there.
        self.deleting_hooks: list[Any] = []
        self.wan.subscribe(self.faults_changed)
        self._closed = False
        # A12: expired items deleted late, in the region that wrote them, replicated
        # (emulator/ttl.py)
        self.ttl = TtlSweeper(self.tables_everywhere, self.wan.region_up,
                              self.scheduler.call_later, latency_scale=latency_scale,
                              seed=seed, bugs=self.bugs)
        self.ttl.start()

    # ---- helpers -------------------------------------------------------------------
    def new_replica(self, table: str, region: str) -> TableReplica:
        return TableReplica(table, region, lock=self.regions[region].lock,
                            call_later=self.scheduler.call_later,
                            copies=self.copies, copy_lag_s=self.copy_lag_s,
                            bugs=self.bugs,
                            extra_lag_s=lambda: self.copy_lag_extra_s.get(region, 0.0))

    def table(self, region: str, name: Any) -> GlobalTable:
        name = table_name_in(region, name)
        t = self.regions[region].tables.get(name)
        if t is None:
            raise not_found(f"Requested resource not found: Table: {name} not found")
        return t

    def _ready_at(self) -> float:
        return time.monotonic() + self.control_delay_s

    def _wait_s(self, kind: str) -> float:
        """How long a change of `kind` takes (emulator/control_plane.py for the kinds):
        a seeded draw with the AWS-like control plane, else `control_delay_s` for the
        CREATING / DELETING windows and nothing for the windows of invisibility."""
        if self.control_plane is not None:
            return self.control_plane.seconds(kind)
        if kind in ("table_create", "replica_create", "removed_listed", "table_delete"):
            return self.control_delay_s
        return 0.0

    def operations_in_flight(self, now: float | None = None) -> int:
        """Tables being created, updated or deleted, in any region (AWS counts these
        against its limit of simultaneous table operations)."""
        now = time.monotonic() if now is None else now
        busy = sum(1 for t in self.tables_everywhere() if t.busy(now))
        gone = sum(1 for reg in self.regions.values()
                   for _, until in list(reg.deleting.values()) if until > now)
        return busy + gone

    def _admit_operation(self) -> None:
        """LimitExceededException when the AWS-like control plane's limit of simultaneous
        table operations is reached (DynamoDB API reference, LimitExceededException)."""
        cp = self.control_plane
        if cp is not None and self.operations_in_flight() >= cp.max_concurrent_ops:
            raise DynamoError("LimitExceededException", cp.limit_message())

    @staticmethod
    def _in_use(t: "GlobalTable", region: str) -> DynamoError:
        doing = "being created" if t.creating_until.get(region, 0.0) > time.monotonic() \
            else "being updated"
        return DynamoError("ResourceInUseException", "Attempt to change a resource which is "
                           f"still in use: Table {t.name} is {doing}")

    def tables_everywhere(self) -> list[GlobalTable]:
        seen: dict[int, GlobalTable] = {}
        for r in self.regions.values():
            for t in r.tables.values():
                seen[id(t)] = t
        return list(seen.values())

    def faults_changed(self) -> None:
        for t in self.tables_everywhere():
            t.engine.faults_changed()

    def close(self) -> None:
        self._closed = True
        self.ttl.close()
        for t in self.tables_everywhere():
            t.engine.close()
        self.scheduler.stop()

    # ---- control plane -------------------------------------------------------------
    def create_table(self, region: str, req: dict) -> dict:
        name = check_table_name(req.get("TableName"))
        gsis, lsis = req.get("GlobalSecondaryIndexes"), req.get("LocalSecondaryIndexes")
        ix.check_key_types(gsis, lsis)
        schema, definitions = _schema(req.get("KeySchema"), req.get("AttributeDefinitions"),
                                      ix.key_names_declared(gsis, lsis),
                                      gsis is not None or lsis is not None)
        specs = ix.parse_declarations(gsis, lsis, schema.hash, schema.range,
                                      {d["AttributeName"]: d["AttributeType"] for d in definitions})
        settings = parse_create(req, region, ACCOUNT)
        billing = settings.billing
        stream = req.get("StreamSpecification")
        if stream is not None and not isinstance(stream, dict):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        with self._control:
            reg = self.regions[region]
            if name in reg.tables:
                raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
            if len(reg.tables) >= TABLES_MAX:
                raise DynamoError("LimitExceededException", "Too many tables in this region")
            tags = _tag_list(req.get("Tags"))
            self._admit_operation()
            t = GlobalTable(self, name, schema, definitions, region,
                            stream if stream and stream.get("StreamEnabled") else None, billing)
            t.settings = settings
            if tags:
                t.tags[region] = tags
            reg.tables[name] = t
            reg.deleting.pop(name, None)
            now = time.monotonic()
            t.visible_at[region] = now + self._wait_s("describe_lag")
            created = t.visible_at[region] + self._wait_s("table_create")
            if created > now:
                t.creating_until[region] = created
            for spec in specs:  # the table's indexes are CREATING while it is
                spec.creating_until = created if created > now else 0.0
                t.indexes.declare(spec)
            desc = t.describe(region)
            return {"TableDescription": desc}

    def delete_table(self, region: str, req: dict) -> dict:
        with self._control:
            t = self.table(region, req.get("TableName"))
            if t.busy():  # CREATING or UPDATING: AWS refuses DeleteTable until ACTIVE
                raise self._in_use(t, region)
            t.settings.check_deletable(t.name)
            self._admit_operation()
            if t.global_ and len(t.replicas) > 1 and t.mode == "STRONG":
                raise validation("Cannot delete a replica of a multi-Region strongly "
                                 "consistent table this way; remove replicas with "
                                 "UpdateTable ReplicaUpdates")
            for hook in self.deleting_hooks:  # e.g. PITR's system backup (emulator/backups.py)
                hook(region, t)
            if t.global_ and len(t.replicas) > 1:
                desc = t.describe(region)
                self._remove_replica(t, region)
            else:
                desc = t.describe(region)
                del self.regions[region].tables[t.name]
                t.engine.close()
            desc["TableStatus"] = "DELETING"
            deleting = self._wait_s("table_delete")
            if deleting > 0:
                self.regions[region].deleting[t.name] = (desc, time.monotonic() + deleting)
            return {"TableDescription": desc}

    def list_tables(self, region: str, req: dict) -> dict:
        reg = self.regions[region]
        names = sorted(set(reg.tables) | {n for n in list(reg.deleting)
                                          if reg.still_deleting(n) is not None})
        start = req.get("ExclusiveStartTableName")
        if start is not None:
            names = [n for n in names if n > start]
        limit = req.get("Limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise validation("1 validation error detected: Value at 'limit' failed to satisfy "
                             "constraint: Member must have value between 1 and 100")
        out: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def describe_table(self, region: str, req: dict) -> dict:
        name = table_name_in(region, req.get("TableName"))
        gone = self.regions[region].still_deleting(name)
        if gone is not None and name not in self.regions[region].tables:
            return {"Table": gone}
        t = self.table(region, name)
        if t.visible_at.get(region, 0.0) > time.monotonic():
            # DescribeTable is eventually consistent: right after CreateTable (or a new
            # replica's creation) the table's metadata may not be found yet.
            raise not_found(f"Requested resource not found: Table: {name} not found")
        return {"Table": t.describe(region)}

    # ---- tags ----------------------------------------------------------------------
    def _tagged(self, region: str, req: dict) -> GlobalTable:
        arn = req.get("ResourceArn")
        if not isinstance(arn, str):
            raise validation("1 validation error detected: Value null at 'resourceArn' failed "
                             "to satisfy constraint: Member must not be null")
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        if parts[3] != region:
            raise validation(f"Invalid TableArn: {arn} is not in region {region}")
        return self.table(region, parts[5][len("table/"):].split("/")[0])

    def tag_resource(self, region: str, req: dict) -> dict:
        with self._control:
            t = self._tagged(region, req)
            tags = _tag_list(req.get("Tags"))
            merged = {**t.tags.get(region, {}), **tags}
            if len(merged) > TAGS_MAX:
                raise DynamoError("LimitExceededException",
                                  f"The number of tags exceeds the limit of {TAGS_MAX}")
            t.tags[region] = merged
        return {}

    def untag_resource(self, region: str, req: dict) -> dict:
        with self._control:
            t = self._tagged(region, req)
            keys = req.get("TagKeys")
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise validation("1 validation error detected: Value null at 'tagKeys' failed "
                                 "to satisfy constraint: Member must not be null")
            for k in keys:
                t.tags.get(region, {}).pop(k, None)
        return {}

    def list_tags_of_resource(self, region: str, req: dict) -> dict:
        """Pages of TAGS_PAGE tags in key order; NextToken (opaque to the client, here the
        last key returned) asks for the next page, as the API reference documents."""
        t = self._tagged(region, req)
        token = req.get("NextToken")
        if token is not None and not isinstance(token, str):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        tags = [(k, v) for k, v in sorted(t.tags.get(region, {}).items())
                if token is None or k > token]
        out: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in tags[:TAGS_PAGE]]}
        if len(tags) > TAGS_PAGE:
            out["NextToken"] = tags[TAGS_PAGE - 1][0]
        return out

    def update_table(self, region: str, req: dict) -> dict:
        with self._control:
            t = self.table(region, req.get("TableName"))
            updates = req.get("ReplicaUpdates")
            witness_updates = req.get("GlobalTableWitnessUpdates")
            consistency = req.get("MultiRegionConsistency")
            creates, deletes = _replica_actions(updates, region)
            w_create, w_delete = _witness_actions(witness_updates)
            if consistency is not None and consistency not in ("EVENTUAL", "STRONG"):
                raise validation(f"1 validation error detected: Value '{consistency}' at "
                                 "'multiRegionConsistency' failed to satisfy constraint: Member "
                                 "must satisfy enum value set: [EVENTUAL, STRONG]")
            if consistency is not None and not creates:
                raise validation("MultiRegionConsistency can only be specified together with "
                                 "replica Create actions")
            if creates and deletes:
                raise validation("One or more parameter values were invalid: Only one replica "
                                 "update action type may be specified at a time")
            strong = consistency == "STRONG" or (t.global_ and t.mode == "STRONG")
            if not strong and len(creates) + len(deletes) > 1:
                # MREC: replicas are added or removed one UpdateTable at a time.
                raise validation("One or more parameter values were invalid: more than one "
                                 "create or delete replica actions not allowed")
            changes = bool(creates or deletes or w_create or w_delete)
            if (changes or names_settings(req)) and t.busy():
                raise self._in_use(t, region)
            if t.mode == "STRONG" and (changes or "StreamSpecification" in req) and any(
                    self.fis_pausing(r) for r in t.replicas):
                raise validation(f"Table {t.name} cannot be updated while an AWS FIS "
                                 "experiment pauses its replication")
            if changes:
                self._admit_operation()
            spec = req.get("StreamSpecification")
            if isinstance(spec, dict) and spec.get("StreamEnabled") and (t.stream_spec
                                                                         or t.global_):
                # UpdateTable enables a stream, it does not change one: the service answers
                # this ValidationException (the view type stays as it was).
                raise validation(f"Table already has an enabled stream: TableName: {t.name}")
            apply_update(t.settings, req, region, ACCOUNT, self._wait_s)
            if isinstance(spec, dict):
                t.stream_spec = spec if spec.get("StreamEnabled") else None
            if "GlobalSecondaryIndexUpdates" in req:
                if t.busy():
                    raise self._in_use(t, region)
                self._update_indexes(t, req)
            if creates or w_create:
                self._create_replicas(t, region, creates, w_create, consistency)
            if deletes or w_delete:
                self._delete_replicas(t, region, deletes, w_delete)
            desc = t.describe(region)
            return {"TableDescription": desc}

    def _update_indexes(self, t: GlobalTable, req: dict) -> None:
        """UpdateTable's GlobalSecondaryIndexUpdates: Create (CREATING and Backfilling, then
        ACTIVE), Update (throughput), Delete (DELETING, then gone); new key attributes come
        with AttributeDefinitions."""
        updates = req["GlobalSecondaryIndexUpdates"]
        if not isinstance(updates, list):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        types = {d["AttributeName"]: d["AttributeType"] for d in t.definitions}
        given = req.get("AttributeDefinitions")
        if given is not None:
            if not isinstance(given, list) or not all(
                    isinstance(d, dict) and d.get("AttributeType") in ("S", "N", "B")
                    and isinstance(d.get("AttributeName"), str) for d in given):
                raise validation("One or more parameter values were invalid: Some "
                                 "AttributeDefinitions are not valid")
            for d in given:
                if types.get(d["AttributeName"], d["AttributeType"]) != d["AttributeType"]:
                    raise validation("One or more parameter values were invalid: Cannot change "
                                     f"the type of attribute {d['AttributeName']}")
                types[d["AttributeName"]] = d["AttributeType"]
        creates: list[ix.IndexSpec] = []
        changes: list[tuple[str, dict]] = []
        for u in updates:
            if not isinstance(u, dict) or len(u) != 1 or next(iter(u)) not in (
                    "Create", "Update", "Delete") or not isinstance(next(iter(u.values())), dict):
                raise validation("One or more parameter values were invalid: One of Create, "
                                 "Update or Delete must be specified in each "
                                 "GlobalSecondaryIndexUpdates entry")
            (action, body), = u.items()
            if action == "Create":
                creates.append(ix.parse_one(body, False, t.schema.hash, t.schema.range, types))
            else:
                name = body.get("IndexName")
                t.indexes.spec(name)  # ResourceNotFound-like refusal for an unknown index
                if t.indexes.specs[name].local:
                    raise validation(f"The table does not have the specified index: {name}")
                changes.append((action, body))
        for spec in creates:
            if spec.name in t.indexes.specs:
                raise validation("One or more parameter values were invalid: Attempting to create "
                                 f"an index which already exists: {spec.name}")
        if sum(1 for s in t.indexes.specs.values() if not s.local) + len(creates) > ix.GSI_MAX:
            raise DynamoError("LimitExceededException", "One or more parameter values were "
                              "invalid: Number of GlobalSecondaryIndexes exceeds per-table "
                              f"limit of {ix.GSI_MAX}")
        now = time.monotonic()
        for action, body in changes:
            spec = t.indexes.specs[body["IndexName"]]
            if action == "Delete":
                wait = self._wait_s("table_delete")
                if wait > 0:
                    spec.deleting_until = now + wait
                else:
                    t.indexes.drop(spec.name)
            else:
                if isinstance(body.get("ProvisionedThroughput"), dict):
                    spec.throughput = body["ProvisionedThroughput"]
                warm = body.get("WarmThroughput")
                new = ix.warm_throughput(warm if isinstance(warm, dict) else None,
                                         spec.throughput, spec.name)
                spec.warm = {k: max(v, (spec.warm or {}).get(k, 0)) for k, v in new.items()}
        used = {n for s in t.indexes.specs.values() for n in s.key_names} | set(t.schema.names)
        used |= {n for s in creates for n in s.key_names}
        t.definitions = [{"AttributeName": n, "AttributeType": ty} for n, ty in types.items()
                         if n in used]
        for spec in creates:
            wait = self._wait_s("table_create")
            spec.creating_until = now + wait if wait > 0 else 0.0
            spec.backfilling = True
            t.indexes.declare(spec)

    def _check_region(self, r: str, *, witness: bool = False) -> None:
        known = r in self.regions or (witness and r == self.witness)
        if not known:
            raise validation(f"The region {r} is not part of this emulated deployment "
                             f"(regions: {', '.join(self.regions)}"
                             + (f"; witness: {self.witness}" if self.witness else "") + ")")

    def _create_replicas(self, t: GlobalTable, region: str, creates: list[str],
                         w_create: str | None, consistency: str | None) -> None:
        # MRSC only with MultiRegionConsistency STRONG: a witness alone implies nothing.
        mode = consistency or (t.mode if t.global_ else "EVENTUAL")
        for r in creates:
            self._check_region(r)
            if r in t.replicas:
                raise validation(f"Failed to create a new replica of table with name: '{t.name}' "
                                 f"because one or more replicas already existed as tables.")
            if t.name in self.regions[r].tables:
                raise validation(f"Failed to create a new replica of table with name: '{t.name}' "
                                 f"because one or more replicas already existed as tables.")
        if w_create is not None:
            self._check_region(w_create, witness=True)
            if w_create in t.replicas or w_create in creates:
                raise validation("A witness region cannot also be a replica region")
        if mode == "STRONG":
            if t.global_:
                raise validation("Replicas cannot be added to an existing global table with "
                                 "MultiRegionConsistency STRONG, and an existing global table "
                                 "cannot change its MultiRegionConsistency")
            everyone = [region, *creates] + ([w_create] if w_create else [])
            if len(set(everyone)) != 3:
                raise validation("A multi-Region strongly consistent global table needs exactly "
                                 "three regions: three replicas, or two replicas and a witness")
            if not any(set(everyone) <= s for s in REGION_SETS.values()):
                raise validation("The regions of a multi-Region strongly consistent global table "
                                 "must all belong to one region set (US, EU or AP)")
            if t.replicas[region].live_count():
                raise validation("The table must be empty to be converted to a multi-Region "
                                 "strongly consistent global table")
            if any(s.local for s in t.indexes.specs.values()):
                # SEMANTICS.md "MRSC rules": LSIs are not supported.
                raise validation("Multi-Region strong consistency does not support tables with "
                                 "local secondary indexes")
            factory = engine_factory("STRONG")
            if factory is None:
                raise validation("MultiRegionConsistency STRONG is not available in this "
                                 "emulator build")
        else:
            if w_create is not None:
                raise validation("GlobalTableWitnessUpdates requires MultiRegionConsistency "
                                 "STRONG")
            if t.global_ and t.mode == "STRONG":
                raise validation("Replicas cannot be added to a multi-Region strongly "
                                 "consistent global table")
        # Copy the existing items (per key the newest version across the current replicas)
        # and attach the new replicas' replicators with every involved region locked, so no
        # write can land between the snapshot and the start of replication to the new ones.
        involved = sorted(set(t.replicas) | set(creates))
        with contextlib.ExitStack() as stack:
            for r in involved:  # one global order: no deadlock with another such call
                stack.enter_context(self.regions[r].lock)
            merged: dict = {}
            for rep in t.replicas.values():
                for k, v in rep.leader.items():
                    cur = merged.get(k)
                    if cur is None or cur.stamp() < v.stamp():
                        merged[k] = v
            new_reps = {}
            for r in creates:
                rep = self.new_replica(t.name, r)
                rep.load(merged)
                t.indexes.attach(r, rep)  # its GSIs are built from its own copy
                new_reps[r] = rep
            t.global_ = True
            if mode != "STRONG":
                t.mode = "EVENTUAL"
                for r, rep in new_reps.items():
                    t.engine.add_replica(r, rep)
        if mode == "STRONG":
            # Built outside the region locks: the MRSC engine elects a journal leader first.
            # (The table is empty, so there is nothing a concurrent write could miss.)
            t.mode = "STRONG"
            t.witness = w_create
            t.ctx.table.mode = "STRONG"
            t.ctx.table.witness = w_create
            t.engine.close()
            t.ctx.replicas.update(new_reps)
            t.engine = engine_factory("STRONG")(t.ctx)
        now = time.monotonic()
        unlisted = self.control_plane.unlisted_kind(mode == "STRONG") \
            if self.control_plane is not None else "unlisted_async"
        for r in creates:
            self.regions[r].tables[t.name] = t
            self.regions[r].deleting.pop(t.name, None)
            t.listed_at[r] = t.visible_at[r] = now + self._wait_s(unlisted)
            t.creating_until[r] = t.listed_at[r] + self._wait_s("replica_create")
        if w_create is not None:
            t.witness_listed_at = now + self._wait_s(unlisted)
            t.witness_until = t.witness_listed_at + self._wait_s("replica_create")

    def _delete_replicas(self, t: GlobalTable, region: str, deletes: list[str],
                         w_delete: str | None) -> None:
        for r in deletes:
            if r not in t.replicas:
                raise validation(f"Replica {r} does not exist for table {t.name}")
        if w_delete is not None and w_delete != t.witness:
            raise validation(f"Witness {w_delete} does not exist for table {t.name}")
        if t.mode == "STRONG":
            removing = len(deletes) + (1 if w_delete else 0)
            if removing < 2:
                raise validation("A single replica, or the witness alone, cannot be removed from "
                                 "a multi-Region strongly consistent global table; remove two "
                                 "replicas, or one replica and the witness")
            if w_delete:
                t.witness = None
                t.ctx.table.witness = None
        for r in deletes:
            self._remove_replica(t, r)
        if t.mode == "STRONG" and len(t.replicas) == 1:
            # Back to a single-region table: the survivor keeps its data, async engine.
            t.engine.close()
            t.mode = "EVENTUAL"
            t.ctx.table.mode = "EVENTUAL"
            t.global_ = False
            t.engine = engine_factory("EVENTUAL")(t.ctx)
        elif len(t.replicas) == 1:
            t.global_ = False

    def _remove_replica(self, t: GlobalTable, r: str) -> None:
        listed = self._wait_s("removed_listed")
        own = t.describe(r) if listed > 0 else None
        t.engine.remove_replica(r)
        t.indexes.detach(r)
        t.ctx.replicas.pop(r, None)
        t.creating_until.pop(r, None)
        t.listed_at.pop(r, None)
        t.visible_at.pop(r, None)
        t.tags.pop(r, None)
        self.regions[r].tables.pop(t.name, None)
        if listed > 0:
            # Still listed (DELETING) by the others, and DELETING in its own region.
            until = time.monotonic() + listed
            t.leaving_until[r] = until
            own["TableStatus"] = "DELETING"
            self.regions[r].deleting[t.name] = (own, until)

    # ---- metadata for checkers -----------------------------------------------------
    def item_versions(self, table: str, key: dict) -> dict[str, dict | None]:
        """Per replica region: the leader's value, LWW timestamp and origin of `key`."""
        t = next((x for x in self.tables_everywhere() if x.name == table), None)
        if t is None:
            raise not_found(f"Requested resource not found: Table: {table} not found")
        k = t.schema.key_of_key(key)
        out: dict[str, dict | None] = {}
        for r, v in sorted(t.engine.versions(k).items()):
            out[r] = None if v is None else _version_json(v)
        return out


def _version_json(v: Version) -> dict:
    return {"item": v.item, "timestamp": v.timestamp_us, "origin": v.origin,
            "deleted": v.item is None}


def _schema(key_schema: Any, definitions: Any, index_keys: list[str] | None = None,
            has_indexes: bool = False) -> tuple[attrs.KeySchema, list[dict]]:
    if not isinstance(key_schema, list) or not key_schema:
        raise validation("1 validation error detected: Value null at 'keySchema' failed to "
                         "satisfy constraint: Member must not be null")
    if not isinstance(definitions, list) or not definitions:
        raise validation("1 validation error detected: Value null at 'attributeDefinitions' "
                         "failed to satisfy constraint: Member must not be null")
    if len(key_schema) > 2:
        # CreateTable KeySchema: "Array Members: Minimum number of 1 item. Maximum number of
        # 2 items." -- a member constraint, checked (and worded) before the schema's meaning
        shown = ", ".join(f"KeySchemaElement(attributeName={k.get('AttributeName')}, "
                          f"keyType={k.get('KeyType')})" if isinstance(k, dict) else str(k)
                          for k in key_schema)
        raise validation(f"1 validation error detected: Value '[{shown}]' at 'keySchema' failed "
                         "to satisfy constraint: Member must have length less than or equal to 2")
    types: dict[str, str] = {}
    for d in definitions:
        if not isinstance(d, dict) or d.get("AttributeType") not in ("S", "N", "B") \
                or not isinstance(d.get("AttributeName"), str):
            raise validation("One or more parameter values were invalid: Some AttributeDefinitions "
                             "are not valid")
        types[d["AttributeName"]] = d["AttributeType"]
    hash_name = range_name = None
    for i, k in enumerate(key_schema, 1):
        if isinstance(k, dict) and isinstance(k.get("KeyType"), str) \
                and k["KeyType"] not in ("HASH", "RANGE"):
            raise validation(f"1 validation error detected: Value '{k['KeyType']}' at "
                             f"'keySchema.{i}.member.keyType' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [HASH, RANGE]")
        if not isinstance(k, dict) or k.get("KeyType") not in ("HASH", "RANGE"):
            raise validation("Invalid KeySchema: Some index key schema element is not valid")
        if k["KeyType"] == "HASH":
            if hash_name is not None:
                raise validation("Invalid KeySchema: Too many hash keys specified.  All Dynamo "
                                 "DB tables must have exactly one hash key")
            hash_name = k.get("AttributeName")
        else:
            if range_name is not None:
                raise validation("Invalid KeySchema: Too many range keys specified")
            range_name = k.get("AttributeName")
    if hash_name is None:
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    ix.check_definitions(list(types), [n for n in (hash_name, range_name) if n],
                         index_keys or [], has_indexes)
    schema = attrs.KeySchema(hash_name, types[hash_name], range_name,
                             types[range_name] if range_name else None)
    return schema, [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def _replica_actions(updates: Any, region: str) -> tuple[list[str], list[str]]:
    if updates is None:
        return [], []
    if not isinstance(updates, list):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    creates: list[str] = []
    deletes: list[str] = []
    for u in updates:
        if not isinstance(u, dict) or len(u) != 1:
            raise validation("One or more parameter values were invalid: One of Create, Update, "
                             "Delete or Disassociate must be specified in each ReplicaUpdates "
                             "entry")
        (action, body), = u.items()
        if action not in ("Create", "Update", "Delete", "Disassociate") or not isinstance(body, dict):
            raise validation("One or more parameter values were invalid: One of Create, Update, "
                             "Delete or Disassociate must be specified in each ReplicaUpdates "
                             "entry")
        r = body.get("RegionName")
        if not isinstance(r, str) or not r:
            raise validation("One or more parameter values were invalid: RegionName is required")
        if r == region:
            raise validation("Cannot add, delete, or update the local region through "
                             "ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as "
                             "required.")
        if action == "Create":
            creates.append(r)
        elif action == "Delete":
            deletes.append(r)
        elif action == "Disassociate":
            raise validation("Disassociate is not supported by the gtcheck emulator")
        # Update (replica settings: throughput, table class) has nothing to change here.
    if len(set(creates)) != len(creates) or len(set(deletes)) != len(deletes):
        raise validation("One or more parameter values were invalid: Duplicate RegionName in "
                         "ReplicaUpdates")
    return creates, deletes


def _tag_list(tags: Any) -> dict[str, str]:
    """CreateTable / TagResource `Tags` ([{"Key", "Value"}]) as a dict; ValidationException
    on a malformed list."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    out: dict[str, str] = {}
    for tag in tags:
        if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str) \
                or not isinstance(tag.get("Value"), str) or not 1 <= len(tag["Key"]) <= 128 \
                or len(tag["Value"]) > 256:
            raise validation("One or more parameter values were invalid: a tag needs a Key "
                             "(1-128 characters) and a Value (up to 256 characters)")
        out[tag["Key"]] = tag["Value"]
    if len(out) > TAGS_MAX:
        raise DynamoError("LimitExceededException",
                          f"The number of tags exceeds the limit of {TAGS_MAX}")
    return out


def _witness_actions(updates: Any) -> tuple[str | None, str | None]:
    if updates is None:
        return None, None
    if not isinstance(updates, list):
        raise DynamoError("SerializationException", "Unexpected value type in payload")
    if len(updates) != 1:
        raise validation("GlobalTableWitnessUpdates must hold exactly one Create or Delete")
    u = updates[0]
    if not isinstance(u, dict) or len(u) != 1:
        raise validation("Each GlobalTableWitnessUpdates entry holds exactly one of Create or "
                         "Delete")
    (action, body), = u.items()
    r = body.get("RegionName") if isinstance(body, dict) else None
    if action not in ("Create", "Delete") or not isinstance(r, str):
        raise validation("Each GlobalTableWitnessUpdates entry holds exactly one of Create or "
                         "Delete with a RegionName")
    return (r, None) if action == "Create" else (None, r)
