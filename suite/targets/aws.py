"""The `aws` target: real DynamoDB global tables in real regions, reached through boto3.

This is the seam for the next wave: it provisions and drives a global table with the very
same control-plane and data-plane calls the emulator targets use, one boto3 client per
region from the user's ordinary credential chain (profile, environment, instance role).
It is careful with other people's data: it deletes only tables it created in this run,
and it refuses to run against an existing table unless the user names that table
explicitly (`existing_table=`), in which case it never deletes it. There is no fault API
on AWS here (FIS pause-replication is a later addition), so fault nemeses refuse to run
against this target. It is not exercised by the test suite (no cloud account in CI).
"""

from __future__ import annotations

from typing import Any, Sequence

import boto3

from suite.errors import BadInput, SetupError
from suite.targets.base import (GlobalTableProvisioner, RegionClients, RegionClientsTarget,
                                check_topology)


class AwsTarget(RegionClientsTarget):
    name = "aws"
    has_faults = False

    def __init__(self, *, mode: str, regions: Sequence[str], witness: str | None = None,
                 profile: str | None = None, existing_table: str | None = None):
        regions = tuple(regions)
        check_topology(mode, regions, witness)
        self.mode = mode
        self.regions = regions
        self.witness = witness
        self.existing_table = existing_table
        self._clients = RegionClients(boto3.session.Session(profile_name=profile),
                                      {r: None for r in regions})
        self._created: set[str] = set()

    def create_table(self, test: Any, table: str) -> None:
        if self.existing_table is not None:
            if table != self.existing_table:
                raise BadInput(f"asked to use {table!r} but the named existing table is "
                               f"{self.existing_table!r}")
            return  # the user's table: used as it is, never created or deleted by us
        home = self._control_client(self.regions[0])
        try:
            home.describe_table(TableName=table)
        except home.exceptions.ResourceNotFoundException:
            pass
        else:
            raise SetupError(f"table {table!r} already exists in {self.regions[0]}; gtcheck "
                             "does not touch a table it did not create (name it explicitly "
                             "as an existing table to use it)")
        GlobalTableProvisioner(self._control_client, self.mode, self.regions,
                               self.witness, poll_s=5.0, timeout_s=1800.0).create(table)
        self._created.add(table)

    def delete_table(self, test: Any, table: str) -> None:
        if table not in self._created:
            raise BadInput(f"refusing to delete table {table!r}: this run did not create it")
        GlobalTableProvisioner(self._control_client, self.mode, self.regions,
                               self.witness, poll_s=5.0, timeout_s=1800.0).delete(table)
        self._created.discard(table)

    def describe(self) -> dict:
        return {"target": self.name, "mode": self.mode, "regions": list(self.regions),
                "witness": self.witness, "existing_table": self.existing_table}
