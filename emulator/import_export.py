"""Export to and import from Amazon S3, in an emulator that has no S3.

ExportTableToPointInTime, DescribeExport, ListExports, ImportTable, DescribeImport and
ListImports are served as the DynamoDB API reference documents them, with one fact of this
deployment: there is no S3 here, so no bucket exists. An export (of a table with PITR
enabled, at a time inside its restorable window: emulator/backups.py) or an import (whose
TableCreationParameters pass CreateTable's own validation, for a table that does not exist
yet) is accepted IN_PROGRESS and ends FAILED with FailureCode `S3NoSuchBucket` ("The
specified bucket does not exist"), after the AWS-like control plane's `export` time (at
once without it). A failed import creates no table. Clients therefore see the whole
control-plane conversation -- validation, ARNs, status polling, listing -- without any data
leaving the emulator.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Callable

from emulator.backups import _limit, _serial, _string, _table_not_found, _time, suffix
from emulator.cluster import ACCOUNT, _schema, check_table_name
from emulator.errors import DynamoError, validation
from emulator.table_settings import parse_create

if TYPE_CHECKING:
    from emulator.backups import BackupService

NO_BUCKET = ("S3NoSuchBucket", "The specified bucket does not exist")
_BUCKET = re.compile(r"[a-z0-9A-Z]+[.\-\w]*[a-z0-9A-Z]+")  # the API's S3Bucket pattern
TRANSFERS_MAX = 1000  # per region and kind: a limit on everything
PAGE_MAX = 25  # ListExports MaxResults, ListImports PageSize


def _bucket(spec: dict, member: str) -> str:
    b = _string(spec, "S3Bucket", member)
    assert b is not None
    if len(b) > 255 or not _BUCKET.fullmatch(b):
        raise validation(f"1 validation error detected: Value '{b}' at '{member}' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$")
    return b


def _enum(req: dict, name: str, member: str, allowed: tuple[str, ...],
          default: str | None = None) -> str | None:
    v = req.get(name, default)
    if v is not None and v not in allowed:
        raise validation(f"1 validation error detected: Value '{v}' at '{member}' failed to "
                         "satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(allowed)}]")
    return v


def _status(entry: dict, key: str, *, started: bool = False) -> dict:
    """`entry` with its status as of now (`started`: as the request that began it answers):
    IN_PROGRESS until it fails for want of a bucket."""
    out = {k: v for k, v in entry.items() if not k.startswith("_")}
    if started or time.monotonic() < entry["_done_at"]:
        out[key] = "IN_PROGRESS"
    else:
        out[key] = "FAILED"
        out["FailureCode"], out["FailureMessage"] = NO_BUCKET
        out["EndTime"] = entry["_end_time"]
    return out


def _page(entries: list[dict], token: Any, size: int) -> tuple[list[dict], str | None]:
    if token is not None and not isinstance(token, str):
        raise _serial()
    start = 0
    if token is not None:
        if not token.isdigit() or int(token) > len(entries):
            raise validation(f"Invalid NextToken: {token}")
        start = int(token)
    page = entries[start:start + size]
    return page, (str(start + size) if start + size < len(entries) else None)


class TransferService:
    """The export and import operations of one region."""

    def __init__(self, backups: "BackupService") -> None:
        self.backups = backups
        self.region = backups.region
        self.vault = backups.vault

    def operations(self) -> dict[str, Callable[[dict], dict]]:
        return {"ExportTableToPointInTime": self.export_table,
                "DescribeExport": self.describe_export, "ListExports": self.list_exports,
                "ImportTable": self.import_table, "DescribeImport": self.describe_import,
                "ListImports": self.list_imports}

    def _timing(self, start: float) -> tuple[float, float]:
        """(monotonic time it fails, its EndTime) for a transfer started at epoch `start`."""
        wait = self.backups.wait_s("export")
        return time.monotonic() + wait, start + wait

    # ---- exports ---------------------------------------------------------------------
    def export_table(self, req: dict) -> dict:
        arn = _string(req, "TableArn", "tableArn")
        bucket = _bucket(req, "s3Bucket")
        fmt = _enum(req, "ExportFormat", "exportFormat", ("DYNAMODB_JSON", "ION"),
                    "DYNAMODB_JSON")
        kind = _enum(req, "ExportType", "exportType", ("FULL_EXPORT", "INCREMENTAL_EXPORT"),
                     "FULL_EXPORT")
        prefix = _string(req, "S3Prefix", "s3Prefix", required=False)
        token = _string(req, "ClientToken", "clientToken", required=False)
        when = _time(req, "ExportTime")
        assert arn is not None
        if not arn.startswith("arn:"):  # TableArn: a name is not accepted here
            raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        try:
            t = self.backups._named(arn)
        except DynamoError as e:
            if e.name == "ResourceNotFoundException":
                raise _table_not_found(arn) from None
            raise
        win = self.backups.window(t)
        if win is None:
            raise DynamoError("PointInTimeRecoveryUnavailableException",
                              f"Point in time recovery is not enabled for table '{t.name}'")
        now = time.time()
        if when is None:
            when = now
        elif not win[0] <= when <= now:
            raise DynamoError("InvalidExportTimeException", "Invalid export time: the time "
                              f"must be between {win[0]:.3f} and now (epoch seconds)")
        with self.vault.lock:
            if token is not None:
                for e in self.vault.exports.values():
                    if e.get("ClientToken") == token and e["TableArn"] == t.arn(self.region):
                        return {"ExportDescription": _status(e, "ExportStatus")}
            if len(self.vault.exports) >= TRANSFERS_MAX:
                raise DynamoError("LimitExceededException", "Too many exports in this region")
            export_arn = (f"{t.arn(self.region)}/export/"
                          f"{suffix(t.table_id, bucket, len(self.vault.exports))}")
            done_at, end_time = self._timing(now)
            entry = {"ExportArn": export_arn, "TableArn": t.arn(self.region),
                     "TableId": t.table_id, "ExportTime": when, "StartTime": now,
                     "S3Bucket": bucket, "ExportFormat": fmt, "ExportType": kind,
                     "_done_at": done_at, "_end_time": end_time}
            if prefix is not None:
                entry["S3Prefix"] = prefix
            if token is not None:
                entry["ClientToken"] = token
            self.vault.exports[export_arn] = entry
        return {"ExportDescription": _status(entry, "ExportStatus", started=True)}

    def _described(self, entries: dict[str, dict], req: dict, what: str) -> dict:
        """DescribeExport / DescribeImport: the `what` ("Export" / "Import") the ARN names."""
        arn = _string(req, f"{what}Arn", f"{what.lower()}Arn")
        e = entries.get(arn)  # type: ignore[arg-type]
        if e is None:
            raise DynamoError(f"{what}NotFoundException", f"{what} not found: {arn}")
        return _status(e, f"{what}Status")

    def _listed(self, entries: dict[str, dict], req: dict, size_name: str, what: str,
                keep: tuple[str, ...]) -> tuple[list[dict], str | None]:
        """ListExports / ListImports: one page of summaries (fields `keep`), next token."""
        table = _string(req, "TableArn", "tableArn", required=False)
        size = _limit(req, size_name, size_name[0].lower() + size_name[1:], PAGE_MAX)
        with self.vault.lock:
            found = [e for e in entries.values() if table is None or e["TableArn"] == table]
        page, token = _page(found, req.get("NextToken"), size)
        return [{k: v for k, v in _status(e, f"{what}Status").items() if k in keep}
                for e in page], token

    def describe_export(self, req: dict) -> dict:
        return {"ExportDescription": self._described(self.vault.exports, req, "Export")}

    def list_exports(self, req: dict) -> dict:
        page, token = self._listed(self.vault.exports, req, "MaxResults", "Export",
                                   ("ExportArn", "ExportStatus", "ExportType"))
        return {"ExportSummaries": page, **({"NextToken": token} if token else {})}

    # ---- imports ---------------------------------------------------------------------
    def import_table(self, req: dict) -> dict:
        source = req.get("S3BucketSource")
        if source is None:
            raise validation("1 validation error detected: Value null at 's3BucketSource' "
                             "failed to satisfy constraint: Member must not be null")
        if not isinstance(source, dict):
            raise _serial()
        bucket = _bucket(source, "s3BucketSource.s3Bucket")
        fmt = _enum(req, "InputFormat", "inputFormat", ("DYNAMODB_JSON", "ION", "CSV"))
        if fmt is None:
            raise validation("1 validation error detected: Value null at 'inputFormat' failed "
                             "to satisfy constraint: Member must not be null")
        compression = _enum(req, "InputCompressionType", "inputCompressionType",
                            ("GZIP", "ZSTD", "NONE"), "NONE")
        token = _string(req, "ClientToken", "clientToken", required=False)
        params = req.get("TableCreationParameters")
        if params is None:
            raise validation("1 validation error detected: Value null at "
                             "'tableCreationParameters' failed to satisfy constraint: Member "
                             "must not be null")
        if not isinstance(params, dict):
            raise _serial()
        # The table to be made is validated as CreateTable validates it.
        name = check_table_name(params.get("TableName"))
        _schema(params.get("KeySchema"), params.get("AttributeDefinitions"))
        parse_create(params, self.region, ACCOUNT)
        cluster = self.backups.cluster
        reg = cluster.regions[self.region]
        table_arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"
        with self.vault.lock:
            if name in reg.tables:
                raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
            if len(self.vault.imports) >= TRANSFERS_MAX:
                raise DynamoError("LimitExceededException", "Too many imports in this region")
            import_arn = f"{table_arn}/import/{suffix(name, bucket, len(self.vault.imports))}"
            now = time.time()
            done_at, end_time = self._timing(now)
            entry = {"ImportArn": import_arn, "TableArn": table_arn,
                     "S3BucketSource": dict(source), "InputFormat": fmt,
                     "InputCompressionType": compression, "TableCreationParameters": params,
                     "StartTime": now, "ImportedItemCount": 0,
                     "ProcessedItemCount": 0, "ErrorCount": 0,
                     "_done_at": done_at, "_end_time": end_time}
            if token is not None:
                entry["ClientToken"] = token
            self.vault.imports[import_arn] = entry
        return {"ImportTableDescription": _status(entry, "ImportStatus", started=True)}

    def describe_import(self, req: dict) -> dict:
        return {"ImportTableDescription": self._described(self.vault.imports, req, "Import")}

    def list_imports(self, req: dict) -> dict:
        page, token = self._listed(self.vault.imports, req, "PageSize", "Import",
                                   ("ImportArn", "ImportStatus", "TableArn", "S3BucketSource",
                                    "InputFormat", "StartTime", "EndTime"))
        return {"ImportSummaryList": page, **({"NextToken": token} if token else {})}
