"""Helpers for tests of the AWS code path against the emulator: the environment a user
would set (AWS_ENDPOINT_URL and credentials; dummy ones, never real AWS), and a look at
every region's tables through the all-regions endpoint."""

from __future__ import annotations

import os

import boto3

DUMMY = {"AWS_ACCESS_KEY_ID": "gtcheck-test", "AWS_SECRET_ACCESS_KEY": "gtcheck-test",
         "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
         "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


def aws_env(endpoint: str) -> dict[str, str]:
    """os.environ for a subprocess: every AWS call goes to `endpoint` (127.0.0.1)."""
    assert endpoint.startswith("http://127.0.0.1:"), endpoint
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") or k in ("AWS_ENDPOINT_URL",)}
    env.update(DUMMY, AWS_ENDPOINT_URL=endpoint)
    return env


def set_aws_env(monkeypatch, endpoint: str) -> None:
    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    for k, v in aws_env(endpoint).items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)


def client(endpoint: str, region: str, service: str = "dynamodb"):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="gtcheck-test", aws_secret_access_key="gtcheck-test")


def tables_everywhere(endpoint: str, regions) -> dict[str, list[str]]:
    """{region: table names} as ListTables answers in each region."""
    return {r: client(endpoint, r).list_tables()["TableNames"] for r in regions}


def age_table(endpoint: str, table: str, regions, seconds: float) -> None:
    """Make `table`'s gtcheck lifecycle tags (created, heartbeat) `seconds` old on every
    copy: as if the run that created it had died that long ago."""
    import time

    from suite.targets.aws_cleanup import CREATED_TAG, HEARTBEAT_TAG
    stamp = str(int(time.time() - seconds))
    for r in regions:
        c = client(endpoint, r)
        arn = c.describe_table(TableName=table)["Table"]["TableArn"]
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": CREATED_TAG, "Value": stamp},
                                              {"Key": HEARTBEAT_TAG, "Value": stamp}])
