"""Generators the workloads share: seeded random operations with unique values, final
reads in every region, and per-thread steps retried after a conflict.

All are pure values in the harness's generator protocol (suite/generator.py): every random
choice comes from a seed carried in the generator and every counter is part of its value,
so the same seed gives the same operation schedule, and `suite.generator.simulate` can
show exactly what a workload will do without a target.

- `UniqueOps(choose, seed)`: calls `choose(rng, next_value, last_written)` per operation;
  `choose` returns an op dict and whether it used `next_value`, so written values are
  unique across the run (the register checker can tell every write apart), and it may
  read `last_written` (key -> the last value generated for that key) to aim a cas.
- `pick(rng, mix)` / `read(key, kind)`: one operation kind from a weighted mix; an SC or
  EC read.
- `final_reads(keys, regions=n)`: every key is read in every region with an SC read,
  marked `"final": True`, the keys shared out among each region's client threads
  (`RegionShares`: thread t is in region t mod n; the region's j-th of m threads reads
  keys j, j + m, ...), so a region with two threads reads its keys in half the time while
  each thread still does one operation at a time (issue 23: the final phase was every
  thread reading every key in turn, each SC read a WAN round trip under MRSC). Without
  `regions` every thread reads every key. A final read that got no answer (`fail`, e.g.
  503 while a region that was out catches up, or `info`) is retried within the final
  phase (`UntilAnswered`): a read that could not be made tells nothing about the region,
  so it is tried again rather than leaving the region unread (issue 21, item 4).
- `HotKeys(gen, keys, hot, window_ops)`: Jepsen's independent keys, simplified: `gen`
  picks among `hot` slot keys and this maps them onto a window of `hot` real keys that
  moves on every `window_ops` operations, so contention stays high (a stale read shows in
  seconds) while a run still touches many keys, each with a short history.
- `Steps(ops, retry_on, attempts)`: a thread's fixed list of operations, each retried
  (as a new recorded operation, `"attempt"` counting from 1) while its completion fails
  with an error in `retry_on` -- the demos' retry on ReplicatedWriteConflictException.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from suite.generator import (PENDING, EachThread, Generator, _Wrapper, as_gen, each_thread,
                             gen_op, gen_update)

FINAL = "final"

Choose = Callable[[random.Random, int, Mapping[str, int]], tuple[dict, bool]]


@dataclass(frozen=True)
class UniqueOps(Generator):
    """Seeded random operations; `next_value` and `last_written` are part of the value."""

    choose: Choose
    seed: int
    next_value: int = 1
    last_written: Mapping[str, int] = field(default_factory=dict)

    def op(self, test, ctx):
        if ctx.some_free_thread() is None:
            return PENDING
        rng = random.Random(self.seed)
        op, used = self.choose(rng, self.next_value, self.last_written)
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        last = self.last_written
        if used:
            last = {**last, op["key"]: self.next_value}
        return res[0], UniqueOps(self.choose, rng.getrandbits(64),
                                 self.next_value + (1 if used else 0), last)


@dataclass(frozen=True)
class HotKeys(_Wrapper):
    """Slot key `slots[j]` of the inner generator's op becomes `keys[(w * hot + j) %
    len(keys)]` during window `w` = operations done // `window_ops` (module docstring)."""

    gen: Any
    keys: tuple
    hot: int
    window_ops: int
    n: int = 0

    def step(self, ctx, op, nxt):
        slot = int(str(op["key"])[1:]) if str(op.get("key", "")).startswith("k") else None
        if slot is not None and 0 <= slot < self.hot:
            window = self.n // self.window_ops
            op = {**op, "key": self.keys[(window * self.hot + slot) % len(self.keys)]}
        return op, HotKeys(nxt, self.keys, self.hot, self.window_ops, self.n + 1)


def _field(event: Any, name: str, default: Any = None) -> Any:
    if isinstance(event, Mapping):
        return event.get(name, default)
    if hasattr(event, name):
        return getattr(event, name)
    extra = getattr(event, "extra", None) or {}
    return extra.get(name, default)


@dataclass(frozen=True)
class Steps(Generator):
    """One thread's operations in order; an op whose completion fails with an error in
    `retry_on` is issued again (a new operation, attempt + 1) up to `attempts` times."""

    ops: tuple
    retry_on: frozenset = frozenset()
    attempts: int = 1
    i: int = 0
    attempt: int = 1
    waiting: bool = False  # an invocation is in flight: the next op waits for its outcome

    def op(self, test, ctx):
        if self.i >= len(self.ops):
            return None
        if self.waiting:
            return PENDING
        op = self.ops[self.i]
        if op.get("type") == "sleep":
            res = gen_op(op, test, ctx)
            if res is None or res is PENDING:
                return res
            return res[0], Steps(self.ops, self.retry_on, self.attempts, self.i + 1)
        res = gen_op({**op, "attempt": self.attempt}, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], Steps(self.ops, self.retry_on, self.attempts, self.i, self.attempt,
                             True)

    def update(self, test, ctx, event):
        kind = _field(event, "type")
        if not self.waiting or kind == "invoke":
            return self
        retry = (kind == "fail" and _field(event, "error") in self.retry_on
                 and self.attempt < self.attempts)
        if retry:
            return Steps(self.ops, self.retry_on, self.attempts, self.i, self.attempt + 1)
        return Steps(self.ops, self.retry_on, self.attempts, self.i + 1, 1)


FINAL_READ_ATTEMPTS = 12   # attempts per final read of a key in a thread
FINAL_READ_GAP_S = 0.25    # pause before each retry: a recovering region catches up


@dataclass(frozen=True)
class UntilAnswered(Generator):
    """One operation, issued again (a new recorded operation, `"attempt"` from 1) after
    `gap_s` while its completion is `fail` or `info`, up to `attempts` times. For reads
    only: retrying a write whose outcome is unknown could apply it twice."""

    template: Mapping[str, Any]
    attempts: int = FINAL_READ_ATTEMPTS
    gap_s: float = FINAL_READ_GAP_S
    attempt: int = 1
    waiting: bool = False
    pause: bool = False
    done: bool = False

    def _with(self, **kw) -> "UntilAnswered":
        return dataclasses.replace(self, **kw)

    def op(self, test, ctx):
        if self.done:
            return None
        if self.waiting:
            return PENDING
        if self.pause:
            res = gen_op({"type": "sleep", "value": self.gap_s}, test, ctx)
            if res is None or res is PENDING:
                return res
            return res[0], self._with(pause=False)
        op = dict(self.template)
        if self.attempt > 1:
            op["attempt"] = self.attempt
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], self._with(waiting=True)

    def update(self, test, ctx, event):
        kind = _field(event, "type")
        if not self.waiting or kind not in ("ok", "fail", "info"):
            return self
        if kind != "ok" and self.attempt < self.attempts:
            return self._with(waiting=False, pause=self.gap_s > 0, attempt=self.attempt + 1)
        return self._with(waiting=False, done=True)


def pick(rng: random.Random, mix: Sequence[tuple[str, float]]) -> str:
    """One kind of operation from a mix of (kind, fraction); the last takes any rest."""
    x, acc = rng.random(), 0.0
    for kind, fraction in mix:
        acc += fraction
        if x < acc:
            return kind
    return mix[-1][0]


def read(key: str, kind: str) -> dict:
    """An SC ("read-sc") or EC ("read-ec") read of `key`."""
    return {"f": "read", "key": key, "consistent": kind == "read-sc"}


@dataclass(frozen=True)
class RegionShares(Generator):
    """`items` shared out among each region's client threads: thread t is in region
    t mod `regions` (`workloads.base.region_of_thread`, the runner's rule); the region's
    j-th of its m threads (in thread order) runs `make(item)` for items j, j + m, j + 2m,
    ... in turn, so every item is done in every region, once, and each thread does one
    operation at a time. The threads are those of the first context it sees."""

    items: tuple
    regions: int
    make: Callable[[Any], Any]
    each: Any = None  # the per-thread generators (an EachThread) once the threads are known

    def _each(self, ctx) -> Any:
        if self.each is not None:
            return self.each
        threads = sorted(t for t in ctx.all_threads if isinstance(t, int))
        per = {}
        for t in threads:
            mates = [u for u in threads if u % self.regions == t % self.regions]
            share = self.items[mates.index(t)::len(mates)]
            per[t] = as_gen([self.make(x) for x in share])
        return EachThread(None, per)

    def op(self, test, ctx):
        res = gen_op(self._each(ctx), test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], dataclasses.replace(self, each=res[1])

    def update(self, test, ctx, event):
        return dataclasses.replace(self, each=gen_update(self._each(ctx), test, ctx, event))


def final_reads(keys: Sequence[str], *, f: str = "read", regions: int | None = None) -> Any:
    """SC reads of every key, marked final, each retried until answered
    (`UntilAnswered`): with `regions` (how many the run has) every key once per region,
    shared out among the region's threads (`RegionShares`); without, every key by every
    client thread."""
    def read_of(k: str) -> UntilAnswered:
        return UntilAnswered({"f": f, "key": k, "consistent": True, FINAL: True})
    if regions is None:
        return each_thread([read_of(k) for k in keys])
    if regions < 1:
        raise ValueError(f"regions must be at least 1, got {regions}")
    return RegionShares(tuple(keys), regions, read_of)


__all__ = ["FINAL", "HotKeys", "RegionShares", "Steps", "UniqueOps", "UntilAnswered",
           "final_reads", "pick", "read"]
