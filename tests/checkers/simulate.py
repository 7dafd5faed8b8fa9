"""Seeded simulated executions that produce histories with known verdicts.

The checkers are judged on histories whose truth we know by construction: a discrete-event
simulation of clients (threads bound to regions, issuing register, counter or set
operations) against one of two stores:
- "linearizable": one copy of every item; each operation takes effect at one instant
  inside its interval (so the history is linearizable), writes may fail with
  ReplicatedWriteConflict (not applied), operations may crash (`info`, applied or not);
  a region under isolation times out its writes and SC reads (not applied) and serves EC
  reads from the copy it held when it was cut off. This is what MRSC promises.
- "async": one copy per region, last-writer-wins on (region clock timestamp, origin); a
  write applies locally at once and is replicated to every other region after the pair's
  delay, over direct links only (a cut link holds its queue until it heals: no relay);
  counters and sets are read-modify-write of the whole item, so increments and adds can be
  lost. This is what async global tables promise and allow.
Faults are recorded as nemesis operations; the run ends with a heal and final SC reads in
every region (`extra["final"] = True`) once replication has drained. One `seed` decides
everything: the same arguments give the same history.

A `mutation` makes the store break one promise once, at the first chance after
`mutate_at_ms`, and an observer SC read (its own process) right after shows it:
- "drop-write": a write, cas or add is acknowledged but never takes effect (both stores);
- "reorder-apply" (async): a replicated version older than the copy replaces it anyway;
- "resurrect" (async): right after a write replaced a value in its region, a read there
  returns the replaced value;
- "rollback" (async): when a write is acknowledged, its region's copy goes back to the
  version it held before that write, and carries on from there;
- "stale-sc-read" (strong): right after a write is acknowledged, an SC read returns the
  state from before it took effect.
`run.mutated` says whether the mutation found its chance.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from results.history import Op, validate

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
MS = 1_000_000


@dataclass
class Sim:
    store: str = "linearizable"          # "linearizable" | "async"
    workload: str = "register"           # "register" | "counter" | "set"
    seed: int = 0
    regions: tuple[str, ...] = REGIONS
    keys: int = 3
    threads_per_region: int = 2
    duration_ms: int = 1000
    op_ms: tuple[int, int] = (2, 12)
    think_ms: tuple[int, int] = (0, 6)
    read_p: float = 0.5
    ec_p: float = 0.3
    cas_p: float = 0.15
    crash_p: float = 0.02
    conflict_p: float = 0.0
    replication_ms: int = 40             # async: one-way delay between any two regions
    cuts: list[tuple[str, str, int, int]] = field(default_factory=list)   # a, b, ms, ms
    isolations: list[tuple[str, int, int]] = field(default_factory=list)  # region, ms, ms
    skew_ms: dict[str, int] = field(default_factory=dict)
    writers: tuple[str, ...] | None = None  # regions whose clients write (None: all)
    mutation: str | None = None          # see the module's docstring
    mutate_at_ms: int = 0

    def run(self) -> list[Op]:
        return _Run(self).run()


class _Run:
    def __init__(self, cfg: Sim):
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.keys = [f"k{i}" for i in range(cfg.keys)]
        self.events: list[tuple[int, int, str, Any]] = []
        self.seq = 0
        self.records: list[tuple[int, int, dict]] = []
        self.next_value = 0
        self.next_process = 0
        self.end_ns = cfg.duration_ms * MS
        # stores
        self.one: dict[str, Any] = {}                        # linearizable
        self.frozen: dict[str, dict[str, Any]] = {}          # isolated region's EC copy
        self.copies = {r: {} for r in cfg.regions}           # async: key -> (value, ts, origin)
        self.known: dict[tuple[int, str], list] = {}         # thread knowledge of values
        self.versions: dict[str, dict] = {}                  # async: final version metadata
        self.mutated = False
        self.past: dict[tuple[str, str], list] = {}          # async: (region, key) -> versions held

    def mutate_now(self, name: str, t: int) -> bool:
        """Whether mutation `name` is to happen now (then it is marked done)."""
        if self.cfg.mutation != name or self.mutated or t < self.cfg.mutate_at_ms * MS:
            return False
        self.mutated = True
        return True

    def observe(self, t: int, region: str, key: str, value: Any) -> None:
        """An observer SC read in `region`, begun at t, that returned `value`."""
        p = self.fresh_process()
        self.record(t, type="invoke", process=p, f="read", key=key, region=region,
                    consistent=True)
        self.record(t + MS, type="ok", process=p, f="read", key=key, region=region,
                    consistent=True, value=value)
        self.at(t + MS, "nothing", None)  # the run lasts until the observer is done

    def on_nothing(self, t: int, data: Any) -> None:
        pass

    def set_copy(self, region: str, key: str, version: tuple) -> None:
        self.copies[region][key] = version
        self.past.setdefault((region, key), []).append(version)

    # --- plumbing ---------------------------------------------------------------------
    def at(self, t: int, kind: str, data: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, kind, data))

    def record(self, t: int, **d: Any) -> None:
        self.seq += 1
        self.records.append((t, self.seq, d))

    def fresh_process(self) -> int:
        self.next_process += 1
        return self.next_process - 1

    def isolated(self, region: str, t: int) -> bool:
        return any(r == region and s * MS <= t < e * MS for r, s, e in self.cfg.isolations)

    def link_cut(self, a: str, b: str, t: int) -> int | None:
        """The end (ns) of a cut covering link a-b at t, else None."""
        for x, y, s, e in self.cfg.cuts:
            if {x, y} == {a, b} and s * MS <= t < e * MS:
                return e * MS
        return None

    # --- the run ----------------------------------------------------------------------
    def run(self) -> list[Op]:
        cfg = self.cfg
        for r, ms in cfg.skew_ms.items():
            self.nemesis(0, "skew-clock", {"region": r, "ms": ms})
        for a, b, s, e in cfg.cuts:
            self.nemesis(s * MS, "cut", {"a": a, "b": b})
            self.heal(e * MS)
        for r, s, e in cfg.isolations:
            self.nemesis(s * MS, "isolate", {"region": r})
            self.heal(e * MS)
        thread = 0
        for r in cfg.regions:
            for _ in range(cfg.threads_per_region):
                self.at(self.rng.randrange(0, 3 * MS), "invoke",
                        {"thread": thread, "region": r, "process": self.fresh_process()})
                thread += 1
        last = 0
        while self.events:
            t, _, kind, data = heapq.heappop(self.events)
            last = max(last, t)
            getattr(self, "on_" + kind)(t, data)
        self.final_reads(last + 100 * MS)
        return self.history()

    def nemesis(self, t: int, f: str, value: dict) -> None:
        self.record(t - MS // 2, type="invoke", process="nemesis", f=f, value=value)
        self.record(t, type="ok", process="nemesis", f=f, value=value)

    def heal(self, t: int) -> None:
        self.record(t, type="invoke", process="nemesis", f="heal")
        self.record(t + MS // 2, type="ok", process="nemesis", f="heal")

    def history(self) -> list[Op]:
        ops = []
        for i, (t, _, d) in enumerate(sorted(self.records, key=lambda x: (x[0], x[1]))):
            extra = d.pop("extra", {})
            ops.append(Op(index=i, time=t, extra=extra, **d))
        validate(ops)
        return ops

    # --- clients ----------------------------------------------------------------------
    def choose(self, th: dict) -> dict:
        cfg, rng = self.cfg, self.rng
        key = rng.choice(self.keys)
        op = {"key": key, "region": th["region"]}
        reader = cfg.writers is not None and th["region"] not in cfg.writers
        if reader or rng.random() < cfg.read_p:
            op.update(f="read", consistent=rng.random() >= cfg.ec_p)
        elif cfg.workload == "register":
            self.next_value += 1
            seen = self.known.get((th["thread"], key))
            if seen and rng.random() < cfg.cas_p / (1 - cfg.read_p):
                op.update(f="cas", value=[seen[-1], self.next_value])
            else:
                op.update(f="write", value=self.next_value)
        elif cfg.workload == "counter":
            op.update(f="add", value=1)
        else:
            self.next_value += 1
            op.update(f="add", value=f"e{self.next_value}")
        return op

    def on_invoke(self, t: int, th: dict) -> None:
        if t >= self.end_ns:
            return
        cfg, rng = self.cfg, self.rng
        op = self.choose(th)
        d = rng.randrange(cfg.op_ms[0] * MS, cfg.op_ms[1] * MS)
        self.record(t, type="invoke", process=th["process"], **op)
        outcome = "ok"
        needs_quorum = op["f"] != "read" or op["consistent"]
        if cfg.store == "linearizable" and self.isolated(th["region"], t) and needs_quorum:
            outcome = "timeout"
        elif rng.random() < cfg.crash_p:
            outcome = "crash"
        elif op["f"] != "read" and rng.random() < cfg.conflict_p:
            outcome = "conflict"
        ctx = {"th": th, "op": op, "invoke": t, "end": t + d, "outcome": outcome}
        applies = outcome == "ok" or (outcome == "crash" and rng.random() < 0.5)
        if applies and outcome == "ok" and op["f"] != "read" \
                and self.mutate_now("drop-write", t):
            applies = False  # acknowledged, never applied
            ctx["observe"] = "current"
        if applies:
            self.at(t + 1 + rng.randrange(max(1, d - 2)), "apply", ctx)
        else:
            ctx["result"] = None
        self.at(t + d, "complete", ctx)

    def on_complete(self, t: int, ctx: dict) -> None:
        th, op, outcome = ctx["th"], ctx["op"], ctx["outcome"]
        base = {k: v for k, v in op.items() if k != "value"}
        if outcome in ("crash", "timeout"):
            self.record(t, type="info", process=th["process"], value=op.get("value"),
                        error="timeout", **base)
            th = {**th, "process": self.fresh_process()}
        elif outcome == "conflict":
            self.record(t, type="fail", process=th["process"], value=op.get("value"),
                        error="ReplicatedWriteConflict", **base)
        elif ctx.get("cas_failed"):
            self.record(t, type="fail", process=th["process"], value=op["value"],
                        error="ConditionalCheckFailed", **base)
        elif op["f"] == "read":
            value = ctx["result"]
            self.record(t, type="ok", process=th["process"], value=value, **base)
            if self.cfg.workload == "register" and value is not None:
                self.known.setdefault((th["thread"], op["key"]), []).append(value)
        else:
            self.record(t, type="ok", process=th["process"], value=op["value"], **base)
            if op["f"] in ("write", "cas"):
                new = op["value"] if op["f"] == "write" else op["value"][1]
                self.known.setdefault((th["thread"], op["key"]), []).append(new)
            self.after_ack(t, ctx)
        lo, hi = self.cfg.think_ms
        self.at(t + self.rng.randrange(lo * MS, hi * MS + 1), "invoke", th)

    def after_ack(self, t: int, ctx: dict) -> None:
        """Mutations that act when a write is acknowledged, and the observer reads."""
        op = ctx["op"]
        key, region = op["key"], op["region"]
        if ctx.get("observe") == "current":
            if self.cfg.store == "linearizable":
                self.observe(t + MS, region, key, self.one.get(key))
            else:
                self.observe(t + MS, region, key, self.copies[region].get(key, (None,))[0])
        elif ctx.get("observe") == "replaced":
            self.observe(t + MS, region, key, ctx["before"])
        elif "before" in ctx and self.cfg.store == "linearizable" \
                and self.mutate_now("stale-sc-read", t):
            self.observe(t + MS, self.rng.choice(self.cfg.regions), key, ctx["before"])
        elif "version" in ctx and self.mutate_now("rollback", t):
            past = self.past.get((region, key), [])
            i = past.index(ctx["version"]) if ctx["version"] in past else 0
            back = past[i - 1] if i > 0 else None
            if back is None:
                self.copies[region].pop(key, None)
            else:
                self.set_copy(region, key, back)
            self.observe(t + MS, region, key, back[0] if back else None)

    # --- the stores ---------------------------------------------------------------------
    def on_apply(self, t: int, ctx: dict) -> None:
        if self.cfg.store == "linearizable":
            self.apply_linearizable(t, ctx)
        else:
            self.apply_async(t, ctx)

    def _update(self, current: Any, op: dict, ctx: dict) -> tuple[bool, Any]:
        """(changed, new value) of applying a write-like op to `current`."""
        f, v = op["f"], op.get("value")
        if f == "write":
            return True, v
        if f == "cas":
            if current != v[0]:
                ctx["cas_failed"] = True
                return False, current
            return True, v[1]
        if self.cfg.workload == "counter":
            return True, (current or 0) + v
        return True, sorted(set(current or []) | {v})

    def apply_linearizable(self, t: int, ctx: dict) -> None:
        op, key = ctx["op"], ctx["op"]["key"]
        for r in self.cfg.regions:  # an isolated region keeps the copy it had when cut off
            if self.isolated(r, t):
                self.frozen.setdefault(r, dict(self.one))
            else:
                self.frozen.pop(r, None)
        if op["f"] == "read":
            region = op["region"]
            if not op["consistent"] and region in self.frozen:
                ctx["result"] = self.frozen[region].get(key)
            else:
                ctx["result"] = self.one.get(key)
            return
        before = self.one.get(key)
        changed, new = self._update(before, op, ctx)
        if changed:
            self.one[key] = new
            ctx["before"] = before

    def clock(self, region: str, t: int) -> int:
        return t + self.cfg.skew_ms.get(region, 0) * MS

    def apply_async(self, t: int, ctx: dict) -> None:
        op, key, region = ctx["op"], ctx["op"]["key"], ctx["op"]["region"]
        copy = self.copies[region]
        if op["f"] == "read":
            ctx["result"] = copy.get(key, (None,))[0]
            return
        cur = copy.get(key)
        changed, new = self._update(cur[0] if cur else None, op, ctx)
        if not changed:
            return
        ts = self.clock(region, t)
        if cur and (ts, region) <= (cur[1], cur[2]):
            ts = cur[1] + 1  # a local write always supersedes what the region holds
        self.set_copy(region, key, (new, ts, region))
        ctx["version"] = copy[key]
        if cur is not None and self.mutate_now("resurrect", t):
            ctx["observe"], ctx["before"] = "replaced", cur[0]
        for dest in self.cfg.regions:
            if dest == region:
                continue
            send = t
            cut_end = self.link_cut(region, dest, t)
            if cut_end is not None:
                send = cut_end  # the replicator's queue waits for the link to return
            self.at(send + self.cfg.replication_ms * MS, "deliver",
                    (dest, key, (new, ts, region)))

    def on_deliver(self, t: int, data) -> None:
        dest, key, version = data
        cur = self.copies[dest].get(key)
        if cur is None or (version[1], version[2]) > (cur[1], cur[2]):
            self.set_copy(dest, key, version)
        elif version != cur and self.mutate_now("reorder-apply", t):
            self.set_copy(dest, key, version)  # an older version applied over a newer one
            self.observe(t + MS, dest, key, version[0])

    def final_reads(self, t: int) -> None:
        for r in self.cfg.regions:
            p = self.fresh_process()
            for i, key in enumerate(self.keys):
                t0 = t + i * 4 * MS
                self.record(t0, type="invoke", process=p, f="read", key=key, region=r,
                            consistent=True, extra={"final": True})
                if self.cfg.store == "linearizable":
                    value = self.one.get(key)
                else:
                    value = self.copies[r].get(key, (None,))[0]
                self.record(t0 + 2 * MS, type="ok", process=p, f="read", key=key, region=r,
                            consistent=True, value=value, extra={"final": True})
            t += 1 * MS
        self.versions = {r: {k: {"value": v[0], "timestamp": v[1], "origin": v[2]}
                             for k, v in c.items()} for r, c in self.copies.items()}


def simulate(**kwargs: Any) -> list[Op]:
    return Sim(**kwargs).run()


def simulate_with_versions(**kwargs: Any) -> tuple[list[Op], dict]:
    run = _Run(Sim(**kwargs))
    ops = run.run()
    return ops, run.versions


def simulate_mutated(**kwargs: Any) -> tuple[list[Op], dict, bool]:
    """(history, final versions, whether the mutation happened)."""
    run = _Run(Sim(**kwargs))
    ops = run.run()
    return ops, run.versions, run.mutated
