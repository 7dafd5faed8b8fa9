"""Workloads: what the clients do and how it is judged, one module per workload.

Each module exposes a factory `WorkloadOptions -> Workload` (workloads/base.py): a
one-region boto3 client, the main-phase generator, the final generator (SC reads of every
key in every region after the heal) and the mode's checkers. `WORKLOADS` maps the names
`gtcheck run --workload` accepts to those factories; `make_workload(name, opts)` builds
one, with a clear error for an unknown name.
"""

from __future__ import annotations

from typing import Callable

from suite.errors import BadInput
from workloads.base import Workload, WorkloadOptions, region_of_thread


def _factories() -> dict[str, Callable[[WorkloadOptions], Workload]]:
    from workloads import counter, demo, register
    from workloads import set as set_workload
    return {"register": register.workload, "counter": counter.workload,
            "set": set_workload.workload, "demo-single-writer": demo.single_writer,
            "demo-multi-writer": demo.multi_writer}


WORKLOAD_NAMES = ("register", "counter", "set", "demo-single-writer", "demo-multi-writer")


def make_workload(name: str, opts: WorkloadOptions) -> Workload:
    factories = _factories()
    if name not in factories:
        raise BadInput(f"unknown workload {name!r} (known: {', '.join(WORKLOAD_NAMES)})")
    return factories[name](opts)


__all__ = ["WORKLOAD_NAMES", "Workload", "WorkloadOptions", "make_workload",
           "region_of_thread"]
