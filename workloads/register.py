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
"""

from __future__ import annotations

import random
from typing import Mapping

from workloads.base import Workload, WorkloadOptions, keyed_workload
from workloads.generators import pick, read

NAME = "register"

# Operation mix: SC reads, EC reads, writes, cas (fractions of all client operations).
MIX = (("read-sc", 0.30), ("read-ec", 0.15), ("write", 0.35), ("cas", 0.20))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key, kind = rng.choice(keys), pick(rng, MIX)
        if kind.startswith("read"):
            return read(key, kind), False
        if kind == "cas" and key in last:  # aim at the last value written to the key
            return {"f": "cas", "key": key, "value": [last[key], next_value]}, True
        return {"f": "write", "key": key, "value": next_value}, True
    return choose


def workload(opts: WorkloadOptions) -> Workload:
    return keyed_workload(NAME, opts, choose_op)
