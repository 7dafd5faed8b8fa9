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

from workloads.base import Workload, WorkloadOptions, keyed_workload
from workloads.generators import pick, read

NAME = "counter"

MIX = (("add", 0.55), ("read-sc", 0.30), ("read-ec", 0.15))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key, kind = rng.choice(keys), pick(rng, MIX)
        if kind == "add":
            return {"f": "add", "key": key, "value": 1}, False
        return read(key, kind), False
    return choose


def workload(opts: WorkloadOptions) -> Workload:
    return keyed_workload(NAME, opts, choose_op)
