"""`gtcheck aws cleanup`: find and delete the tables gtcheck left behind in AWS.

Every table the `aws` target creates carries the tag `gtcheck:run=<table>` (its replicas
too), and a run deletes its table on every way out; a killed machine can still leave one.
This command lists the tables with that tag in the given regions and, once confirmed
(`--yes`, or "y" at a terminal), deletes them: replicas and witness first, then the table,
waiting until each is gone. A table without the tag is never touched, and each one is
checked for the tag again just before it is deleted. Credentials and endpoints come from
boto3's usual chain (so `AWS_ENDPOINT_URL` works here too).
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
@click.option("--yes", is_flag=True, help="Delete without asking.")
@click.option("--dry-run", is_flag=True, help="Only list the tables; delete nothing.")
def cleanup(regions: str, profile: str | None, yes: bool, dry_run: bool) -> int:
    """List the tables tagged gtcheck:run in REGIONS and delete them (never any other)."""
    import boto3

    from suite.targets.aws import delete_tagged_table, tagged_tables
    from suite.targets.base import RegionClients

    region_list = parse_list(regions)
    if not region_list:
        raise BadInput("--regions: give at least one region")
    clients = RegionClients(boto3.session.Session(profile_name=profile),
                            {r: None for r in region_list})
    found = tagged_tables(clients.control, region_list)
    if not found:
        click.echo(f"no gtcheck-tagged tables in {', '.join(region_list)}")
        return 0
    for region, table, run in found:
        click.echo(f"{region}\t{table}\tgtcheck:run={run}")
    if dry_run:
        return 0
    if not yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise BadInput("refusing to delete without confirmation: pass --yes")
        if not click.confirm(f"delete these {len(found)} table(s)?", default=False, err=True):
            raise BadInput("not confirmed: nothing was deleted")
    deleted = 0
    for region, table, _ in found:
        # A global table's replicas are listed in each region; deleting it from the first
        # region removes the others, which then no longer exist.
        if delete_tagged_table(clients.control, region, table, require_tag=True):
            click.echo(f"deleted {table} (from {region}, with its replicas)")
            deleted += 1
    click.echo(f"{deleted} table(s) deleted")
    return 0
