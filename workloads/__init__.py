"""Workloads: what the clients do and how it is judged, one module per workload.

Each module exposes a factory `WorkloadOptions -> Workload` (workloads/base.py): a
one-region boto3 client, the main-phase generator, the final generator (SC reads of every
key in every region after the heal) and the mode's checkers. They are registered with the
harness (suite.registry) under the names `gtcheck run --workload` accepts:
`build(test, target)` makes the workload for a run, `checkers(test)` the checker set
(which depends only on the test, so `gtcheck analyze` can judge a stored history).
`make_workload(name, opts)` builds one directly, with a clear error for an unknown name.
"""

from __future__ import annotations

from typing import Any, Callable

from gtcheck.errors import BadInput
from suite.registry import register_workload
from workloads.base import Workload, WorkloadOptions, options_from_test, region_of_thread

DESCRIPTIONS = {
    "register": ("read / write / cas / delete on single-value items; SC and EC reads through "
                 "GetItem, Query, Scan, BatchGetItem, TransactGetItems; unique values"),
    "counter": "UpdateItem ADD increments and reads",
    "set": "adds of unique elements to number sets, final reads in every region",
    "set-full": ("every element its own item, written once, scanned often in every region, "
                 "some deleted or expiring (TTL): lost / stale / resurrected / never-read per "
                 "element and region, replication lag"),
    "demo-single-writer": "the talk's single-writer demo: one region increments, the others read",
    "demo-multi-writer": "the talk's multi-writer demo: every region increments at once",
    "list-append": "Elle's list-append: 1-4 appends (TransactWriteItems) or reads "
                   "(TransactGetItems) per transaction, checked for cycles",
    "rw-register": "Elle's rw-register: 1-4 writes or reads per transaction, checked for "
                   "cycles",
    "streams": ("puts, conditional updates and deletes in every region; every region's "
                "DynamoDB stream read back (A07, M13, per-item order, exactly once, lag)"),
    "bank": "transfers between accounts (TransactWriteItems with a balance condition) in "
            "one region, reads of every account (TransactGetItems) everywhere",
}
WORKLOAD_NAMES = tuple(DESCRIPTIONS)


def _factories() -> dict[str, Callable[[WorkloadOptions], Workload]]:
    from workloads import counter, demo, register, set_full
    from workloads import set as set_workload
    from workloads import bank, streams, txn
    return {"register": register.workload, "counter": counter.workload,
            "set": set_workload.workload, "set-full": set_full.workload,
            "demo-single-writer": demo.single_writer,
            "demo-multi-writer": demo.multi_writer,
            "list-append": lambda opts: txn.workload("list-append", opts),
            "rw-register": lambda opts: txn.workload("rw-register", opts),
            "bank": bank.workload, "streams": streams.workload}


def make_workload(name: str, opts: WorkloadOptions, *, target: Any = None) -> Workload:
    factories = _factories()
    if name not in factories:
        raise BadInput(f"unknown workload {name!r} (known: {', '.join(WORKLOAD_NAMES)})")
    workload = factories[name](opts)
    if target is not None:
        workload = workload.bound_to(target)
    return workload


def _register(name: str) -> None:
    def build(test: Any, target: Any) -> Workload:
        w = make_workload(name, options_from_test(test), target=target)
        if test.concurrency < w.min_concurrency:
            raise BadInput(f"--concurrency {test.concurrency} is too low for {name}: it "
                           f"needs at least {w.min_concurrency} (one client per region)")
        return w

    def checkers(test: Any) -> dict:
        return make_workload(name, options_from_test(test)).checkers

    register_workload(name, build, checkers, description=DESCRIPTIONS[name])


for _name in WORKLOAD_NAMES:
    _register(_name)

__all__ = ["WORKLOAD_NAMES", "Workload", "WorkloadOptions", "make_workload",
           "options_from_test", "region_of_thread"]
