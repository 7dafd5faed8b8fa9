"""The set workload: adds of unique elements to per-key number sets, and reads.

Client threads in every region add a unique element (`ADD #s :e` on a number set) to a
random key's set, or read the set (SC or EC). Final SC reads in every region after the
heal show what each region ended with. MRSC promises no acknowledged add is lost and
nothing is read that was never added; async, with last-writer-wins on whole items,
may lose concurrent adds made in different regions (an expected anomaly), but every
region must converge on the same set.
"""

from __future__ import annotations

import random
from typing import Mapping

from workloads.base import Workload, WorkloadOptions, keyed_workload
from workloads.generators import pick, read

NAME = "set"

MIX = (("add", 0.6), ("read-sc", 0.3), ("read-ec", 0.1))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key, kind = rng.choice(keys), pick(rng, MIX)
        if kind == "add":
            return {"f": "add", "key": key, "value": next_value}, True
        return read(key, kind), False
    return choose


def workload(opts: WorkloadOptions) -> Workload:
    return keyed_workload(NAME, opts, choose_op)
