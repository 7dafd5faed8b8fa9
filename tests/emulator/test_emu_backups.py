"""Backups, point-in-time recovery, restores, and export/import without S3, through boto3
over HTTP (emulator/backups.py, emulator/import_export.py)."""

import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.testing import clients, create_global_table, wait_until

KEY = [{"AttributeName": "id", "KeyType": "HASH"}]
DEFS = [{"AttributeName": "id", "AttributeType": "S"}]


@pytest.fixture
def ddb():
    with Deployment(["us-east-1", "us-east-2"], latency_scale=0.0, seed=7) as d:
        yield clients(d)["us-east-1"]


def make(c, name, **kw):
    kw.setdefault("ProvisionedThroughput", {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    return c.create_table(TableName=name, KeySchema=KEY, AttributeDefinitions=DEFS,
                          **kw)["TableDescription"]


def ids(c, table):
    return sorted(i["id"]["S"] for i in c.scan(TableName=table, ConsistentRead=True)["Items"])


def code(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def put(c, table, *keys):
    for k in keys:
        c.put_item(TableName=table, Item={"id": {"S": k}})


def test_backup_snapshot_restore_and_independence(ddb):
    src = make(ddb, "src")
    put(ddb, "src", "a", "b")
    details = ddb.create_backup(TableName="src", BackupName="first")["BackupDetails"]
    assert details["BackupArn"].startswith(src["TableArn"] + "/backup/")
    assert (details["BackupStatus"], details["BackupType"]) == ("AVAILABLE", "USER")
    put(ddb, "src", "c")  # after the backup: not in it
    desc = ddb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    source = desc["SourceTableDetails"]
    assert (source["TableName"], source["TableArn"], source["ItemCount"]) == ("src", src["TableArn"], 2)
    assert source["ProvisionedThroughput"] == {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    restored = ddb.restore_table_from_backup(TargetTableName="copy",
                                             BackupArn=details["BackupArn"])["TableDescription"]
    assert restored["RestoreSummary"]["SourceBackupArn"] == details["BackupArn"]
    assert restored["RestoreSummary"]["RestoreInProgress"] is False
    assert restored["KeySchema"] == KEY
    assert restored["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert ids(ddb, "copy") == ["a", "b"]
    put(ddb, "copy", "z")  # the restored table is its own table
    assert ids(ddb, "src") == ["a", "b", "c"] and ids(ddb, "copy") == ["a", "b", "z"]
    assert "RestoreSummary" in ddb.describe_table(TableName="copy")["Table"]
    # A backup outlives its table and still restores.
    ddb.delete_table(TableName="src")
    ddb.restore_table_from_backup(TargetTableName="again", BackupArn=details["BackupArn"])
    assert ids(ddb, "again") == ["a", "b"]


def test_backup_errors(ddb):
    make(ddb, "tbl")
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName="nope", BackupName="bk1")
    assert code(e) == ("TableNotFoundException", "Table not found: nope")
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName="tbl", BackupName="n/a")  # the API's name pattern
    assert code(e)[0] == "ValidationException" and "backupName" in code(e)[1]
    missing = "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/backup/01623095754481-2cfcd6f9"
    for call in (lambda: ddb.describe_backup(BackupArn=missing),
                 lambda: ddb.delete_backup(BackupArn=missing),
                 lambda: ddb.restore_table_from_backup(TargetTableName="x1x", BackupArn=missing)):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == ("BackupNotFoundException", f"Backup not found: {missing}")
    arn = ddb.create_backup(TableName="tbl", BackupName="bk1")["BackupDetails"]["BackupArn"]
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName="tbl", BackupArn=arn)
    assert code(e) == ("TableAlreadyExistsException", "Table already exists: tbl")


def test_list_and_delete_backups(ddb):
    arn = make(ddb, "one")["TableArn"]
    make(ddb, "two")
    for t in ("one", "two"):
        for n in ("bk-1", "bk-2"):
            ddb.create_backup(TableName=t, BackupName=n)
    assert len(ddb.list_backups()["BackupSummaries"]) == 4  # USER is the default
    assert ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"] == []
    by_arn = ddb.list_backups(TableName=arn)["BackupSummaries"]
    assert [b["TableName"] for b in by_arn] == ["one", "one"]
    assert ddb.list_backups(TableName="absent")["BackupSummaries"] == []
    page = ddb.list_backups(Limit=3)
    rest = ddb.list_backups(Limit=3, ExclusiveStartBackupArn=page["LastEvaluatedBackupArn"])
    assert len(page["BackupSummaries"]) == 3 and len(rest["BackupSummaries"]) == 1
    assert "LastEvaluatedBackupArn" not in rest
    first = page["BackupSummaries"][0]
    when = first["BackupCreationDateTime"]
    assert ddb.list_backups(TimeRangeUpperBound=when - timedelta(seconds=1))[
        "BackupSummaries"] == []
    assert len(ddb.list_backups(TimeRangeLowerBound=when - timedelta(seconds=1))[
        "BackupSummaries"]) == 4
    gone = ddb.delete_backup(BackupArn=first["BackupArn"])["BackupDescription"]
    assert gone["BackupDetails"]["BackupStatus"] == "DELETED"
    assert len(ddb.list_backups()["BackupSummaries"]) == 3


def test_continuous_backups_settings(ddb):
    ddb.create_table(TableName="pitr", KeySchema=KEY, AttributeDefinitions=DEFS,
                     BillingMode="PAY_PER_REQUEST")
    off = {"ContinuousBackupsStatus": "ENABLED",
           "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    assert ddb.describe_continuous_backups(TableName="pitr")["ContinuousBackupsDescription"] == off
    on = ddb.update_continuous_backups(
        TableName="pitr", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 10})
    p = on["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert p["PointInTimeRecoveryStatus"] == "ENABLED" and p["RecoveryPeriodInDays"] == 10
    assert p["EarliestRestorableDateTime"] <= p["LatestRestorableDateTime"]
    again = ddb.update_continuous_backups(TableName="pitr", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert again["EarliestRestorableDateTime"] == p["EarliestRestorableDateTime"]
    assert again["RecoveryPeriodInDays"] == 10  # unchanged when not given
    disabled = ddb.update_continuous_backups(TableName="pitr", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})
    assert disabled["ContinuousBackupsDescription"] == off
    for call in (lambda: ddb.describe_continuous_backups(TableName="nope"),
                 lambda: ddb.update_continuous_backups(
                     TableName="nope",
                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == ("TableNotFoundException", "Table not found: nope")
    with pytest.raises(ClientError) as e:
        ddb.update_continuous_backups(TableName="pitr", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36})
    assert code(e)[0] == "ValidationException"


def test_point_in_time_restore_undoes_later_changes(ddb):
    make(ddb, "live")
    put(ddb, "live", "before")
    with pytest.raises(ClientError) as e:  # PITR not enabled yet
        ddb.restore_table_to_point_in_time(SourceTableName="live", TargetTableName="old",
                                           UseLatestRestorableTime=True)
    assert code(e)[0] == "PointInTimeRecoveryUnavailableException"
    ddb.update_continuous_backups(TableName="live", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    put(ddb, "live", "a", "b")
    time.sleep(0.02)
    t_mid = time.time()
    time.sleep(0.02)
    put(ddb, "live", "c")
    ddb.update_item(TableName="live", Key={"id": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName="live", Key={"id": {"S": "b"}})
    restored = ddb.restore_table_to_point_in_time(
        SourceTableName="live", TargetTableName="mid", RestoreDateTime=t_mid)["TableDescription"]
    assert restored["RestoreSummary"]["SourceTableArn"].endswith(":table/live")
    assert ids(ddb, "mid") == ["a", "b", "before"]
    item = ddb.get_item(TableName="mid", Key={"id": {"S": "a"}}, ConsistentRead=True)["Item"]
    assert "v" not in item  # the later update undone
    latest = ddb.restore_table_to_point_in_time(
        SourceTableArn=ddb.describe_table(TableName="live")["Table"]["TableArn"],
        TargetTableName="now", UseLatestRestorableTime=True)
    assert latest["TableDescription"]["TableName"] == "now"
    assert ids(ddb, "now") == ["a", "before", "c"]
    with pytest.raises(ClientError) as e:  # before PITR was enabled
        ddb.restore_table_to_point_in_time(SourceTableName="live", TargetTableName="too-old",
                                           RestoreDateTime=t_mid - 3600)
    assert code(e)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="live", TargetTableName="mid",
                                           UseLatestRestorableTime=True)
    assert code(e) == ("TableAlreadyExistsException", "Table already exists: mid")
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="ghost", TargetTableName="t-x",
                                           UseLatestRestorableTime=True)
    assert code(e) == ("TableNotFoundException", "Table not found: ghost")


def test_restore_of_a_global_table_replica_is_a_standalone_table():
    with Deployment(["us-east-1", "us-east-2"], latency_scale=0.0, seed=3) as d:
        cs = create_global_table(d, "glob")
        east2 = cs["us-east-2"]
        east2.put_item(TableName="glob", Item={"pk": {"S": "k"}})
        arn = east2.create_backup(TableName="glob", BackupName="bk2")["BackupDetails"]["BackupArn"]
        assert ":us-east-2:" in arn
        t = east2.restore_table_from_backup(TargetTableName="solo", BackupArn=arn)["TableDescription"]
        assert "Replicas" not in t
        assert east2.get_item(TableName="solo", Key={"pk": {"S": "k"}},
                              ConsistentRead=True)["Item"] == {"pk": {"S": "k"}}
        assert "solo" not in cs["us-east-1"].list_tables()["TableNames"]
        with pytest.raises(ClientError) as e:  # a backup belongs to its region
            cs["us-east-1"].describe_backup(BackupArn=arn)
        assert code(e)[0] == "BackupNotFoundException"


def test_control_plane_makes_backups_and_restores_take_time():
    with Deployment(["us-east-1"], latency_scale=0.0, seed=11, control_plane_scale=0.05) as d:
        c = clients(d)["us-east-1"]
        # A backup takes 3 s here, so the next request surely finds it CREATING, however
        # loaded the machine (the other waits keep the default ranges).
        d.cluster.control_plane.times_s["backup_create"] = (60.0, 60.0)
        make(c, "slow")
        wait_until(lambda: _status(c, "slow") == "ACTIVE", timeout_s=30, what="slow ACTIVE")
        put(c, "slow", "x")
        b = c.create_backup(TableName="slow", BackupName="bk3")["BackupDetails"]
        assert b["BackupStatus"] == "CREATING"
        with pytest.raises(ClientError) as e:
            c.restore_table_from_backup(TargetTableName="fast", BackupArn=b["BackupArn"])
        assert code(e)[0] == "BackupInUseException"
        wait_until(lambda: c.describe_backup(BackupArn=b["BackupArn"])["BackupDescription"][
            "BackupDetails"]["BackupStatus"] == "AVAILABLE", timeout_s=30, what="AVAILABLE")
        t = c.restore_table_from_backup(TargetTableName="fast",
                                        BackupArn=b["BackupArn"])["TableDescription"]
        assert t["TableStatus"] == "CREATING" and t["RestoreSummary"]["RestoreInProgress"] is True
        assert "fast" in c.list_tables()["TableNames"]
        wait_until(lambda: _status(c, "fast") == "ACTIVE", timeout_s=60, what="restored ACTIVE")
        assert c.describe_table(TableName="fast")["Table"]["RestoreSummary"][
            "RestoreInProgress"] is False
        # PITR's latest restorable time lags the clock by 5 minutes times the scale (15 s).
        c.update_continuous_backups(TableName="slow", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        put(c, "slow", "y")
        p = c.describe_continuous_backups(TableName="slow")["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]
        assert p["LatestRestorableDateTime"] == p["EarliestRestorableDateTime"]


def _status(c, name):
    try:
        return c.describe_table(TableName=name)["Table"]["TableStatus"]
    except c.exceptions.ResourceNotFoundException:
        return None


def test_export_without_s3_fails_for_want_of_a_bucket(ddb):
    arn = make(ddb, "exp")["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="bucket-a")
    assert code(e)[0] == "PointInTimeRecoveryUnavailableException"
    missing = arn.replace("table/exp", "table/nothere")
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=missing, S3Bucket="bucket-a")
    assert code(e) == ("TableNotFoundException", f"Table not found: {missing}")
    ddb.update_continuous_backups(TableName="exp", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="bucket-a",
                                                S3Prefix="p")["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS" and started["TableArn"] == arn
    assert "FailureCode" not in started
    done = ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]
    assert (done["ExportStatus"], done["FailureCode"]) == ("FAILED", "S3NoSuchBucket")
    assert "The specified bucket does not exist" in done["FailureMessage"]
    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert [x["ExportArn"] for x in listed] == [started["ExportArn"]]
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn=started["ExportArn"] + "0")
    assert code(e)[0] == "ExportNotFoundException"


def test_import_without_s3_fails_and_creates_no_table(ddb):
    params = {"TableName": "imported", "KeySchema": KEY, "AttributeDefinitions": DEFS,
              "BillingMode": "PAY_PER_REQUEST"}
    started = ddb.import_table(S3BucketSource={"S3Bucket": "bucket-b"},
                               InputFormat="DYNAMODB_JSON",
                               TableCreationParameters=params)["ImportTableDescription"]
    assert started["ImportStatus"] == "IN_PROGRESS"
    assert started["TableArn"].endswith(":table/imported")
    done = ddb.describe_import(ImportArn=started["ImportArn"])["ImportTableDescription"]
    assert (done["ImportStatus"], done["FailureCode"]) == ("FAILED", "S3NoSuchBucket")
    assert "imported" not in ddb.list_tables()["TableNames"]
    assert [x["ImportArn"] for x in ddb.list_imports()["ImportSummaryList"]] == [
        started["ImportArn"]]
    with pytest.raises(ClientError) as e:  # CreateTable's own validation
        ddb.import_table(S3BucketSource={"S3Bucket": "bucket-b"}, InputFormat="CSV",
                         TableCreationParameters={**params, "BillingMode": "PROVISIONED"})
    assert code(e) == ("ValidationException", "One or more parameter values were invalid: "
                       "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                       "BillingMode is PROVISIONED")
    make(ddb, "taken")
    with pytest.raises(ClientError) as e:
        ddb.import_table(S3BucketSource={"S3Bucket": "bucket-b"}, InputFormat="ION",
                         TableCreationParameters={**params, "TableName": "taken"})
    assert code(e) == ("ResourceInUseException", "Table already exists: taken")
    with pytest.raises(ClientError) as e:
        ddb.describe_import(ImportArn=started["ImportArn"] + "0")
    assert code(e)[0] == "ImportNotFoundException"


def test_deleting_a_table_with_pitr_leaves_a_system_backup(ddb):
    make(ddb, "doomed")
    make(ddb, "plain")
    put(ddb, "doomed", "keep-me")
    ddb.update_continuous_backups(TableName="doomed", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    ddb.delete_table(TableName="doomed")
    ddb.delete_table(TableName="plain")  # no PITR: no system backup
    assert ddb.list_backups()["BackupSummaries"] == []  # USER only by default
    system = ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"]
    assert [(b["TableName"], b["BackupName"], b["BackupType"]) for b in system] == [
        ("doomed", "doomed$DeletedTableBackup", "SYSTEM")]
    assert ddb.list_backups(BackupType="ALL")["BackupSummaries"] == system
    details = ddb.describe_backup(BackupArn=system[0]["BackupArn"])["BackupDescription"][
        "BackupDetails"]
    expiry = details["BackupExpiryDateTime"] - details["BackupCreationDateTime"]
    assert expiry.days == 35
    ddb.restore_table_from_backup(TargetTableName="revived", BackupArn=system[0]["BackupArn"])
    assert ids(ddb, "revived") == ["keep-me"]
