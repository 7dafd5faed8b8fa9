"""What `gtcheck aws cleanup` may delete: only gtcheck's own leftovers, never a user's table.

A table is a leftover only when all of these hold, checked in this order so that nothing
is described that gtcheck could not own (the IAM policy in docs/aws.md grants
DescribeTable only on `table/gtcheck-*`):
1. its name starts with `gtcheck-` (ListTables names are filtered before any other call);
2. its copy in the region where it was found carries the `gtcheck:run` tag, and so does
   every replica it lists (a user's table with one tagged replica -- say `prod-orders`,
   untagged in us-east-1 with a tagged copy in us-east-2 -- is refused: deleting it from
   either side would remove the user's copy);
3. no lease is alive: a run tags its table's copies with `gtcheck:heartbeat=<epoch s>`
   every HEARTBEAT_S while it lives; a heartbeat younger than LEASE_S on any copy means a
   live run owns it;
4. the filters asked for match: `--run ID` (the `gtcheck:run` value) and `--older-than`
   (the `gtcheck:created` tag).
Each check that refuses says why, so the listing explains what was left alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

RUN_TAG = "gtcheck:run"
CREATED_TAG = "gtcheck:created"
HEARTBEAT_TAG = "gtcheck:heartbeat"
TABLE_PREFIX = "gtcheck-"
HEARTBEAT_S = 60.0  # how often a live run renews its lease
LEASE_S = 600.0     # a heartbeat younger than this: the run is alive (ten missed renewals)


@dataclass(frozen=True)
class Candidate:
    """One gtcheck-named table seen in one region, and whether it may be deleted."""

    region: str
    table: str
    run: str | None
    created: float | None
    heartbeat: float | None
    refused: str | None  # why it is left alone; None: a leftover to delete

    def line(self) -> str:
        tag = f"{RUN_TAG}={self.run}" if self.run else f"no {RUN_TAG} tag"
        state = "leftover" if self.refused is None else f"left alone: {self.refused}"
        return f"{self.region}\t{self.table}\t{tag}\t{state}"


def lifecycle_tags(run: str, now: float) -> dict[str, str]:
    """The tags a run puts on its table's copies at creation."""
    stamp = str(int(now))
    return {RUN_TAG: run, CREATED_TAG: stamp, HEARTBEAT_TAG: stamp}


def gtcheck_names(c: Any) -> list[str]:
    """Every table name in the client's region that has gtcheck's prefix (ListTables only)."""
    names = []
    for page in c.get_paginator("list_tables").paginate():
        names += [n for n in page.get("TableNames", []) if n.startswith(TABLE_PREFIX)]
    return names


def copy_tags(control_client: Callable[[str], Any], region: str, table: str
              ) -> tuple[dict | None, dict[str, str]]:
    """(DescribeTable's Table, tags) of `table`'s copy in `region`; (None, {}) if absent."""
    c = control_client(region)
    try:
        desc = c.describe_table(TableName=table)["Table"]
        tags = table_tags(c, desc["TableArn"])
    except c.exceptions.ResourceNotFoundException:
        return None, {}
    return desc, {t["Key"]: t["Value"] for t in tags}


def table_tags(client: Any, arn: str) -> list[dict]:
    """Every tag of a table: ListTagsOfResource answers in pages (NextToken; DynamoDB's
    pages are small), and a gtcheck tag on a later page must not be missed, or a table
    gtcheck created would look like someone else's."""
    tags: list[dict] = []
    kwargs: dict = {"ResourceArn": arn}
    while True:
        page = client.list_tags_of_resource(**kwargs)
        tags.extend(page.get("Tags", []))
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def judge(control_client: Callable[[str], Any], region: str, table: str, *,
          run: str | None = None, older_than_s: float | None = None,
          now: float | None = None) -> Candidate | None:
    """The verdict on one gtcheck-named table in one region (module docstring); None
    when it no longer exists."""
    now = time.time() if now is None else now
    desc, tags = copy_tags(control_client, region, table)
    if desc is None:
        return None
    own_run = tags.get(RUN_TAG)

    def cand(refused: str | None, heartbeat: float | None = None) -> Candidate:
        return Candidate(region, table, own_run, _number(tags.get(CREATED_TAG)),
                         heartbeat, refused)
    if own_run is None:
        return cand(f"its copy in {region} has no {RUN_TAG} tag")
    heartbeats = [_number(tags.get(HEARTBEAT_TAG))]
    for r in (e["RegionName"] for e in desc.get("Replicas", [])):
        other, other_tags = copy_tags(control_client, r, table)
        if other is None:
            continue  # still being created or already gone there
        if RUN_TAG not in other_tags:
            return cand(f"its replica in {r} has no {RUN_TAG} tag (not gtcheck's table)")
        heartbeats.append(_number(other_tags.get(HEARTBEAT_TAG)))
    beat = max((h for h in heartbeats if h is not None), default=None)
    if beat is not None and now - beat < LEASE_S:
        return cand(f"a live run holds its lease (heartbeat {now - beat:.0f}s ago)", beat)
    if run is not None and own_run != run:
        return cand(f"run {own_run}, not {run}", beat)
    if older_than_s is not None:
        created = _number(tags.get(CREATED_TAG))
        if created is None:
            return cand(f"no {CREATED_TAG} tag, so its age is unknown", beat)
        if now - created < older_than_s:
            return cand(f"created {now - created:.0f}s ago", beat)
    return cand(None, beat)


def candidates(control_client: Callable[[str], Any], regions: Sequence[str], *,
               run: str | None = None, older_than_s: float | None = None,
               now: float | None = None) -> list[Candidate]:
    """Every gtcheck-named table in `regions`, judged; names are filtered first."""
    out = []
    for region in regions:
        for name in gtcheck_names(control_client(region)):
            c = judge(control_client, region, name, run=run, older_than_s=older_than_s,
                      now=now)
            if c is not None:
                out.append(c)
    return out


def parse_age(text: str) -> float:
    """`--older-than`: 90s, 30m, 2h, 7d (or plain seconds) -> seconds; ValueError."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    mult = units.get(text[-1:], None)
    number = text[:-1] if mult else text
    mult = mult or 1
    value = float(number)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value * mult


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
