"""The counter workload: UpdateItem ADD increments and reads on a few counters.

Client threads in every region increment a random key's counter by 1 (`ADD #n :d`, with
ReturnValues UPDATED_NEW so the history also shows the value the region produced) or read
it with an SC or EC read (a missing item reads as 0). Increments are never retried by
boto3 (a timed-out ADD could otherwise be applied twice while recorded once): one
attempt, one operation. MRSC promises every SC read lies between the acknowledged and the
attempted increments; async promises nothing of the kind, and the checker reports lost
increments (final value below the acknowledged increments, A14) as an expected anomaly.
"""

from __future__ import annotations

import random
from typing import Mapping

from workloads.base import Workload, WorkloadOptions, mode_checkers, paced
from workloads.client import OPS, RegionClient
from workloads.generators import UniqueOps, final_reads

NAME = "counter"

MIX = (("add", 0.55), ("read-sc", 0.30), ("read-ec", 0.15))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key = rng.choice(keys)
        x = rng.random()
        if x < MIX[0][1]:
            return {"f": "add", "key": key, "value": 1}, False
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
