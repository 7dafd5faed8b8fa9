"""`gtcheck aws cleanup` can never destroy a user's data: the issue's scenario, against
`gtcheck emulator serve` (AWS-like control plane) reached only through AWS_ENDPOINT_URL.

- `prod-orders`: a user's table, untagged in us-east-1, whose replica in us-east-2 carries
  gtcheck's tag (the case that was deleted before): never touched, never even described;
- `gtcheck-orders`: the same with a gtcheck-like name: refused, its us-east-1 copy has no tag;
- a live run's table (lease alive): left alone;
- a foreign table `someone-elses`: untouched;
- two dead runs' leftovers: `--run ID` deletes only that run's, `--older-than` only old ones.
"""

import time

import pytest
from click.testing import CliRunner

from suite.cli import main
from suite.targets.aws import AwsTarget
from suite.targets.base import GlobalTableProvisioner
from tests.targets.aws_env import age_table, client, set_aws_env, tables_everywhere
from tests.targets.served_emulator import served_emulator

US = ["us-east-1", "us-east-2", "us-west-2"]
PAIR = US[:2]


def user_global_table(endpoint, name, *, tag_replica_in=None):
    """A user's global table in us-east-1 + us-east-2 (no gtcheck tags), optionally with
    gtcheck's run tag put on one copy."""
    p = GlobalTableProvisioner(lambda r: client(endpoint, r), "async", tuple(PAIR),
                               poll_s=0.05, timeout_s=60)
    p.create(name)
    if tag_replica_in:
        c = client(endpoint, tag_replica_in)
        arn = c.describe_table(TableName=name)["Table"]["TableArn"]
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": "gtcheck:run", "Value": name}])


def dead_run(name, seconds_ago, endpoint):
    target = AwsTarget(mode="async", regions=PAIR, yes=True, poll_s=0.05, timeout_s=60,
                       say=lambda line: None)
    target.create_table(None, name)
    target._end_lease()  # the run died: no more heartbeats
    target._created.clear()
    age_table(endpoint, name, PAIR, seconds_ago)


def cleanup(*args):
    r = CliRunner().invoke(main, ["aws", "cleanup", "--regions", ",".join(US), *args],
                           standalone_mode=False)
    assert r.exception is None, r.output
    return r


@pytest.mark.slow
def test_cleanup_deletes_only_dead_gtcheck_runs(tmp_path, monkeypatch):
    with served_emulator(tmp_path, scale="0.03", seed=31) as emu:
        endpoint = emu["endpoint"]
        set_aws_env(monkeypatch, endpoint)
        user_global_table(endpoint, "prod-orders", tag_replica_in="us-east-2")
        user_global_table(endpoint, "gtcheck-orders", tag_replica_in="us-east-2")
        client(endpoint, "us-west-2").create_table(
            TableName="someone-elses", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        live = AwsTarget(mode="async", regions=PAIR, yes=True, poll_s=0.05, timeout_s=60,
                         say=lambda line: None)
        live.create_table(None, "gtcheck-live-run")
        dead_run("gtcheck-dead-a", 2 * 3600, endpoint)
        dead_run("gtcheck-dead-b", 2 * 3600, endpoint)
        from suite.targets import aws_cleanup
        described = []
        real_copy_tags = aws_cleanup.copy_tags

        def spy(control_client, region, table):  # the one place cleanup describes a table
            described.append(table)
            return real_copy_tags(control_client, region, table)
        monkeypatch.setattr(aws_cleanup, "copy_tags", spy)
        try:
            listed = cleanup("--dry-run").output
            assert "prod-orders" not in listed  # filtered by name before any DescribeTable
            assert described and "prod-orders" not in described and \
                "someone-elses" not in described, described
            assert ("us-east-2\tgtcheck-orders\tgtcheck:run=gtcheck-orders\tleft alone: its "
                    "replica in us-east-1 has no gtcheck:run tag") in listed
            assert ("us-east-1\tgtcheck-orders\tno gtcheck:run tag\tleft alone: its copy in "
                    "us-east-1 has no gtcheck:run tag") in listed
            assert "gtcheck-live-run\tgtcheck:run=gtcheck-live-run\tleft alone: a live run " \
                   "holds its lease" in listed
            assert "us-east-1\tgtcheck-dead-a\tgtcheck:run=gtcheck-dead-a\tleftover" in listed

            done = cleanup("--yes", "--run", "gtcheck-dead-a").output
            assert "1 table(s) deleted" in done, done
            assert "gtcheck-dead-b\tgtcheck:run=gtcheck-dead-b\tleft alone: run " \
                   "gtcheck-dead-b, not gtcheck-dead-a" in done
            kept = cleanup("--yes", "--older-than", "3h").output
            assert "0 table(s) deleted" in kept or "no gtcheck leftovers" in kept, kept
            done = cleanup("--yes", "--older-than", "1h").output
            assert "1 table(s) deleted" in done, done

            left = tables_everywhere(endpoint, US)
            assert left == {"us-east-1": ["gtcheck-live-run", "gtcheck-orders", "prod-orders"],
                            "us-east-2": ["gtcheck-live-run", "gtcheck-orders", "prod-orders"],
                            "us-west-2": ["someone-elses"]}, left
            bad = CliRunner().invoke(main, ["aws", "cleanup", "--older-than", "soon"],
                                     standalone_mode=False)
            assert bad.return_value == 3 or "older-than" in str(bad.exception)
        finally:
            live.delete_table(None, "gtcheck-live-run")
            live.teardown(None)
        deadline = time.monotonic() + 30
        while "gtcheck-live-run" in client(endpoint, "us-east-2").list_tables()["TableNames"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
