"""On-demand backups and point-in-time recovery (PITR) of one region's tables.

The DynamoDB API reference's operations, as it documents them:

- CreateBackup snapshots the region's copy of a table (the leader copy: every write
  acknowledged there so far). The backup is CREATING, then AVAILABLE; DescribeBackup,
  ListBackups (BackupType USER by default; TimeRangeLowerBound inclusive, UpperBound
  exclusive; pages of `Limit` with LastEvaluatedBackupArn) and DeleteBackup (a backup still
  CREATING is in use: BackupInUseException) serve it; a backup outlives its table.
  DeleteTable of a table with PITR enabled leaves a SYSTEM backup of it
  (`<table>$DeletedTableBackup`, BackupExpiryDateTime 35 days on).
- UpdateContinuousBackups / DescribeContinuousBackups: continuous backups are always ENABLED;
  PITR is DISABLED until enabled. While enabled, EarliestRestorableDateTime is when it was
  enabled (or the start of the recovery period, RecoveryPeriodInDays 1-35, default 35) and
  LatestRestorableDateTime "typically 5 minutes before the current time": that lag is 300 s
  times the AWS-like control plane's scale (none without it, so a test can restore what it
  just wrote), never before the earliest time nor after the newest change.
- RestoreTableFromBackup / RestoreTableToPointInTime make a new table in this region with
  the source's key schema, attribute definitions, capacity mode, throughput and encryption
  (the *Override parameters replace them; tags, streams, TTL, PITR are not restored, as the
  Developer Guide says), through CreateTable itself, so it is CREATING then ACTIVE like any
  new table, longer by the control plane's `table_restore` time, with `RestoreSummary`
  (`RestoreInProgress` while CREATING). A restored table is a standalone single-region
  table: its items are new versions of this region, linked to nothing.

The state of the table at a time T is read from the region's change stream
(emulator/store.py keeps every applied change with the time it was applied, A07): the
current items with every change applied after T undone, newest first. The stream keeps at
most `STREAM_RECORDS_MAX` records per table, so the earliest restorable time is also never
before the oldest change still held. Export to and import from S3 are in
emulator/import_export.py, sharing this module's registry.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from emulator import attrs
from emulator.cluster import ACCOUNT, Cluster, GlobalTable, TABLE_NAME_CHARS
from emulator.errors import DynamoError, validation
from emulator.store import Key, TableReplica, Version

LATEST_LAG_S = 300.0  # "LatestRestorableDateTime is typically 5 minutes before the current time"
RECOVERY_DAYS_DEFAULT = 35
BACKUPS_MAX = 1000  # per region: a limit on everything
SYSTEM_BACKUP_DAYS = 35  # a deleted PITR table's system backup is kept this long
RESTORES_MAX = 50  # "up to 50 concurrent restores (any type of restore) in a given account"
BACKUP_TYPES = ("USER", "SYSTEM", "AWS_BACKUP", "ALL")


def _serial() -> DynamoError:
    return DynamoError("SerializationException", "Unexpected value type in payload")


def _required(req: dict, name: str, member: str) -> Any:
    v = req.get(name)
    if v is None:
        raise validation(f"1 validation error detected: Value null at '{member}' failed to "
                         "satisfy constraint: Member must not be null")
    return v


def _string(req: dict, name: str, member: str, *, required: bool = True) -> str | None:
    v = _required(req, name, member) if required else req.get(name)
    if v is not None and not isinstance(v, str):
        raise _serial()
    return v


def _name(req: dict, name: str, member: str) -> str:
    """A table or backup name: 3-255 characters of [a-zA-Z0-9_.-] (the API's pattern)."""
    v = _string(req, name, member)
    assert v is not None
    if not 3 <= len(v) <= 255 or not set(v) <= TABLE_NAME_CHARS:
        raise validation(f"1 validation error detected: Value '{v}' at '{member}' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "[a-zA-Z0-9_.-]+ and have length between 3 and 255")
    return v


def _time(req: dict, name: str) -> float | None:
    v = req.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _serial()
    return float(v)


def _limit(req: dict, name: str, member: str, high: int) -> int:
    v = req.get(name, high)
    if isinstance(v, bool) or not isinstance(v, int):
        raise _serial()
    if not 1 <= v <= high:
        raise validation(f"1 validation error detected: Value '{v}' at '{member}' failed to "
                         f"satisfy constraint: Member must have value between 1 and {high}")
    return v


def suffix(*parts: Any) -> str:
    """The `<13-digit ms>-<8 hex>` tail of a backup / export / import ARN, derived from its
    parts (no random draw: the emulator's seeded choices stay as they were)."""
    ms = int(time.time() * 1000)
    digest = hashlib.sha256("|".join(map(str, (ms, *parts))).encode()).hexdigest()[:8]
    return f"{ms:013d}-{digest}"


@dataclass
class Backup:
    arn: str
    name: str
    table: str
    table_arn: str
    table_id: str
    created: float          # epoch seconds
    available_at: float     # monotonic: CREATING before
    items: dict[Key, dict]
    schema: attrs.KeySchema
    definitions: list[dict]
    table_created: float
    billing: str
    units: tuple[int, int]
    sse: dict | None
    size: int
    kind: str = "USER"

    def status(self) -> str:
        return "AVAILABLE" if time.monotonic() >= self.available_at else "CREATING"

    def details(self, status: str | None = None) -> dict:
        out = {"BackupArn": self.arn, "BackupName": self.name, "BackupSizeBytes": self.size,
               "BackupStatus": status or self.status(), "BackupType": self.kind,
               "BackupCreationDateTime": self.created}
        if self.kind == "SYSTEM":
            out["BackupExpiryDateTime"] = self.created + SYSTEM_BACKUP_DAYS * 86400.0
        return out

    def summary(self) -> dict:
        return {"TableName": self.table, "TableId": self.table_id, "TableArn": self.table_arn,
                **self.details()}

    def description(self, status: str | None = None) -> dict:
        source = {"TableName": self.table, "TableId": self.table_id, "TableArn": self.table_arn,
                  "TableSizeBytes": self.size, "KeySchema": _key_schema(self.schema),
                  "TableCreationDateTime": self.table_created,
                  "ProvisionedThroughput": {"ReadCapacityUnits": self.units[0],
                                            "WriteCapacityUnits": self.units[1]},
                  "ItemCount": len(self.items), "BillingMode": self.billing}
        features: dict[str, Any] = {}
        if self.sse:
            features["SSEDescription"] = dict(self.sse)
        return {"BackupDetails": self.details(status), "SourceTableDetails": source,
                "SourceTableFeatureDetails": features}


@dataclass
class Pitr:
    """Point-in-time recovery of one table replica, while enabled."""

    enabled_at: float       # epoch seconds
    period_days: int = RECOVERY_DAYS_DEFAULT


@dataclass
class Vault:
    """One region's backups, PITR settings (per table replica), exports and imports."""

    region: str
    backups: dict[str, Backup] = field(default_factory=dict)
    pitr: "weakref.WeakKeyDictionary[TableReplica, Pitr]" = field(
        default_factory=weakref.WeakKeyDictionary)
    exports: dict[str, dict] = field(default_factory=dict)
    imports: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _key_schema(schema: attrs.KeySchema) -> list[dict]:
    return ([{"AttributeName": schema.hash, "KeyType": "HASH"}]
            + ([{"AttributeName": schema.range, "KeyType": "RANGE"}] if schema.range else []))


def _table_not_found(name: Any) -> DynamoError:
    return DynamoError("TableNotFoundException", f"Table not found: {name}")


class BackupService:
    """The backup, PITR and restore operations of one region."""

    def __init__(self, cluster: Cluster, region: str,
                 named: Callable[[Any], GlobalTable]) -> None:
        self.cluster = cluster
        self.region = region
        self._named = named
        self.vault = Vault(region)
        cluster.deleting_hooks.append(self._system_backup)

    def operations(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "CreateBackup": self.create_backup, "DescribeBackup": self.describe_backup,
            "ListBackups": self.list_backups, "DeleteBackup": self.delete_backup,
            "RestoreTableFromBackup": self.restore_from_backup,
            "RestoreTableToPointInTime": self.restore_to_point_in_time,
            "UpdateContinuousBackups": self.update_continuous_backups,
            "DescribeContinuousBackups": self.describe_continuous_backups,
        }

    # ---- helpers -------------------------------------------------------------------
    def table(self, name: Any) -> GlobalTable:
        """The table named (name or ARN); TableNotFoundException, as the backup operations
        answer, when there is none."""
        try:
            return self._named(name)
        except DynamoError as e:
            if e.name == "ResourceNotFoundException":
                raise _table_not_found(name) from None
            raise

    def wait_s(self, kind: str) -> float:
        return self.cluster._wait_s(kind)

    def _lag_s(self) -> float:
        cp = self.cluster.control_plane
        return LATEST_LAG_S * cp.scale if cp is not None else 0.0

    def _backup(self, arn: Any) -> Backup:
        if not isinstance(arn, str):
            raise _serial() if arn is not None else validation(
                "1 validation error detected: Value null at 'backupArn' failed to satisfy "
                "constraint: Member must not be null")
        b = self.vault.backups.get(arn)
        if b is None:
            raise DynamoError("BackupNotFoundException", f"Backup not found: {arn}")
        return b

    # ---- on-demand backups -----------------------------------------------------------
    def create_backup(self, req: dict) -> dict:
        name = _string(req, "TableName", "tableName")
        backup_name = _name(req, "BackupName", "backupName")
        return {"BackupDetails": self._snapshot(self.table(name), backup_name, "USER").details()}

    def _system_backup(self, region: str, t: GlobalTable) -> None:
        """DeleteTable of a table with PITR enabled: DynamoDB keeps a SYSTEM backup of it
        for 35 days (Developer Guide, "Deleting a table with point-in-time recovery")."""
        rep = t.replicas.get(region)
        if region == self.region and rep is not None and self.vault.pitr.get(rep) is not None:
            self._snapshot(t, f"{t.name}$DeletedTableBackup", "SYSTEM", ready=True)

    def _snapshot(self, t: GlobalTable, backup_name: str, kind: str, *,
                  ready: bool = False) -> Backup:
        rep = t.replicas[self.region]
        with rep.lock:
            items = {k: v.item for k, v in rep.leader.items() if v.item is not None}
        with self.vault.lock:
            if len(self.vault.backups) >= BACKUPS_MAX:
                raise DynamoError("LimitExceededException", "There are too many on-demand "
                                  f"backups in this region (at most {BACKUPS_MAX})")
            arn = f"{t.arn(self.region)}/backup/{suffix(t.table_id, backup_name, len(self.vault.backups))}"
            s = t.settings
            b = Backup(arn, backup_name, t.name, t.arn(self.region), t.table_id, time.time(),
                       time.monotonic() + (0.0 if ready else self.wait_s("backup_create")),
                       items, t.schema, [dict(d) for d in t.definitions], t.created, s.billing,
                       (s.read_units, s.write_units), s.sse,
                       sum(attrs.item_size(i) for i in items.values()), kind)
            self.vault.backups[arn] = b
        return b

    def describe_backup(self, req: dict) -> dict:
        return {"BackupDescription": self._backup(req.get("BackupArn")).description()}

    def delete_backup(self, req: dict) -> dict:
        with self.vault.lock:
            b = self._backup(req.get("BackupArn"))
            if b.status() != "AVAILABLE":
                raise DynamoError("BackupInUseException", f"Backup is being created: {b.arn}")
            del self.vault.backups[b.arn]
        return {"BackupDescription": b.description("DELETED")}

    def list_backups(self, req: dict) -> dict:
        name = _string(req, "TableName", "tableName", required=False)
        kind = req.get("BackupType", "USER")
        if kind not in BACKUP_TYPES:
            raise validation(f"1 validation error detected: Value '{kind}' at 'backupType' "
                             "failed to satisfy constraint: Member must satisfy enum value set: "
                             f"[{', '.join(BACKUP_TYPES)}]")
        limit = _limit(req, "Limit", "limit", 100)
        low, high = _time(req, "TimeRangeLowerBound"), _time(req, "TimeRangeUpperBound")
        start = _string(req, "ExclusiveStartBackupArn", "exclusiveStartBackupArn",
                        required=False)
        table = name
        if name is not None and name.startswith("arn:"):
            table = name.split(":table/", 1)[-1].split("/", 1)[0]
        kinds = ("USER", "SYSTEM") if kind == "ALL" else (kind,)
        with self.vault.lock:
            found = sorted(self.vault.backups.values(), key=lambda b: (b.created, b.arn))
        found = [b for b in found if b.kind in kinds
                 and (table is None or b.table == table)
                 and (low is None or b.created >= low) and (high is None or b.created < high)]
        if start is not None:
            after = [i for i, b in enumerate(found) if b.arn == start]
            found = found[after[0] + 1:] if after else found
        out: dict[str, Any] = {"BackupSummaries": [b.summary() for b in found[:limit]]}
        if len(found) > limit:
            out["LastEvaluatedBackupArn"] = found[limit - 1].arn
        return out

    # ---- continuous backups (PITR) ---------------------------------------------------
    def window(self, t: GlobalTable) -> tuple[float, float] | None:
        """(earliest, latest) restorable times of `t` in this region, or None when PITR is
        not enabled there."""
        rep = t.replicas[self.region]
        p = self.vault.pitr.get(rep)
        if p is None:
            return None
        now = time.time()
        earliest = max(p.enabled_at, now - p.period_days * 86400.0)
        with rep.lock:
            if rep.stream_trimmed and rep.stream:
                earliest = max(earliest, rep.stream[0].applied_wall_s)
            newest = rep.stream[-1].applied_wall_s if rep.stream else earliest
        latest = max(earliest, min(now - self._lag_s(), newest))
        return earliest, latest

    def _continuous(self, t: GlobalTable) -> dict:
        rep = t.replicas[self.region]
        p = self.vault.pitr.get(rep)
        win = self.window(t)
        if p is None or win is None:
            pitr: dict[str, Any] = {"PointInTimeRecoveryStatus": "DISABLED"}
        else:
            pitr = {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays":
                    p.period_days, "EarliestRestorableDateTime": win[0],
                    "LatestRestorableDateTime": win[1]}
        return {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
                                                 "PointInTimeRecoveryDescription": pitr}}

    def describe_continuous_backups(self, req: dict) -> dict:
        return self._continuous(self.table(_string(req, "TableName", "tableName")))

    def update_continuous_backups(self, req: dict) -> dict:
        name = _string(req, "TableName", "tableName")
        spec = _required(req, "PointInTimeRecoverySpecification",
                         "pointInTimeRecoverySpecification")
        if not isinstance(spec, dict):
            raise _serial()
        enabled = _required(spec, "PointInTimeRecoveryEnabled",
                            "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
        days = spec.get("RecoveryPeriodInDays")
        if not isinstance(enabled, bool) or (days is not None and (
                isinstance(days, bool) or not isinstance(days, int))):
            raise _serial()
        if days is not None and not 1 <= days <= 35:
            raise validation(f"1 validation error detected: Value '{days}' at "
                             "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to "
                             "satisfy constraint: Member must have value between 1 and 35")
        t = self.table(name)
        rep = t.replicas[self.region]
        with self.vault.lock:
            p = self.vault.pitr.get(rep)
            if not enabled:
                self.vault.pitr.pop(rep, None)
            elif p is None:
                self.vault.pitr[rep] = Pitr(time.time(), days or RECOVERY_DAYS_DEFAULT)
            elif days is not None:
                p.period_days = days
        return self._continuous(t)

    # ---- restores --------------------------------------------------------------------
    def items_at(self, t: GlobalTable, when: float) -> dict[Key, dict]:
        """The region's items of `t` as they were at epoch time `when`: the current items
        with every change applied after `when` undone, newest first."""
        rep = t.replicas[self.region]
        with rep.lock:
            state = {k: v.item for k, v in rep.leader.items()}
            for rec in reversed(rep.stream):
                if rec.applied_wall_s <= when:
                    break
                state[rec.key] = rec.old
        return {k: item for k, item in state.items() if item is not None}

    def restore_from_backup(self, req: dict) -> dict:
        target = _name(req, "TargetTableName", "targetTableName")
        b = self._backup(req.get("BackupArn"))
        self._target_free(target)
        if b.status() != "AVAILABLE":
            raise DynamoError("BackupInUseException", f"Backup is being created: {b.arn}")
        return self._restore(req, target, b.items, b.schema, b.definitions, b.billing, b.units,
                             b.sse, {"SourceBackupArn": b.arn, "SourceTableArn": b.table_arn,
                                     "RestoreDateTime": b.created})

    def restore_to_point_in_time(self, req: dict) -> dict:
        target = _name(req, "TargetTableName", "targetTableName")
        source_arn = _string(req, "SourceTableArn", "sourceTableArn", required=False)
        source_name = _string(req, "SourceTableName", "sourceTableName", required=False)
        if (source_arn is None) == (source_name is None):
            raise validation("One or more parameter values were invalid: exactly one of "
                             "SourceTableName and SourceTableArn must be given")
        latest = req.get("UseLatestRestorableTime", False)
        when = _time(req, "RestoreDateTime")
        if not isinstance(latest, bool):
            raise _serial()
        t = self.table(source_arn or source_name)
        self._target_free(target)
        win = self.window(t)
        if win is None:
            raise DynamoError("PointInTimeRecoveryUnavailableException",
                              f"Point in time recovery is not enabled for table '{t.name}'")
        if latest == (when is not None):
            raise validation("One or more parameter values were invalid: give either "
                             "RestoreDateTime or UseLatestRestorableTime true")
        if latest:
            when = max(win[0], time.time() - self._lag_s())
        assert when is not None
        if not win[0] <= when <= max(win[1], time.time() - self._lag_s()):
            raise DynamoError("InvalidRestoreTimeException", "Invalid restore time: the time "
                              f"must be between {win[0]:.3f} and {win[1]:.3f} (epoch seconds)")
        s = t.settings
        return self._restore(req, target, self.items_at(t, when), t.schema,
                             [dict(d) for d in t.definitions], s.billing,
                             (s.read_units, s.write_units), s.sse,
                             {"SourceTableArn": t.arn(self.region), "RestoreDateTime": when})

    def _target_free(self, target: str) -> None:
        reg = self.cluster.regions[self.region]
        if target in reg.tables or reg.still_deleting(target) is not None:
            raise DynamoError("TableAlreadyExistsException", f"Table already exists: {target}")

    def _restore(self, req: dict, target: str, items: dict[Key, dict],
                 schema: attrs.KeySchema, definitions: list[dict], billing: str,
                 units: tuple[int, int], sse: dict | None, summary: dict) -> dict:
        """Create `target` as CreateTable would, with the source's settings or the
        request's overrides, load `items` and mark it restored."""
        create: dict[str, Any] = {"TableName": target, "KeySchema": _key_schema(schema),
                                  "AttributeDefinitions": [d for d in definitions if
                                                           d["AttributeName"] in schema.names]}
        billing = req.get("BillingModeOverride", billing)
        create["BillingMode"] = billing
        override = req.get("ProvisionedThroughputOverride")
        if billing == "PROVISIONED":
            create["ProvisionedThroughput"] = override if override is not None else {
                "ReadCapacityUnits": max(1, units[0]), "WriteCapacityUnits": max(1, units[1])}
        elif override is not None:
            create["ProvisionedThroughput"] = override  # refused by CreateTable's rules
        for override_name, create_name in (("GlobalSecondaryIndexOverride",
                                            "GlobalSecondaryIndexes"),
                                           ("LocalSecondaryIndexOverride",
                                            "LocalSecondaryIndexes")):
            if req.get(override_name) is not None:  # judged by CreateTable's own rules
                create[create_name] = req[override_name]
                create["AttributeDefinitions"] = definitions
        sse_override = req.get("SSESpecificationOverride")
        if sse_override is not None:
            create["SSESpecification"] = sse_override
        elif sse:
            key = sse.get("KMSMasterKeyArn")
            create["SSESpecification"] = {"Enabled": True, "SSEType": "KMS",
                                          **({"KMSMasterKeyId": key} if key else {})}
        with self.cluster._control:
            self._target_free(target)
            now = time.monotonic()
            restoring_now = sum(1 for t in self.cluster.tables_everywhere()
                                if t.settings.restore is not None and any(
                                    u > now for u in t.creating_until.values()))
            if restoring_now >= RESTORES_MAX:
                raise DynamoError("LimitExceededException", "Too many restores in progress: "
                                  f"at most {RESTORES_MAX} at a time")
            self.cluster.create_table(self.region, create)
            t = self.cluster.regions[self.region].tables[target]
            rep = t.replicas[self.region]
            clock = self.cluster.clocks[self.region]
            with rep.lock:
                rep.load({k: Version(item, clock.stamp(), self.region)
                          for k, item in items.items()})
            t.settings.restore = dict(summary)
            restoring = self.wait_s("table_restore")
            if restoring > 0:
                now = time.monotonic()
                t.creating_until[self.region] = max(t.creating_until.get(self.region, now),
                                                    t.visible_at.get(self.region, now)) + restoring
            return {"TableDescription": t.describe(self.region)}


def operations(cluster: Cluster, region: str,
               named: Callable[[Any], GlobalTable]) -> dict[str, Callable[[dict], dict]]:
    """Every backup, PITR, restore, export, import and resource-policy operation of
    `region`, by name (RegionService adds them to its own)."""
    from emulator import resource_policies
    from emulator.import_export import TransferService
    backups = BackupService(cluster, region, named)
    return {**backups.operations(), **TransferService(backups).operations(),
            **resource_policies.operations(cluster, region)}
