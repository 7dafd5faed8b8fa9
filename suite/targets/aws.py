"""The `aws` target: real DynamoDB global tables in real regions, reached through boto3.

It provisions and drives a global table with the very same control-plane and data-plane
calls the emulator targets use, one boto3 client per region from the user's ordinary
credential chain (profile, environment, instance role). Endpoints are boto3's own choice,
so `AWS_ENDPOINT_URL=http://127.0.0.1:PORT` (the emulator's all-regions endpoint, which
picks the region from each request's SigV4 scope) runs this exact code path in CI.

It is careful with other people's data and money:
- a plan is printed before anything is created (tables, regions, mode, estimated request
  units, replicated writes and cost at stated on-demand prices), and nothing is created
  without `--yes` or an interactive "y";
- `--max-requests N` is a hard stop on data-plane requests (suite/targets/client_faults.py);
- every table is named `gtcheck-...` and tagged `gtcheck:run=<table>`,
  `gtcheck:created` and `gtcheck:heartbeat` (replicas too); while the run lives it renews
  the heartbeat (a lease: `gtcheck aws cleanup` never touches a table whose lease is alive,
  suite/targets/aws_cleanup.py); it deletes only tables it created in this run: after a
  failed or interrupted set-up at once, otherwise when the run ends (normal end, error,
  Ctrl-C, SIGTERM: the run's teardown), and in `teardown` whatever is still left;
- it refuses an existing table unless named explicitly (`existing_table=`), and then never
  deletes it.

Faults: no admin API exists on AWS, so only nemeses that need none apply: client-side
faults (any target) and FIS pause-replication (`fault("fis-pause-replication", ...)`,
suite/targets/fis.py). There is no version metadata either: checkers judge from the
history alone (`checkers.modes`, "not checked on this target").
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from suite.errors import BadInput, SetupError
from suite.targets.base import (GlobalTableProvisioner, NotCreated, RegionClients,
                                RegionClientsTarget, check_topology)
from suite.targets.client_faults import RequestBudget

from suite.targets.aws_cleanup import (HEARTBEAT_S, HEARTBEAT_TAG, RUN_TAG, gtcheck_names,
                                       lifecycle_tags, table_tags)
AWS_POLL_S = 2.0
AWS_TIMEOUT_S = 1800.0
# A replica not listed while the home table says ACTIVE for this long was never created
# (AWS shows the table UPDATING while a replica is being added).
AWS_MISSING_GRACE_S = 60.0
# How long a table this run just created may stay invisible to DescribeTable and
# ListTables (both eventually consistent) before it is taken to be absent.
VISIBLE_WAIT_S = 120.0

# On-demand list prices, US East (N. Virginia), USD, from the DynamoDB pricing page as of
# November 2024 (after that month's on-demand price cut): per million units. The plan
# states them; other regions cost somewhat more.
PRICE_WRU_PER_MILLION = 0.625
PRICE_RRU_PER_MILLION = 0.125
PRICE_RWRU_PER_MILLION = 0.625  # replicated write request units (global tables)
# Share of writes among client operations, per workload (its generator's mix; reads
# are counted as strongly consistent, 1 RRU each, an upper bound).
WRITE_SHARE = {"register": 0.5, "counter": 0.5, "set": 0.5}


@dataclass(frozen=True)
class Plan:
    """What a run will create and roughly what it will cost (printed before set-up)."""

    table: str
    regions: tuple[str, ...]
    witness: str | None
    mode: str
    ops: int
    wru: int
    rru: int
    rwru: int
    cost_usd: float
    max_requests: int | None

    def lines(self) -> list[str]:
        mode = "strong (MRSC)" if self.mode == "strong" else "async (MREC, last writer wins)"
        out = [f"plan: create table {self.table} (on-demand, tagged {RUN_TAG}={self.table})",
               f"  replicas: {', '.join(self.regions)}"
               + (f"; witness: {self.witness}" if self.witness else ""),
               f"  mode: {mode}",
               f"  about {self.ops} client operations: {self.wru} write request units, "
               f"{self.rru} read request units, {self.rwru} replicated write units",
               f"  estimated cost: ${self.cost_usd:.4f} at on-demand prices per million "
               f"(us-east-1, Nov 2024): WRU ${PRICE_WRU_PER_MILLION}, RRU "
               f"${PRICE_RRU_PER_MILLION}, replicated WRU ${PRICE_RWRU_PER_MILLION}",
               "  the table and its replicas are deleted when the run ends",
               "  checks: from the history alone (AWS gives no version metadata); "
               "last-writer-wins assumes the regions' clocks agree more closely than the "
               "gap the clients see between two writes"]
        if self.max_requests is not None:
            out.append(f"  hard stop after {self.max_requests} data-plane requests")
        return out


def make_plan(test: Any, table: str, *, regions: Sequence[str], witness: str | None,
              mode: str, max_requests: int | None = None) -> Plan:
    """Estimate a run's request units and cost from its rate, length and regions."""
    rate = float(getattr(test, "rate", 50.0))
    seconds = float(getattr(test, "time_limit", 30.0))
    keys = int(getattr(test, "keys", 8))
    ops = int(rate * seconds)
    if max_requests is not None:
        ops = min(ops, max_requests)
    share = WRITE_SHARE.get(getattr(test, "workload", "register"), 0.5)
    writes = int(ops * share)
    reads = ops - writes + keys * len(regions)  # plus the final reads
    rwru = writes * (len(regions) - 1)
    cost = (writes * PRICE_WRU_PER_MILLION + reads * PRICE_RRU_PER_MILLION
            + rwru * PRICE_RWRU_PER_MILLION) / 1e6
    return Plan(table, tuple(regions), witness, mode, ops, writes, reads, rwru, cost,
                max_requests)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class AwsTarget(RegionClientsTarget):
    name = "aws"

    def __init__(self, *, mode: str, regions: Sequence[str], witness: str | None = None,
                 profile: str | None = None, existing_table: str | None = None,
                 yes: bool = False, max_requests: int | None = None,
                 fis_role_arn: str | None = None, say: Callable[[str], None] = _stderr,
                 confirm: Callable[[str], bool] | None = None,
                 poll_s: float = AWS_POLL_S, timeout_s: float = AWS_TIMEOUT_S,
                 session: Any = None):
        regions = tuple(regions)
        check_topology(mode, regions, witness)
        if max_requests is not None and max_requests < 1:
            raise BadInput(f"--max-requests must be >= 1, got {max_requests}")
        self.mode = mode
        self.regions = regions
        self.witness = witness
        self.existing_table = existing_table
        self.yes = yes
        self.max_requests = max_requests
        self.fis_role_arn = fis_role_arn
        self.say = say
        self.confirm = confirm
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        if session is None:
            import boto3  # here, not at import: `gtcheck --help` and `check` never need it
            session = boto3.session.Session(profile_name=profile)
        self.session = session
        self._clients = RegionClients(self.session, {r: None for r in regions})
        self._created: set[str] = set()
        self._stop_run: Callable[[], None] | None = None
        self._stopping: threading.Event | None = None
        self._fis: Any = None
        self._lease_stop = threading.Event()
        self._lease: threading.Thread | None = None

    @property
    def has_faults(self) -> bool:
        """The fault API here is FIS pause-replication, given a role for FIS to assume."""
        return self.fis_role_arn is not None

    def check_nemesis(self, names: Any) -> None:
        """BadInput unless every named nemesis runs on aws (FIS needs a role to assume)."""
        from nemesis.faults import check_targets, parse_nemesis_names
        names = parse_nemesis_names(list(names))
        check_targets(names, self.name)
        if "fis-pause-replication" in names and self.fis_role_arn is None:
            raise BadInput("--nemesis fis-pause-replication needs --fis-role-arn (the IAM "
                           "role FIS assumes; docs/aws.md)")

    # ---- set-up ----------------------------------------------------------------------
    def setup(self, test: Any = None) -> None:
        """Print the plan, get the go-ahead, then check every region answers."""
        names = list(getattr(test, "nemesis", ()) or ())
        if names:
            self.check_nemesis(names)
        if self.existing_table is None and test is not None:
            from workloads.base import table_name
            plan = make_plan(test, table_name(test), regions=self.regions,
                             witness=self.witness, mode=self.mode,
                             max_requests=self.max_requests)
            for line in plan.lines():
                self.say(line)
            self.ask_go_ahead()
        if self.max_requests is not None:
            reserve = 2 * int(getattr(test, "keys", 8)) * len(self.regions) + 4
            self._clients.hooks.budget = RequestBudget(
                self.max_requests, reserve=min(reserve, self.max_requests // 2),
                on_exhausted=self._budget_spent)
        super().setup(test)

    def ask_go_ahead(self) -> None:
        """Return only when the user agreed (--yes, or "y" at a terminal); else BadInput."""
        if self.yes:
            return
        if self.confirm is not None:
            ok = self.confirm("create these AWS resources?")
        elif sys.stdin is not None and sys.stdin.isatty():
            import click
            ok = click.confirm("create these AWS resources?", default=False, err=True)
        else:
            raise BadInput("refusing to create AWS resources without confirmation: "
                           "pass --yes (the plan above says what would be created)")
        if not ok:
            raise BadInput("not confirmed: nothing was created")

    def adopt(self, table: str) -> None:
        """Treat `table` as created by this target (deleted at teardown, FIS may pause it)."""
        self._created.add(table)

    def on_stop_request(self, stop: Callable[[], None]) -> None:
        """The run's "stop now" (the same as a first Ctrl-C): used by --max-requests."""
        self._stop_run = stop

    def watch_stop(self, stopping: threading.Event) -> None:
        """The run's stop event (Ctrl-C, SIGTERM): a creation in progress then stops
        waiting and deletes what exists."""
        self._stopping = stopping

    def _stop_requested(self) -> bool:
        return self._stopping is not None and self._stopping.is_set()

    def _budget_spent(self) -> None:
        self.say(f"--max-requests {self.max_requests}: the request budget is spent; "
                 "stopping the run (final reads use the reserve)")
        if self._stop_run is not None:
            self._stop_run()

    def _provisioner(self, table: str | None = None) -> GlobalTableProvisioner:
        return GlobalTableProvisioner(self._control_client, self.mode, self.regions,
                                      self.witness, poll_s=self.poll_s,
                                      timeout_s=self.timeout_s, progress=self.say,
                                      tags=lifecycle_tags(table, time.time()) if table
                                      else None,
                                      missing_grace_s=min(AWS_MISSING_GRACE_S,
                                                          self.timeout_s),
                                      cancelled=self._stop_requested)

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
        self.say(f"creating table {table} in {self.regions[0]}")
        self._created.add(table)  # from here on, whatever exists of it is ours to delete
        try:
            self._provisioner(table).create(table)
        except NotCreated:
            self._created.discard(table)  # CreateTable was refused: nothing exists
            raise
        except BaseException:
            self.say(f"set-up of {table} did not complete; deleting what was created")
            self._delete_quietly(table, just_created=True)
            raise
        self.say(f"table {table} ACTIVE in {', '.join(self.regions)}")
        self._start_lease(table)

    def _start_lease(self, table: str) -> None:
        """Renew the table's heartbeat tag on every copy while the run lives, so that
        `gtcheck aws cleanup` (from another shell) leaves it alone."""
        self._lease_stop.clear()

        def renew() -> None:
            while not self._lease_stop.wait(HEARTBEAT_S):
                for r in self.regions:
                    try:
                        c = self._control_client(r)
                        arn = c.describe_table(TableName=table)["Table"]["TableArn"]
                        c.tag_resource(ResourceArn=arn, Tags=[
                            {"Key": HEARTBEAT_TAG, "Value": str(int(time.time()))}])
                    except Exception as e:  # noqa: BLE001 -- said; the next renewal retries
                        self.say(f"could not renew the lease of {table} in {r}: {e}")
        self._lease = threading.Thread(target=renew, name="gtcheck-lease", daemon=True)
        self._lease.start()

    def _end_lease(self) -> None:
        self._lease_stop.set()
        if self._lease is not None:
            self._lease.join(timeout=5)
            self._lease = None

    def delete_table(self, test: Any, table: str) -> None:
        if table not in self._created:
            raise BadInput(f"refusing to delete table {table!r}: this run did not create it")
        self.say(f"deleting table {table} and its replicas")
        self._end_lease()
        self._stop_experiments()  # an MRSC table refuses changes while FIS pauses it
        p = self._provisioner()
        p.delete(table)
        p.wait_gone(table)
        self._created.discard(table)
        self.say(f"table {table} deleted")

    def _stop_experiments(self) -> None:
        if self._fis is not None:
            for eid in self._fis.stop_all():
                self.say(f"FIS experiment {eid} stopped")

    def _delete_quietly(self, table: str, *, just_created: bool = False) -> None:
        """After a failed or interrupted set-up, or at teardown: delete whatever of
        `table` exists (replicas first), waiting for the states that allow each call."""
        try:
            self._stop_experiments()
            if delete_tagged_table(self._control_client, self.regions[0], table,
                                   poll_s=self.poll_s, timeout_s=self.timeout_s,
                                   require_tag=True, just_created=just_created,
                                   progress=self.say):
                self.say(f"table {table} deleted")
            self._created.discard(table)
        except Exception as e:  # noqa: BLE001 -- reported; `gtcheck aws cleanup` finds it
            self.say(f"could not delete {table} after the failed set-up: {e}; "
                     "run `gtcheck aws cleanup` to remove it")

    def teardown(self, test: Any = None) -> None:
        self._end_lease()
        try:
            self._stop_experiments()
        except Exception as e:  # noqa: BLE001 -- reported; tables are deleted regardless
            self.say(f"could not stop every FIS experiment: {e}")
        for table in sorted(self._created):  # a run that ended before deleting its table
            self._delete_quietly(table)
        super().teardown(test)

    # ---- faults: FIS -----------------------------------------------------------------
    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        from suite.targets.fis import FisPauseReplication
        if self.fis_role_arn is None:
            raise BadInput("FIS faults need --fis-role-arn (the IAM role FIS assumes)")
        if self._fis is None:
            self._fis = FisPauseReplication(
                lambda r: self._clients.client(r, service="fis", data_plane=False),
                self._control_client, self.fis_role_arn, say=self.say)
        return self._fis.fault(action, value, tables=sorted(self._created)
                               or ([self.existing_table] if self.existing_table else []))

    def describe(self) -> dict:
        return {"target": self.name, "mode": self.mode, "regions": list(self.regions),
                "witness": self.witness, "existing_table": self.existing_table,
                "max_requests": self.max_requests, "fis_role_arn": self.fis_role_arn}


# ---- leftovers: `gtcheck aws cleanup` ------------------------------------------------

def tagged_tables(control_client: Callable[[str], Any], regions: Sequence[str]
                  ) -> list[tuple[str, str, str]]:
    """(region, table, run id) of every `gtcheck-` table whose copy in that region is
    tagged `gtcheck:run`; other names are never described."""
    found = []
    for region in regions:
        c = control_client(region)
        for name in gtcheck_names(c):
            try:
                arn = c.describe_table(TableName=name)["Table"]["TableArn"]
                tags = table_tags(c, arn)
            except c.exceptions.ResourceNotFoundException:
                continue  # deleted meanwhile
            run = next((t["Value"] for t in tags if t.get("Key") == RUN_TAG), None)
            if run is not None:
                found.append((region, name, run))
    return found


def list_from(c: Any, name: str) -> list[str]:
    """Up to 100 table names from `name` on (ListTables is ordered by name): enough to see
    whether `name` is listed without listing every table of the account."""
    start = {"ExclusiveStartTableName": name[:-1]} if len(name) > 3 else {}
    return c.list_tables(Limit=100, **start).get("TableNames", [])


def delete_tagged_table(control_client: Callable[[str], Any], region: str, table: str, *,
                        poll_s: float = AWS_POLL_S, timeout_s: float = AWS_TIMEOUT_S,
                        require_tag: bool = False, just_created: bool = False,
                        progress: Callable[[str], None] | None = None) -> bool:
    """Delete `table` as seen from `region`: its replicas and witness first (one call for
    MRSC, one at a time for async), then the table; wait until it is gone. False when it
    does not exist. With `require_tag`, a table whose copy in `region` lacks the gtcheck
    tag is refused. Every call waits for the state that allows it: a table CREATING or
    UPDATING (a replica being added) is waited for until ACTIVE, a DELETING one until
    gone. `just_created`: CreateTable succeeded a moment ago, so a DescribeTable that does
    not find it yet (eventually consistent) is asked again for up to VISIBLE_WAIT_S."""
    c = control_client(region)
    probe = GlobalTableProvisioner(control_client, "async", (region,), poll_s=poll_s,
                                   timeout_s=timeout_s, progress=progress)
    polls = probe._polls()
    visible_by = time.monotonic() + min(VISIBLE_WAIT_S, timeout_s)
    while True:
        desc = probe._describe(region, table)
        if desc is not None:
            break
        listed = table in list_from(c, table)
        if not (just_created or listed) or time.monotonic() >= visible_by:
            return False
        time.sleep(next(polls))
    if require_tag:
        tags = table_tags(c, desc["TableArn"])
        if not any(t.get("Key") == RUN_TAG for t in tags):
            raise BadInput(f"refusing to delete {table} in {region}: it has no {RUN_TAG} tag")
    if desc.get("TableStatus") == "DELETING":
        probe.wait_gone(table, [region])
        return True
    desc = probe._wait_active(table)  # CREATING / UPDATING refuse changes: wait
    others = tuple(r["RegionName"] for r in desc.get("Replicas", [])
                   if r.get("ReplicaStatus") != "DELETING")
    witness = next((w["RegionName"] for w in desc.get("GlobalTableWitnesses", [])), None)
    mode = "strong" if desc.get("MultiRegionConsistency") == "STRONG" else "async"
    p = GlobalTableProvisioner(control_client, mode, (region, *others), witness,
                               poll_s=poll_s, timeout_s=timeout_s, progress=progress)
    p.delete(table)
    p.wait_gone(table, [region, *others])
    return True
