"""`gtcheck aws ...`: housekeeping for the aws target -- `cleanup` and `preflight`.

`cleanup` finds and deletes the tables gtcheck left behind (a killed machine can leave
one; a run deletes its table on every other way out). It deletes only what
suite/targets/aws_cleanup.py calls a leftover: a `gtcheck-` name (filtered before any
DescribeTable), the `gtcheck:run` tag on the copy in that region and on every replica,
no live lease (heartbeat tag), and the `--run` / `--older-than` filters. Everything else
it lists with the reason it is left alone. Each leftover is judged again just before it
is deleted. Credentials and endpoints come from boto3's usual chain (so
`AWS_ENDPOINT_URL` works here too).
"""

from __future__ import annotations

import sys

import click

from suite.config import DEFAULT_REGIONS, parse_list
from suite.errors import BadInput


@click.group(name="aws")
def aws() -> None:
    """Housekeeping for the aws target (real DynamoDB global tables)."""


@aws.command()
@click.option("--regions", default=",".join(DEFAULT_REGIONS), show_default=True,
              help="Comma-separated regions to look in.")
@click.option("--profile", default=None, help="AWS profile (default: boto3's usual chain).")
@click.option("--run", "run_id", default=None, metavar="ID",
              help="Only the tables of this run (the gtcheck:run tag's value).")
@click.option("--older-than", default=None, metavar="AGE",
              help="Only tables created longer ago than AGE (90s, 30m, 2h, 7d).")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@click.option("--dry-run", is_flag=True, help="Only list the tables; delete nothing.")
def cleanup(regions: str, profile: str | None, run_id: str | None, older_than: str | None,
            yes: bool, dry_run: bool) -> int:
    """List gtcheck's leftover tables in REGIONS and delete them (never any other)."""
    import boto3

    from suite.targets.aws import delete_tagged_table
    from suite.targets.aws_cleanup import candidates, judge, parse_age
    from suite.targets.base import RegionClients

    region_list = parse_list(regions)
    if not region_list:
        raise BadInput("--regions: give at least one region")
    try:
        older_than_s = parse_age(older_than) if older_than is not None else None
    except ValueError:
        raise BadInput(f"--older-than: expected an age such as 90s, 30m, 2h or 7d, "
                       f"not {older_than!r}") from None
    clients = RegionClients(boto3.session.Session(profile_name=profile),
                            {r: None for r in region_list})
    seen = candidates(clients.control, region_list, run=run_id, older_than_s=older_than_s)
    for c in seen:
        click.echo(c.line())
    found = [c for c in seen if c.refused is None]
    if not found:
        click.echo(f"no gtcheck leftovers to delete in {', '.join(region_list)}")
        return 0
    if dry_run:
        return 0
    if not yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise BadInput("refusing to delete without confirmation: pass --yes")
        if not click.confirm(f"delete these {len(found)} table(s)?", default=False, err=True):
            raise BadInput("not confirmed: nothing was deleted")
    deleted = 0
    for c in found:
        again = judge(clients.control, c.region, c.table, run=run_id,
                      older_than_s=older_than_s)
        if again is None:
            continue  # gone meanwhile (a global table deleted from another region)
        if again.refused is not None:
            click.echo(f"left {c.table} in {c.region} alone: {again.refused}")
            continue
        # A global table's replicas are listed in each region; deleting it from the first
        # region removes the others, which then no longer exist.
        if delete_tagged_table(clients.control, c.region, c.table, require_tag=True):
            click.echo(f"deleted {c.table} (from {c.region}, with its replicas)")
            deleted += 1
    click.echo(f"{deleted} table(s) deleted")
    return 0


@aws.command()
@click.option("--mode", type=click.Choice(["async", "strong"]), default="async",
              show_default=True, help="The planned run's replication mode.")
@click.option("--regions", default=",".join(DEFAULT_REGIONS), show_default=True,
              help="The planned run's replica regions (the first is the home region).")
@click.option("--witness", default=None, help="The planned MRSC witness region.")
@click.option("--workload", default="register", show_default=True,
              help="The planned workload (for the plan's cost).")
@click.option("--time-limit", type=float, default=30.0, show_default=True,
              help="The planned run's seconds (for the plan's cost).")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="The planned operations per second (for the plan's cost).")
@click.option("--fis-role-arn", default=None,
              help="The role FIS would assume (--nemesis fis-pause-replication): its "
                   "actions and iam:PassRole are checked too.")
@click.option("--profile", default=None, help="AWS profile (default: boto3's usual chain).")
def preflight(mode: str, regions: str, witness: str | None, workload: str,
              time_limit: float, rate: float, fis_role_arn: str | None,
              profile: str | None) -> int:
    """Check credentials, regions, topology, IAM permissions, quotas and the plan of an
    aws run, creating nothing. Exit 1 when a check fails."""
    import types

    import boto3

    from suite.aws_preflight import FAIL, run_checks
    from suite.targets.aws import make_plan
    from suite.targets.base import control_plane_config

    region_list = parse_list(regions)
    if not region_list:
        raise BadInput("--regions: give at least one region")
    session = boto3.session.Session(profile_name=profile)
    table = f"gtcheck-{workload}-preflight"
    test = types.SimpleNamespace(rate=rate, time_limit=time_limit, keys=8, workload=workload)
    plan = make_plan(test, table, regions=region_list, witness=witness, mode=mode)

    def client(service: str, region: str):
        return session.client(service, region_name=region, config=control_plane_config())
    checks = run_checks(client, mode=mode, regions=region_list, witness=witness,
                        fis_role_arn=fis_role_arn, table=table, plan_lines=plan.lines()[:5])
    for c in checks:
        click.echo(c.line())
    failed = [c for c in checks if c.status == FAIL]
    click.echo(f"preflight: {len(checks) - len(failed)} of {len(checks)} checks passed; "
               "nothing was created")
    return 1 if failed else 0
