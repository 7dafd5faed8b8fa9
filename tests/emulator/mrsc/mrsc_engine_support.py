"""Test support: build an `MrscEngine` on real storage and a real WAN model, no HTTP."""

from __future__ import annotations

import random
import threading

from emulator.engine import EngineContext, ReplicationPause, TableDescription
from emulator.mrsc import MrscEngine
from emulator.store import RegionClock, TableReplica
from emulator.wan import Wan

US = ("us-east-1", "us-east-2", "us-west-2")


def make_engine(replicas=US, witness=None, scale=0.0, copy_lag_s=0.0, seed=7, **settings):
    wan = Wan(list(replicas) + ([witness] if witness else []), latency_scale=scale)
    rng = random.Random(seed)
    reps = {r: TableReplica("t", r, lock=threading.RLock(),
                            call_later=wan.scheduler.call_later, copy_lag_s=copy_lag_s)
            for r in replicas}
    clocks = {r: RegionClock(r) for r in wan.regions}
    ctx = EngineContext(TableDescription("t", "pk", None, "STRONG", witness), reps, wan,
                        clocks, ReplicationPause(), rng, settings=dict(settings))
    return MrscEngine(ctx), wan
