"""The `gtcheck conform` command's options and help, apart from suite/conform.py so that
`gtcheck conform --help` imports click only (the conformance code imports botocore and
the targets, and is imported when the command runs)."""

from __future__ import annotations

import click


@click.command(name="conform")
@click.option("--target", "target_spec", default="emulator", show_default=True,
              help="What to judge: emulator (embedded), endpoints:FILE, or aws.")
@click.option("--regions", default="us-east-1,us-east-2,us-west-2", show_default=True,
              help="Three regions of one MRSC region set: async replicas in all three; MRSC "
                   "uses the first two as replicas and the third as witness.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Directory for conform.json and conform.html  [default: "
                   "store/conform/<timestamp>].")
@click.option("--yes", is_flag=True, help="aws: create the test tables without asking.")
@click.option("--fis-role-arn", default=None,
              help="aws: IAM role for FIS, so the replication pause (A13) can be tried.")
def conform(target_spec: str, regions: str, out_dir: str | None, yes: bool,
            fis_role_arn: str | None) -> int:
    """Judge a DynamoDB-compatible endpoint set against SEMANTICS.md's observable claims.

    Prints claim / verdict / what was tried / evidence, writes conform.json and
    conform.html, and exits 1 if any claim fails (0 otherwise).
    """
    from suite.conform import run_conform
    return run_conform(target_spec, regions, out_dir, yes, fis_role_arn)
