"""Tiny seeded histories of one async (last-writer-wins) register, for the lww-model
differential test: a simulated execution (so valid by construction), optionally mutated.

The execution: 2 or 3 regions, a few writes, cas and reads of one key with overlapping
intervals on a millisecond timeline. A write takes effect in its region at a random
moment of its interval with timestamp = that moment + its region's clock skew, raised
above the region's current version (a local write always wins locally, as
`emulator.store.RegionClock.stamp` does); it reaches each other region after a random
delay, or only before the final reads, and is applied there only if its timestamp is
higher (A06). A cas compares against its region's version when it takes effect (fails
ConditionalCheckFailed otherwise); some writes end `info` (applied or not) or `fail` (not
applied). SC reads return the region's version at a random moment of their interval; EC
reads a version the region held by then, never older than the previous EC read there.
Final SC reads follow full delivery. A `mutation` then changes the recorded history (a
read's value, interval, region or kind, an outcome, a final flag), which may or may not
make it unexplainable: the oracle decides.
"""

from __future__ import annotations

import random
from typing import Any

from results.history import Op, validate

MS = 1_000_000
REGIONS = ("r1", "r2", "r3")
MUTATIONS = ("value", "swap", "shift", "kind", "region", "outcome", "end", "final")


def generate(seed: int, *, mutate: bool | None = None) -> tuple[list[Op], bool]:
    """(history, mutated)."""
    rng = random.Random(seed)
    regions = REGIONS[:rng.choice((2, 3))]
    skew = {r: rng.choice((0, 0, 0, 2, -2, 5)) for r in regions} if rng.random() < 0.3 \
        else {}
    n_writes = rng.randint(1, 4)
    n_reads = rng.randint(1, 8)
    dense = rng.random() < 0.3  # many overlapping operations: ambiguous orders
    horizon = 4 if dense else rng.choice((10, 20, 40))
    ops: list[dict] = []
    for i in range(n_writes + n_reads):
        s = rng.randrange(horizon)
        d = rng.randint(1, 12 if dense else 8)
        o = {"region": rng.choice(regions), "start": s, "end": s + d}
        if i < n_writes:
            o.update(f="write", value=100 + i)
            roll = rng.random()
            o["outcome"] = "info" if roll < 0.15 else "fail" if roll < 0.2 else "ok"
            o["cas"] = rng.random() < 0.3
        else:
            o.update(f="read", sc=rng.random() < 0.7)
        ops.append(o)
    _execute(ops, regions, skew, rng)
    finals = []
    for r in regions:
        if rng.random() < 0.6:
            finals.append({"f": "read", "sc": True, "region": r, "start": horizon + 60,
                           "end": horizon + 62, "final": True,
                           "value": ops[0]["_final"][r]})
    for o in ops:
        o.pop("_final", None)
    ops += finals
    mutated = rng.random() < 0.6 if mutate is None else mutate
    if mutated:
        _mutate(ops, regions, rng)
    return _history(ops, skew), mutated


def _execute(ops: list[dict], regions, skew: dict, rng: random.Random) -> None:
    """Run the store: fill in read values, cas old values, whether writes took effect."""
    events = []  # (time, order, kind, op)
    for k, o in enumerate(ops):
        if o["f"] == "write":
            if o["outcome"] == "fail" or (o["outcome"] == "info" and rng.random() < 0.5):
                o["applied"] = False
                continue
            hi = o["end"] if o["outcome"] == "ok" else o["end"] + 10
            events.append((rng.uniform(o["start"], hi), k, "effect", o))
        else:
            events.append((rng.uniform(o["start"], o["end"]), k, "read", o))
    events.sort(key=lambda e: (e[0], e[1]))
    leader = {r: (None, (-1e9, "", -1)) for r in regions}   # value, stamp
    held = {r: [(None, (-1e9, "", -1))] for r in regions}    # (value, stamp) in order
    ec_floor = {r: (-1e9, "", -1) for r in regions}
    pending = []                                             # (time, seq, region, version)
    seq = 0

    def apply(r, value, stamp):
        if stamp > leader[r][1]:
            leader[r] = (value, stamp)
            held[r].append((value, stamp))

    def deliver_until(t):
        pending.sort(key=lambda p: (p[0], p[1]))
        while pending and pending[0][0] <= t:
            _, _, r, (value, stamp) = pending.pop(0)
            apply(r, value, stamp)

    for t, k, kind, o in events:
        deliver_until(t)
        r = o["region"]
        if kind == "read":
            if o["sc"]:
                o["value"] = leader[r][0]
            else:
                choices = [(v, st) for v, st in held[r] if st >= ec_floor[r]] or \
                          [(None, (-1e9, "", -1))]
                if rng.random() < 0.5:
                    v, st = choices[-1]
                else:
                    v, st = rng.choice(choices)
                if st >= ec_floor[r]:
                    ec_floor[r] = st
                o["value"] = v
            continue
        if o["cas"]:
            o["old"] = leader[r][0] if rng.random() < 0.7 else rng.choice(
                [None, 100, 101, 102, 103])
            if o["old"] == o["value"]:
                o["old"] = None
            if leader[r][0] != o["old"]:
                o["applied"] = False
                if o["outcome"] == "ok":
                    o["outcome"] = "fail"
                    o["error"] = "ConditionalCheckFailed"
                continue
        o["applied"] = True
        seq += 1
        stamp = (max(t + skew.get(r, 0), leader[r][1][0] + 1e-6), r, seq)
        apply(r, o["value"], stamp)
        for dest in regions:
            if dest != r:
                delay = rng.choice((rng.uniform(0, 6), rng.uniform(0, 30), 1e6))
                pending.append((t + delay, seq, dest, (o["value"], stamp)))
    deliver_until(float("inf"))
    ops[0]["_final"] = {r: leader[r][0] for r in regions}


def _mutate(ops: list[dict], regions, rng: random.Random) -> None:
    reads = [o for o in ops if o["f"] == "read"]
    writes = [o for o in ops if o["f"] == "write"]
    values = [w["value"] for w in writes] + [None]
    for _ in range(rng.choice((1, 1, 2))):
        m = rng.choice(MUTATIONS)
        r = rng.choice(reads) if reads else None
        if m == "value" and r:
            r["value"] = rng.choice(values)
        elif m == "swap" and len(reads) > 1:
            a, b = rng.sample(reads, 2)
            a["value"], b["value"] = b["value"], a["value"]
        elif m == "shift" and r and not r.get("final"):
            d = r["end"] - r["start"]
            r["start"] = max(0, r["start"] + rng.randint(-10, 10))
            r["end"] = r["start"] + d
        elif m == "kind" and r and not r.get("final"):
            r["sc"] = not r["sc"]
        elif m == "region" and r:
            r["region"] = rng.choice(regions)
        elif m == "outcome" and writes:
            w = rng.choice(writes)
            w["outcome"] = rng.choice(("ok", "info"))
            w.pop("error", None)
        elif m == "end" and writes:
            w = rng.choice(writes)
            w["end"] = w["start"] + rng.randint(1, 12)
        elif m == "final" and r:
            r["final"] = True
            r["sc"] = True


def _history(ops: list[dict], skew: dict) -> list[Op]:
    records: list[tuple[int, int, dict]] = []
    seq = 0
    for r, ms in skew.items():
        if ms:
            records.append((0, seq, dict(type="invoke", process="nemesis", f="skew-clock",
                                         value={"region": r, "ms": ms})))
            records.append((0, seq + 1, dict(type="ok", process="nemesis", f="skew-clock",
                                             value={"region": r, "ms": ms})))
            seq += 2
    for p, o in enumerate(ops):
        extra = {"final": True} if o.get("final") else {}
        base: dict[str, Any] = dict(process=p, key="k", region=o["region"], extra=extra)
        if o["f"] == "read":
            base.update(f="read", consistent=o["sc"])
            inv, done = dict(base, type="invoke"), dict(base, type="ok", value=o["value"])
        else:
            if o.get("cas"):
                base.update(f="cas", value=[o.get("old"), o["value"]])
            else:
                base.update(f="write", value=o["value"])
            inv = dict(base, type="invoke")
            done = dict(base, type=o["outcome"])
            if o["outcome"] == "fail":
                done["error"] = o.get("error", "ValidationException")
            elif o["outcome"] == "info":
                done["error"] = "timeout"
        records.append((o["start"] * MS, seq, inv))
        records.append((o["end"] * MS, seq + 1, done))
        seq += 2
    records.sort(key=lambda x: (x[0], x[1]))
    history = [Op(index=i, time=t + MS, **d) for i, (t, _, d) in enumerate(records)]
    validate(history)
    return history
