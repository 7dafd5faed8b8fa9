"""A table's settings: capacity mode and provisioned throughput, warm throughput, encryption
at rest, deletion protection, and where a restored table came from.

None of these change what a read or a write does in the emulator (it has no throttling), but
clients provision with them and read them back, so CreateTable, UpdateTable and DescribeTable
handle them as the DynamoDB API reference documents:

- `BillingMode` PROVISIONED (the default) needs `ProvisionedThroughput` (both units, each at
  least 1); PAY_PER_REQUEST refuses it. DescribeTable shows `ProvisionedThroughput` (0 and 0
  for on-demand tables) with `NumberOfDecreasesToday`, and `BillingModeSummary`. UpdateTable
  switches the mode and changes the units; a request that would change nothing is refused
  ("The provisioned throughput for the table will not change").
- `WarmThroughput` (DescribeTable's `TableWarmThroughputDescription`): a new table starts at
  12,000 read and 4,000 write units per second ("Understanding DynamoDB warm throughput",
  the on-demand scenario), raised to its provisioned units when those are higher; a
  request may raise it, never lower it. After an UpdateTable that raises it, its status is
  UPDATING for the control plane's `warm_throughput` time, then ACTIVE. A change of capacity
  mode, throughput or encryption makes the table UPDATING for its `table_update` time
  (UpdateTable is refused meanwhile, ResourceInUseException, as for replica changes).
- `SSESpecification` Enabled: encryption with a KMS key, shown as `SSEDescription` (Status
  ENABLED, SSEType KMS, KMSMasterKeyArn: the AWS managed key of the region, or the key
  given, as an ARN). Without it (or Enabled false) the table uses an AWS owned key and
  DescribeTable shows no `SSEDescription`.
- `DeletionProtectionEnabled`: DeleteTable refuses a protected table (ValidationException).
- `RestoreSummary` of a table made by RestoreTableFromBackup / RestoreTableToPointInTime
  (emulator/backups.py), `RestoreInProgress` while the table is CREATING.

The settings belong to the table (one value for all its replicas); `parse_create` and
`apply_update` are pure apart from the object they return or change, and `description`
builds DescribeTable's fields.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from emulator.errors import DynamoError, validation

# "New on-demand tables will be able to sustain up to 4,000 writes per second and 12,000
# reads per second" (Developer Guide, pre-warming; warm throughput scenarios).
WARM_READ_DEFAULT = 12_000
WARM_WRITE_DEFAULT = 4_000
UNITS_MAX = 10**15  # a limit on everything (the API's Long members)
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")


def _serial() -> DynamoError:
    return DynamoError("SerializationException", "Unexpected value type in payload")


def _units(spec: dict, name: str, where: str) -> int:
    v = spec.get(name)
    member = f"{where}.{name[0].lower()}{name[1:]}"
    if v is None:
        raise validation(f"1 validation error detected: Value null at '{member}' failed to "
                         "satisfy constraint: Member must not be null")
    if isinstance(v, bool) or not isinstance(v, int):
        raise _serial()
    if not 1 <= v <= UNITS_MAX:
        raise validation(f"1 validation error detected: Value '{v}' at '{member}' failed to "
                         "satisfy constraint: Member must have value greater than or equal to 1")
    return v


def _billing(req: dict) -> str | None:
    billing = req.get("BillingMode")
    if billing is not None and billing not in BILLING_MODES:
        raise validation(f"1 validation error detected: Value '{billing}' at 'billingMode' "
                         "failed to satisfy constraint: Member must satisfy enum value set: "
                         "[PROVISIONED, PAY_PER_REQUEST]")
    return billing


def _throughput(req: dict) -> tuple[int, int] | None:
    spec = req.get("ProvisionedThroughput")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _serial()
    return (_units(spec, "ReadCapacityUnits", "provisionedThroughput"),
            _units(spec, "WriteCapacityUnits", "provisionedThroughput"))


def _flag(req: dict, name: str) -> bool | None:
    v = req.get(name)
    if v is not None and not isinstance(v, bool):
        raise _serial()
    return v


def kms_key_arn(region: str, account: str, key_id: str | None) -> str:
    """The ARN DescribeTable shows for a table's KMS key: the given key (an ARN as given, a
    key id or alias name made into an ARN; the emulator has no KMS to resolve aliases), or
    the region's AWS managed key for DynamoDB (aws/dynamodb), a fixed id per region."""
    if key_id is None:
        managed = uuid.uuid5(uuid.NAMESPACE_URL, f"gtcheck:{region}:alias/aws/dynamodb")
        return f"arn:aws:kms:{region}:{account}:key/{managed}"
    if key_id.startswith("arn:"):
        return key_id
    resource = key_id if key_id.startswith("alias/") else f"key/{key_id}"
    return f"arn:aws:kms:{region}:{account}:{resource}"


def _sse(req: dict, region: str, account: str) -> dict | None:
    spec = req.get("SSESpecification")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _serial()
    enabled = _flag(spec, "Enabled")
    sse_type = spec.get("SSEType", "KMS")
    if sse_type not in ("AES256", "KMS"):
        raise validation(f"1 validation error detected: Value '{sse_type}' at "
                         "'sSESpecification.sSEType' failed to satisfy constraint: Member must "
                         "satisfy enum value set: [AES256, KMS]")
    key = spec.get("KMSMasterKeyId")
    if key is not None and not isinstance(key, str):
        raise _serial()
    if not enabled:
        if key is not None:
            raise validation("One or more parameter values were invalid: KMSMasterKeyId can "
                             "only be specified when SSE is enabled")
        return {}  # an AWS owned key: no SSEDescription
    return {"Status": "ENABLED", "SSEType": "KMS",
            "KMSMasterKeyArn": kms_key_arn(region, account, key)}


def _warm(req: dict) -> tuple[int | None, int | None] | None:
    spec = req.get("WarmThroughput")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _serial()
    out = []
    for name in ("ReadUnitsPerSecond", "WriteUnitsPerSecond"):
        out.append(None if spec.get(name) is None else _units(spec, name, "warmThroughput"))
    if out == [None, None]:
        raise validation("One or more parameter values were invalid: WarmThroughput needs "
                         "ReadUnitsPerSecond or WriteUnitsPerSecond")
    return out[0], out[1]


@dataclass
class TableSettings:
    """What CreateTable / UpdateTable set and DescribeTable shows, beyond keys and replicas."""

    billing: str = "PROVISIONED"
    read_units: int = 0
    write_units: int = 0
    decreases_today: int = 0
    last_increase: float | None = None
    last_decrease: float | None = None
    to_on_demand_at: float | None = None  # last switch to PAY_PER_REQUEST (epoch seconds)
    warm_read: int = WARM_READ_DEFAULT
    warm_write: int = WARM_WRITE_DEFAULT
    warm_updating_until: float = 0.0  # monotonic
    sse: dict | None = None
    deletion_protection: bool = False
    restore: dict | None = None  # RestoreSummary without RestoreInProgress
    updating_until: float = 0.0  # monotonic: the table is UPDATING (capacity, SSE changes)

    def description(self, restoring: bool) -> dict:
        """DescribeTable's fields for these settings (`restoring`: the restored table is
        still CREATING)."""
        pt: dict[str, Any] = {"NumberOfDecreasesToday": self.decreases_today,
                              "ReadCapacityUnits": self.read_units,
                              "WriteCapacityUnits": self.write_units}
        if self.last_increase is not None:
            pt["LastIncreaseDateTime"] = self.last_increase
        if self.last_decrease is not None:
            pt["LastDecreaseDateTime"] = self.last_decrease
        summary: dict[str, Any] = {"BillingMode": self.billing}
        if self.to_on_demand_at is not None and self.billing == "PAY_PER_REQUEST":
            summary["LastUpdateToPayPerRequestDateTime"] = self.to_on_demand_at
        out: dict[str, Any] = {
            "ProvisionedThroughput": pt,
            "BillingModeSummary": summary,
            "DeletionProtectionEnabled": self.deletion_protection,
            "WarmThroughput": {
                "ReadUnitsPerSecond": self.warm_read, "WriteUnitsPerSecond": self.warm_write,
                "Status": "UPDATING" if self.warm_updating_until > time.monotonic()
                else "ACTIVE"},
        }
        if self.sse:
            out["SSEDescription"] = dict(self.sse)
        if self.restore is not None:
            out["RestoreSummary"] = {**self.restore, "RestoreInProgress": restoring}
        return out

    def check_deletable(self, name: str) -> None:
        if self.deletion_protection:
            raise validation(f"1 validation error detected: Table '{name}' can't be deleted "
                             "while DeletionProtectionEnabled is set to True")


def _no_lower_warm(s: TableSettings, warm: tuple[int | None, int | None], than: str) -> None:
    """ValidationException when `warm` asks for less than `s` has (`than` words the
    baseline, "{}" standing for its value): warm throughput is only ever raised."""
    for asked, cur, name in ((warm[0], s.warm_read, "ReadUnitsPerSecond"),
                             (warm[1], s.warm_write, "WriteUnitsPerSecond")):
        if asked is not None and asked < cur:
            raise validation(f"One or more parameter values were invalid: Requested {name} for "
                             f"WarmThroughput for table is lower than {than.format(cur)}")


def _set_warm(s: TableSettings, warm: tuple[int | None, int | None]) -> None:
    s.warm_read = warm[0] if warm[0] is not None else s.warm_read
    s.warm_write = warm[1] if warm[1] is not None else s.warm_write


def parse_create(req: dict, region: str, account: str) -> TableSettings:
    """The settings of a CreateTable request; ValidationException / SerializationException
    as the service answers a bad one."""
    billing = _billing(req) or "PROVISIONED"
    units = _throughput(req)
    if billing == "PROVISIONED" and units is None:
        raise validation("One or more parameter values were invalid: ReadCapacityUnits and "
                         "WriteCapacityUnits must both be specified when BillingMode is "
                         "PROVISIONED")
    if billing == "PAY_PER_REQUEST" and units is not None:
        raise validation("ProvisionedThroughput cannot be specified when BillingMode is "
                         "PAY_PER_REQUEST")
    s = TableSettings(billing=billing)
    if units is not None:
        s.read_units, s.write_units = units
        s.warm_read, s.warm_write = max(WARM_READ_DEFAULT, units[0]), max(WARM_WRITE_DEFAULT,
                                                                          units[1])
    warm = _warm(req)
    if warm is not None:
        _no_lower_warm(s, warm, "initial throughput for OnDemand" if billing == "PAY_PER_REQUEST"
                       else "the table's initial warm throughput ({})")
        _set_warm(s, warm)
    s.sse = _sse(req, region, account) or None
    s.deletion_protection = bool(_flag(req, "DeletionProtectionEnabled"))
    return s


def apply_update(s: TableSettings, req: dict, region: str, account: str,
                 wait_s: Callable[[str], float]) -> bool:
    """Apply an UpdateTable request's settings to `s` (validated first, so a refused request
    changes nothing); True when it named any. `wait_s(kind)` is the control plane's time
    for a change of that kind (emulator/control_plane.py)."""
    billing = _billing(req)
    units = _throughput(req)
    warm = _warm(req)
    sse = _sse(req, region, account)
    protect = _flag(req, "DeletionProtectionEnabled")
    target = billing or s.billing
    if target == "PAY_PER_REQUEST" and units is not None:
        raise validation("One or more parameter values were invalid: Neither ReadCapacityUnits "
                         "nor WriteCapacityUnits can be specified when BillingMode is "
                         "PAY_PER_REQUEST")
    if target == "PROVISIONED" and s.billing != "PROVISIONED" and units is None:
        raise validation("One or more parameter values were invalid: ReadCapacityUnits and "
                         "WriteCapacityUnits must both be specified when BillingMode is "
                         "PROVISIONED")
    if (units is not None and target == s.billing == "PROVISIONED"
            and units == (s.read_units, s.write_units)):
        raise validation(
            "The provisioned throughput for the table will not change. The requested value "
            "equals the current value. Current ReadCapacityUnits provisioned for the table: "
            f"{s.read_units}. Requested ReadCapacityUnits: {units[0]}. Current "
            f"WriteCapacityUnits provisioned for the table: {s.write_units}. Requested "
            f"WriteCapacityUnits: {units[1]}. Refer to the Amazon DynamoDB Developer Guide for "
            "current limits and how to request higher limits.")
    if warm is not None:
        _no_lower_warm(s, warm, "the table's current warm throughput ({}); warm throughput can "
                       "only be increased")
    now = time.time()
    if billing is not None and billing != s.billing:
        s.billing = billing
        if billing == "PAY_PER_REQUEST":
            s.read_units = s.write_units = 0
            s.to_on_demand_at = now
    if units is not None:
        if s.billing == "PROVISIONED" and s.read_units:  # a change, not a mode switch
            if units[0] < s.read_units or units[1] < s.write_units:
                s.decreases_today += 1
                s.last_decrease = now
            if units[0] > s.read_units or units[1] > s.write_units:
                s.last_increase = now
        s.read_units, s.write_units = units
        # Provisioning above the warm throughput raises it (warm throughput scenarios).
        s.warm_read, s.warm_write = max(s.warm_read, units[0]), max(s.warm_write, units[1])
    if warm is not None:
        _set_warm(s, warm)
        s.warm_updating_until = time.monotonic() + wait_s("warm_throughput")
    if sse is not None:
        s.sse = sse or None
    if protect is not None:
        s.deletion_protection = protect
    if billing is not None or units is not None or sse is not None:
        s.updating_until = time.monotonic() + wait_s("table_update")
    return any(x is not None for x in (billing, units, warm, sse, protect))


SETTINGS = ("BillingMode", "ProvisionedThroughput", "WarmThroughput", "SSESpecification",
            "DeletionProtectionEnabled")


def names_settings(req: dict) -> bool:
    """True when an UpdateTable request changes any of these settings."""
    return any(req.get(k) is not None for k in SETTINGS)
