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

from workloads.base import Workload, WorkloadOptions, mode_checkers, paced
from workloads.client import OPS, RegionClient
from workloads.generators import UniqueOps, final_reads

NAME = "set"

MIX = (("add", 0.6), ("read-sc", 0.3), ("read-ec", 0.1))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key = rng.choice(keys)
        x = rng.random()
        if x < MIX[0][1]:
            return {"f": "add", "key": key, "value": next_value}, True
        if x < MIX[0][1] + MIX[1][1]:
            return {"f": "read", "key": key, "consistent": True}, False
        return {"f": "read", "key": key, "consistent": False}, False
    return choose


def workload(opts: WorkloadOptions) -> Workload:
    keys = opts.key_names()
    return Workload(
        name=NAME,
        client=RegionClient(opts.table, OPS[NAME], connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s),
        generator=paced(opts, UniqueOps(choose_op(keys), opts.seed)),
        final_generator=final_reads(keys),
        checkers=mode_checkers(opts.mode, NAME),
        table=opts.table, keys=keys, min_concurrency=len(opts.regions))
