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

from workloads.base import Workload, WorkloadOptions, mode_checkers, paced
from workloads.client import OPS, RegionClient
from workloads.generators import UniqueOps, final_reads

NAME = "register"

# Operation mix: SC reads, EC reads, writes, cas (fractions of all client operations).
MIX = (("read-sc", 0.30), ("read-ec", 0.15), ("write", 0.35), ("cas", 0.20))


def choose_op(keys: tuple[str, ...]):
    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        key = rng.choice(keys)
        x, kind = rng.random(), MIX[-1][0]
        acc = 0.0
        for name, p in MIX:
            acc += p
            if x < acc:
                kind = name
                break
        if kind == "read-sc":
            return {"f": "read", "key": key, "consistent": True}, False
        if kind == "read-ec":
            return {"f": "read", "key": key, "consistent": False}, False
        if kind == "cas" and key in last:
            return {"f": "cas", "key": key, "value": [last[key], next_value]}, True
        return {"f": "write", "key": key, "value": next_value}, True
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
