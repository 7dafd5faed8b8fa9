"""The register workload: reads, writes and compare-and-set on many single-value items.

Each key is one item holding a number. Client threads in every region pick a random key
per operation (so each key sees a few threads from several regions at once) and read it
with an SC read (`ConsistentRead=True`) or an EC read, write it with PutItem, or cas it
with a conditional PutItem (`#v = :old`, failing definitely with
ConditionalCheckFailedException). Every written value is unique in the run, so a read
names the one write it observed, which is what the linearizability checker (MRSC) and the
async checkers (stale, non-monotonic, never-written reads; convergence on the
last-writer-wins winner) need. Both kinds of read are recorded (`consistent`): MRSC
promises linearizability for SC reads only; EC reads are judged by weaker rules.

Deletes and read paths (issue 21): a delete is recorded as a write of absent (`f` write,
`value` null), made through DeleteItem, a BatchWriteItem DeleteRequest or (async tables
only: MRSC refuses transactions, M14) a TransactWriteItems Delete; a read of absent is
null, judged like any value (the checkers know that null may be written more than once).
Each read goes through one of GetItem, Query, Scan (filtered on the key), BatchGetItem
and (async only) TransactGetItems, SC or EC (TransactGetItems is always SC), and every
read and delete records the API it used as `path`, so a mistake on any one path shows
and the report can say which.

GSI reads (`--gsi-reads`, workloads/gsi.py): part of the EC reads go through a global
secondary index instead (`path` "GSI", `consistent` false: a GSI serves EC reads only, in
both modes). The table's checkers judge the history without them; `gsi-reads`
(checkers/gsi_reads.py) judges them as EC reads beside, and reports what they show
(stale, going back) as expected anomalies.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Mapping, Sequence

from workloads.base import Workload, WorkloadOptions, keyed_workload
from workloads.client import DELETE_PATHS, READ_PATHS
from checkers.gsi_reads import GSI_PATH, gsi_reads_check, without_gsi_reads
from workloads.generators import pick, read

NAME = "register"

# Operation mix: SC reads, EC reads, writes, cas, deletes (fractions of all client ops).
MIX = (("read-sc", 0.30), ("read-ec", 0.15), ("write", 0.32), ("cas", 0.15),
       ("delete", 0.08))
# With --gsi-reads: 15% of all operations are reads through the GSI.
MIX_GSI = (("read-sc", 0.26), ("read-ec", 0.10), ("read-gsi", 0.15), ("write", 0.29),
           ("cas", 0.13), ("delete", 0.07))


def paths_for(mode: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(read paths, delete paths) a run in `mode` uses: no transactions on MRSC (M14)."""
    reads, deletes = READ_PATHS, DELETE_PATHS
    if mode == "strong":
        reads = tuple(p for p in reads if p != "TransactGetItems")
        deletes = tuple(p for p in deletes if p != "TransactWriteItems")
    return reads, deletes


def choose_op(keys: tuple[str, ...], mode: str = "async", gsi_reads: bool = False):
    read_paths, delete_paths = paths_for(mode)
    mix = MIX_GSI if gsi_reads else MIX

    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key, kind = rng.choice(keys), pick(rng, mix)
        if kind == "read-gsi":
            return {"f": "read", "key": key, "consistent": False, "path": GSI_PATH}, False
        if kind.startswith("read"):
            path = rng.choice(read_paths)
            op = read(key, kind)
            if path == "TransactGetItems":  # a transactional read is always serializable
                op["consistent"] = True
            return {**op, "path": path}, False
        if kind == "delete":
            return {"f": "write", "key": key, "value": None,
                    "path": rng.choice(delete_paths)}, False
        if kind == "cas" and key in last:  # aim at the last value written to the key
            return {"f": "cas", "key": key, "value": [last[key], next_value]}, True
        return {"f": "write", "key": key, "value": next_value}, True
    return choose


def workload(opts: WorkloadOptions) -> Workload:
    w = keyed_workload(NAME, opts, lambda keys: choose_op(keys, opts.mode, opts.gsi_reads))
    if not opts.gsi_reads:
        return w
    from checkers.core import FnChecker
    from workloads.gsi import GsiRegisterClient
    view = _TableView()
    checkers = {name: _OnTableReads(c, view) for name, c in w.checkers.items()}
    checkers["gsi-reads"] = FnChecker(gsi_reads_check, "gsi-reads")
    c = w.client
    client = GsiRegisterClient(c.table, c.ops, connect_timeout_s=c.connect_timeout_s,
                               read_timeout_s=c.read_timeout_s, pool_size=c.pool_size)
    return dataclasses.replace(w, checkers=checkers, client=client)


class _TableView:
    """The history without its GSI reads, made once per history for every table checker
    (the mode's checkers share work per history identity, checkers/modes.py)."""

    def __init__(self) -> None:
        self.last: tuple[Any, int, list] | None = None

    def of(self, history: Sequence[Any]) -> list:
        last = self.last
        if last is not None and last[0] is history and last[1] == len(history):
            return last[2]
        view = without_gsi_reads(history)
        self.last = (history, len(history), view)
        return view


class _OnTableReads:
    """A table checker judging the history without GSI reads (a GSI read is no table
    read: never evidence for or against the table's promises, M06 / M07)."""

    def __init__(self, inner: Any, view: _TableView) -> None:
        self.inner, self.view = inner, view

    def check(self, test, history, opts):
        return self.inner.check(test, self.view.of(history), opts)
