"""scripts/moto_suite.py's own parts, without downloading moto: outcomes read from the
plugin's records, failure causes, the recording proxy in front of a real emulator, and
the docs/fidelity.md section rendered from its JSON."""

import json

import boto3

from emulator import Deployment
from scripts import fidelity, moto_suite


def test_outcomes_take_the_worst_phase(tmp_path):
    f = tmp_path / "r.jsonl"
    rows = [("a", "setup", "passed", ""), ("a", "call", "passed", ""),
            ("a", "teardown", "passed", ""),
            ("b", "setup", "passed", ""), ("b", "call", "failed", "assert x == y"),
            ("c", "setup", "skipped", ""),
            ("d", "setup", "passed", ""), ("d", "call", "passed", ""),
            ("d", "teardown", "failed", "boom")]
    f.write_text("".join(json.dumps({"id": i, "when": w, "outcome": o, "text": t}) + "\n"
                         for i, w, o, t in rows))
    out = moto_suite.outcomes(f)
    assert {k: v["outcome"] for k, v in out.items()} == {
        "a": "passed", "b": "failed", "c": "skipped", "d": "failed"}
    assert out["b"]["text"] == "assert x == y"


def test_causes():
    assert moto_suite.cause_of("ValidationException: The table does not have the specified "
                               "index: idx") == "secondary indexes (GSI/LSI)"
    assert moto_suite.cause_of("Can not use both expression and non-expression parameters"
                               " in the same request: Non-expression parameters: {ScanFilter}") \
        == "legacy parameters"
    assert moto_suite.cause_of("Unknown operation: ExecuteStatement") == "PartiQL"
    assert moto_suite.cause_of("KeyError: 'x'") == "other"


def test_proxy_records_services_per_test_and_resets_the_emulator():
    with Deployment(["us-east-1", "eu-west-1"], latency_scale=0.0, seed=1) as d:
        proxy = moto_suite.Proxy(d.endpoint, reset=moto_suite.emulator_reset(d)).start()
        try:
            import urllib.request
            urllib.request.urlopen(proxy.url + moto_suite.MARK_PATH + "?id=t1", data=b"",
                                   timeout=10).read()
            c = boto3.client("dynamodb", endpoint_url=proxy.url, region_name="eu-west-1",
                             aws_access_key_id="x", aws_secret_access_key="x")
            c.create_table(TableName="moto-proxy", BillingMode="PAY_PER_REQUEST",
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
            assert c.list_tables()["TableNames"] == ["moto-proxy"]
            # A protected table with PITR and a backup: the reset leaves nothing behind.
            c.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                           DeletionProtectionEnabled=True,
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
            c.update_continuous_backups(TableName="kept", PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True})
            c.create_backup(TableName="kept", BackupName="bk1")
            urllib.request.urlopen(proxy.url + "/moto-api/reset", data=b"", timeout=10).read()
            assert c.list_tables()["TableNames"] == []
            assert c.list_backups(BackupType="ALL")["BackupSummaries"] == []
            assert proxy.services == {"t1": {"dynamodb"}}
        finally:
            proxy.server.stop()


def test_fidelity_renders_the_measurement(tmp_path):
    data = tmp_path / "moto_suite.json"
    assert fidelity.moto_suite_section(data) == []
    data.write_text(json.dumps({
        "moto_version": "5.2.4", "command": "python -m scripts.moto_suite --write",
        "measured": "2026-12-06", "tests": 700, "passed_on_moto_server": 690,
        "applicable": 500, "passed": 450, "failure_causes": {"PartiQL": 30, "other": 20}}))
    text = "\n".join(fidelity.moto_suite_section(data))
    assert "**450 of 500 applicable tests pass (90.0%).**" in text
    assert "| PartiQL | 30 |" in text and "python -m scripts.moto_suite --write" in text
