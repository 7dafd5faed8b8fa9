"""Malformed requests to the backup, PITR, restore, export/import, resource-policy and
table-settings operations: every answer is 200 or a 400 naming a service error, never a
500 (emulator/backups.py, import_export.py, resource_policies.py, table_settings.py).

Hypothesis (derandomized: the run is reproducible) builds requests whose every parameter
may be of the right shape, of a wrong type, or absent, and sends them raw over HTTP."""

import http.client
import json
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ERRORS = {"ValidationException", "SerializationException", "ResourceNotFoundException",
          "ResourceInUseException", "LimitExceededException", "TableNotFoundException",
          "BackupNotFoundException", "BackupInUseException", "TableAlreadyExistsException",
          "PointInTimeRecoveryUnavailableException", "InvalidRestoreTimeException",
          "InvalidExportTimeException", "ExportNotFoundException", "ImportNotFoundException",
          "PolicyNotFoundException"}
ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/items"
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False), st.text(max_size=8),
                    st.sampled_from(["items", ARN, ARN + "/backup/0-0", "USER", "ALL",
                                     "PROVISIONED", "PAY_PER_REQUEST", "NO_POLICY", "{}"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
PARAMS = ["TableName", "BackupName", "BackupArn", "TargetTableName", "SourceTableName",
          "SourceTableArn", "RestoreDateTime", "UseLatestRestorableTime", "BackupType", "Limit",
          "TimeRangeLowerBound", "ExclusiveStartBackupArn", "BillingModeOverride",
          "ProvisionedThroughputOverride", "SSESpecificationOverride",
          "PointInTimeRecoverySpecification", "TableArn", "S3Bucket", "ExportTime", "ExportArn",
          "ExportFormat", "MaxResults", "NextToken", "S3BucketSource", "InputFormat",
          "TableCreationParameters", "ImportArn", "PageSize", "ResourceArn", "Policy",
          "ExpectedRevisionId", "BillingMode", "ProvisionedThroughput", "WarmThroughput",
          "SSESpecification", "DeletionProtectionEnabled", "StreamSpecification"]
shaped = {
    "PointInTimeRecoverySpecification": st.fixed_dictionaries({}, optional={
        "PointInTimeRecoveryEnabled": scalars, "RecoveryPeriodInDays": scalars}),
    "ProvisionedThroughput": st.fixed_dictionaries({}, optional={
        "ReadCapacityUnits": scalars, "WriteCapacityUnits": scalars}),
    "WarmThroughput": st.fixed_dictionaries({}, optional={
        "ReadUnitsPerSecond": scalars, "WriteUnitsPerSecond": scalars}),
    "SSESpecification": st.fixed_dictionaries({}, optional={
        "Enabled": scalars, "SSEType": scalars, "KMSMasterKeyId": scalars}),
    "S3BucketSource": st.fixed_dictionaries({}, optional={"S3Bucket": scalars}),
    "TableCreationParameters": st.fixed_dictionaries({}, optional={
        "TableName": scalars, "KeySchema": values, "AttributeDefinitions": values,
        "BillingMode": scalars, "ProvisionedThroughput": values}),
}
requests = st.fixed_dictionaries({}, optional={
    p: st.one_of(shaped[p], values) if p in shaped else values for p in PARAMS})
OPS = ["CreateBackup", "DescribeBackup", "ListBackups", "DeleteBackup",
       "RestoreTableFromBackup", "RestoreTableToPointInTime", "UpdateContinuousBackups",
       "DescribeContinuousBackups", "ExportTableToPointInTime", "DescribeExport", "ListExports",
       "ImportTable", "DescribeImport", "ListImports", "PutResourcePolicy",
       "GetResourcePolicy", "DeleteResourcePolicy", "CreateTable", "UpdateTable"]


@pytest.fixture(scope="module")
def conn(single, ddb):
    """A keep-alive connection to the module's one-region emulator (conftest.py), whose
    table `items` has PITR enabled."""
    ddb.update_continuous_backups(TableName="items", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    u = urlparse(single.endpoints["us-east-1"])
    h = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    yield h
    h.close()


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@pytest.mark.slow
@given(op=st.sampled_from(OPS), req=requests)
def test_malformed_requests_get_service_errors(conn, op, req):
    conn.request("POST", "/", body=json.dumps(req).encode(), headers={
        "X-Amz-Target": f"DynamoDB_20120810.{op}", "Content-Type": "application/x-amz-json-1.0"})
    resp = conn.getresponse()
    payload = resp.read()
    assert resp.status in (200, 400), (op, req, resp.status, payload[:300])
    if resp.status == 400:
        answer = json.loads(payload)
        assert answer["__type"].rsplit("#", 1)[1] in ERRORS, (op, req, answer)
        assert isinstance(answer["message"], str) and answer["message"]
