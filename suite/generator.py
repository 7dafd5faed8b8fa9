"""Pure generators: what operations a test performs, when, and on which thread.

A generator is an immutable value with two methods (Jepsen's model, ARCHITECTURE.md):

- `op(test, ctx)` returns `(op, next_generator)` when it has an operation to emit,
  `PENDING` when it has none *yet* (it waits for a thread or for other operations to
  complete), or `None` when it is exhausted;
- `update(test, ctx, event)` returns the generator to use after an invocation or a
  completion `event` happened.

Because generators are values, asking twice gives the same answer, and an interpreter may
ask, wait for the operation's time, and ask again. Nothing here performs I/O or reads a
clock: time comes from the `Context` (nanoseconds since the run started), and randomness
from a seed carried inside the generator that needs it (`mix`, `stagger`, `seeded`), so
one seed gives one operation schedule. Plain data is a generator already: a dict is one
operation, a list/tuple runs its elements one after another, and a callable
`f()` / `f(test, ctx)` is called for every operation until it returns None.

An operation is a plain dict: `f`, optional `key`/`value`/`region`/...; the generator fills
in `type` ("invoke"), `process` (a free thread's current process) and `time` (ns). A
`{"type": "sleep", "value": seconds}` operation occupies a thread for that long and is not
recorded; `sleep(s)` makes one.

Threads are the integers 0..concurrency-1 (clients) and "nemesis". A client process that
crashes (an `info` completion) is retired; its thread continues as process
`process + concurrency`.

`simulate(...)` runs a generator with no target at all (perfect or seeded random
completions) and returns the exact operation list, which is how the tests pin down every
combinator.
"""

from __future__ import annotations

import dataclasses
import heapq
import inspect
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from suite.errors import BadInput, GeneratorError

NEMESIS = "nemesis"
SLEEP = "sleep"
NS = 1_000_000_000


class _Pending:
    """The single PENDING marker: "no operation now, ask again after something changes"."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()


def seconds_to_ns(s: float) -> int:
    return int(round(s * NS))


_MASK64 = (1 << 64) - 1


def _splitmix64(seed: int) -> tuple[int, int]:
    """One step of SplitMix64: (a pseudo-random 64-bit value, the next seed). A pure,
    cheap stand-in for building a `random.Random` per operation in the hot path."""
    seed = (seed + 0x9E3779B97F4A7C15) & _MASK64
    z = seed
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31), seed


def _uniform(seed: int) -> tuple[float, int]:
    """A float in [0, 1) and the next seed."""
    z, seed = _splitmix64(seed)
    return (z >> 11) / float(1 << 53), seed


def thread_order(t: Any) -> tuple:
    """Client threads in numeric order, then the nemesis thread: a stable choice order."""
    return (0, t) if isinstance(t, int) else (1, str(t))


# --- Context -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Context:
    """What a generator may know: the time, the threads it may use, which are free, and
    each thread's current process. Immutable; interpreters build a new one per change.

    `free_threads` is ordered: the thread that has been free the longest comes first, so
    operations rotate over all threads (and so over all regions) instead of piling onto
    the lowest-numbered one."""

    time: int
    all_threads: tuple
    free_threads: tuple  # free threads, longest-free first
    workers: Mapping[Any, Any]  # thread -> process

    @classmethod
    def initial(cls, concurrency: int, *, nemesis: bool = True, time: int = 0) -> "Context":
        threads = tuple(range(concurrency)) + ((NEMESIS,) if nemesis else ())
        return cls(time=time, all_threads=threads, free_threads=threads,
                   workers={t: t for t in threads})

    def free(self) -> list:
        """Free threads, longest-free first."""
        return list(self.free_threads)

    def is_free(self, thread: Any) -> bool:
        return thread in self.free_threads

    def some_free_thread(self) -> Any:
        return self.free_threads[0] if self.free_threads else None

    def process_of(self, thread: Any) -> Any:
        return self.workers[thread]

    def thread_of(self, process: Any) -> Any:
        """The thread currently running `process`, or None (retired or unknown)."""
        for t, p in self.workers.items():
            if p == process:
                return t
        return None

    def all_free(self) -> bool:
        return len(self.free_threads) == len(self.all_threads)

    # Built with the constructor, not dataclasses.replace: these run per operation.
    def restrict(self, keep: Callable[[Any], bool]) -> "Context":
        return Context(self.time, tuple(t for t in self.all_threads if keep(t)),
                       tuple(t for t in self.free_threads if keep(t)), self.workers)

    def with_time(self, time: int) -> "Context":
        return Context(time, self.all_threads, self.free_threads, self.workers)

    def busy(self, thread: Any) -> "Context":
        return Context(self.time, self.all_threads,
                       tuple(t for t in self.free_threads if t != thread), self.workers)

    def released(self, thread: Any, *, retire_to: Any = None) -> "Context":
        """Free `thread` (last in line); with `retire_to`, it continues as that process."""
        workers = self.workers
        if retire_to is not None:
            workers = {**workers, thread: retire_to}
        free = tuple(t for t in self.free_threads if t != thread) + (thread,)
        return Context(self.time, self.all_threads, free, workers)


def event_thread(ctx: Context, event: Mapping[str, Any]) -> Any:
    """The thread an invocation or completion event belongs to (process -> thread)."""
    p = event.get("process")
    if p == NEMESIS:
        return NEMESIS
    t = ctx.thread_of(p)
    if t is not None:
        return t
    # The process was just retired (info): the thread is the one it ran on.
    n = len([t for t in ctx.workers if isinstance(t, int)])
    return p % n if isinstance(p, int) and n else None


# --- Protocol and coercion ---------------------------------------------------------------

class Generator:
    """Base of the combinator records; subclasses are frozen dataclasses."""

    def op(self, test: Any, ctx: Context):  # -> (dict, gen) | PENDING | None
        raise NotImplementedError

    def update(self, test: Any, ctx: Context, event: Mapping[str, Any]) -> Any:
        return self


def as_gen(x: Any) -> Generator | None:
    """Coerce plain data to a generator: None, Generator, dict, list/tuple, callable."""
    if x is None or isinstance(x, Generator):
        return x
    if isinstance(x, Mapping):
        return Once(dict(x))
    if isinstance(x, (list, tuple)):
        return Seq(tuple(x)) if x else None
    if callable(x):
        return Fn(x, _arity(x))
    raise BadInput(f"not a generator: {x!r} (expected a dict, list, callable or Generator)")


def _arity(f: Callable) -> int:
    try:
        return len(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return 0


def gen_op(g: Any, test: Any, ctx: Context):
    """`op` on anything coercible to a generator."""
    g = as_gen(g)
    if g is None:
        return None
    return g.op(test, ctx)


def gen_update(g: Any, test: Any, ctx: Context, event: Mapping[str, Any]) -> Any:
    g = as_gen(g)
    return None if g is None else g.update(test, ctx, event)


def fill_in_op(op: Mapping[str, Any], ctx: Context):
    """Give `op` a type, a free thread's process and a time; PENDING if no thread is free,
    None if the context has no threads at all (it could never run: e.g. `clients(...)`
    inside the nemesis thread's copy of `each_thread`)."""
    out = dict(op)
    out.setdefault("type", "invoke")
    if "process" not in out:
        if not ctx.all_threads:
            return None
        thread = ctx.some_free_thread()
        if thread is None:
            return PENDING
        out["process"] = ctx.process_of(thread)
    out.setdefault("time", ctx.time)
    return out


def _soonest(candidates: Iterable[tuple[Any, Any]]):
    """Of (result, tag) pairs, the op with the lowest time (ties: the first offered);
    PENDING if none has an op but some are pending; None if all are exhausted."""
    best = None
    pending = False
    for res, tag in candidates:
        if res is None:
            continue
        if res is PENDING:
            pending = True
            continue
        if best is None or res[0]["time"] < best[0][0]["time"]:
            best = (res, tag)
    if best is not None:
        return best
    return PENDING if pending else None


# --- Leaves ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Once(Generator):
    """A single operation (what a dict coerces to)."""

    template: dict

    def op(self, test, ctx):
        op = fill_in_op(self.template, ctx)
        if op is None or op is PENDING:
            return op
        return op, None


@dataclass(frozen=True)
class Fn(Generator):
    """Calls `f()` or `f(test, ctx)` for each operation until it returns None. The result
    may itself be any generator-coercible value; its first operation is used."""

    f: Callable
    arity: int = -1

    def _call(self, test, ctx):
        arity = self.arity if self.arity >= 0 else _arity(self.f)
        return self.f(test, ctx) if arity >= 2 else self.f()

    def op(self, test, ctx):
        # Jepsen: a function is asked once per operation; a PENDING answer because no
        # thread is free must not consume a call, so check for a free thread first.
        if not ctx.all_threads:
            return None
        if ctx.some_free_thread() is None:
            return PENDING
        x = self._call(test, ctx)
        if x is None:
            return None
        res = gen_op(x, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], self


@dataclass(frozen=True)
class Seeded(Generator):
    """`f(rng)` (or `f(test, ctx, rng)`) per operation, with `rng` a `random.Random` derived
    purely from the carried seed: the same seed gives the same operations."""

    f: Callable
    seed: int

    def op(self, test, ctx):
        if not ctx.all_threads:
            return None
        if ctx.some_free_thread() is None:
            return PENDING
        rng = random.Random(self.seed)
        x = self.f(test, ctx, rng) if _arity(self.f) >= 3 else self.f(rng)
        if x is None:
            return None
        res = gen_op(x, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], Seeded(self.f, rng.getrandbits(64))


def seeded(f: Callable, seed: int) -> Seeded:
    return Seeded(f, seed)


_FRESH = object()  # Seq.head before the current element has been started


@dataclass(frozen=True)
class Seq(Generator):
    """Elements in order: each runs until exhausted, then the next (no synchronisation).
    `head` is the current element's state once started, so each step costs O(1)."""

    items: tuple
    i: int = 0
    head: Any = _FRESH

    def op(self, test, ctx):
        i, head = self.i, self.head
        while i < len(self.items):
            current = self.items[i] if head is _FRESH else head
            res = gen_op(current, test, ctx)
            if res is None:
                i, head = i + 1, _FRESH
                continue
            if res is PENDING:
                return PENDING
            op, nxt = res
            return op, Seq(self.items, i, nxt)
        return None

    def update(self, test, ctx, event):
        if self.i >= len(self.items):
            return self
        current = self.items[self.i] if self.head is _FRESH else self.head
        return Seq(self.items, self.i, gen_update(current, test, ctx, event))


def sleep(seconds: float) -> Once:
    """Occupy one thread for `seconds`; not recorded in the history."""
    return Once({"type": SLEEP, "value": seconds})


# --- Wrappers ----------------------------------------------------------------------------

class _Wrapper(Generator):
    """A combinator around one generator in its `gen` field: each operation the inner
    generator emits goes through `step` (which may change it, or end the stream by
    returning None), and events pass through to the inner generator."""

    def op(self, test, ctx):
        res = gen_op(self.gen, test, ctx)
        if res is None or res is PENDING:
            return res
        return self.step(ctx, *res)

    def step(self, ctx: Context, op: dict, nxt: Any):  # -> (op, generator) | None
        raise NotImplementedError

    def update(self, test, ctx, event):
        return dataclasses.replace(self, gen=gen_update(self.gen, test, ctx, event))


@dataclass(frozen=True)
class Limit(_Wrapper):
    """At most `remaining` operations of `gen`."""

    remaining: int
    gen: Any

    def op(self, test, ctx):
        return None if self.remaining <= 0 else super().op(test, ctx)

    def step(self, ctx, op, nxt):
        return op, Limit(self.remaining - 1, nxt)


def limit(n: int, gen: Any) -> Limit:
    return Limit(n, gen)


@dataclass(frozen=True)
class TimeLimit(_Wrapper):
    """Operations of `gen` until `dt` ns after its first operation's time (an operation
    due at or after the cutoff ends it)."""

    dt: int
    gen: Any
    cutoff: int | None = None

    def step(self, ctx, op, nxt):
        cutoff = self.cutoff if self.cutoff is not None else op["time"] + self.dt
        if op["time"] >= cutoff:
            return None
        return op, TimeLimit(self.dt, nxt, cutoff)


def time_limit(seconds: float, gen: Any) -> TimeLimit:
    return TimeLimit(seconds_to_ns(seconds), gen)


@dataclass(frozen=True)
class Stagger(_Wrapper):
    """Spaces operations by uniformly random gaps in [0, 2*dt) ns: `dt` on average, a
    rate of 1/dt. The gaps come from the carried seed."""

    dt: int
    gen: Any
    seed: int
    next_time: int | None = None

    def step(self, ctx, op, nxt):
        next_time = ctx.time if self.next_time is None else self.next_time
        u, seed = _uniform(self.seed)
        op = {**op, "time": max(op["time"], next_time)}
        return op, Stagger(self.dt, nxt, seed, next_time + int(u * 2 * self.dt))


def stagger(seconds: float, gen: Any, *, seed: int) -> Stagger:
    return Stagger(seconds_to_ns(seconds), gen, seed)


def rate(ops_per_s: float, gen: Any, *, seed: int) -> Stagger:
    """`stagger` expressed as a mean rate (operations per second, over all threads)."""
    if ops_per_s <= 0:
        raise BadInput(f"rate must be positive, got {ops_per_s}")
    return stagger(1.0 / ops_per_s, gen, seed=seed)


@dataclass(frozen=True)
class Delay(_Wrapper):
    """Operations exactly `dt` ns apart (a fixed schedule, e.g. for a nemesis)."""

    dt: int
    gen: Any
    next_time: int | None = None

    def step(self, ctx, op, nxt):
        next_time = ctx.time if self.next_time is None else self.next_time
        t = max(op["time"], next_time)
        return {**op, "time": t}, Delay(self.dt, nxt, t + self.dt)


def delay(seconds: float, gen: Any) -> Delay:
    return Delay(seconds_to_ns(seconds), gen)


@dataclass(frozen=True)
class Repeat(Generator):
    """The same generator value again and again (n times, or forever): `repeat({"f":
    "read"})` is an endless stream of reads."""

    gen: Any
    remaining: int | None = None

    def op(self, test, ctx):
        if self.remaining is not None and self.remaining <= 0:
            return None
        res = gen_op(self.gen, test, ctx)
        if res is None or res is PENDING:
            return res
        op, _ = res
        left = None if self.remaining is None else self.remaining - 1
        return op, Repeat(self.gen, left)


def repeat(gen: Any, n: int | None = None) -> Repeat:
    return Repeat(gen, n)


@dataclass(frozen=True)
class Cycle(Generator):
    """Runs `gen` to exhaustion, then starts it over from its original value (n times,
    or forever). A nemesis schedule: `cycle([sleep(5), {"f": "isolate"}, sleep(5),
    {"f": "heal"}])`."""

    original: Any
    current: Any
    remaining: int | None = None

    def op(self, test, ctx):
        current, remaining = self.current, self.remaining
        for _ in range(2):
            if remaining is not None and remaining <= 0:
                return None
            res = gen_op(current, test, ctx)
            if res is PENDING:
                return PENDING
            if res is not None:
                op, nxt = res
                return op, Cycle(self.original, nxt, remaining)
            # Exhausted: start over. A second exhaustion in a row means an empty cycle.
            current = self.original
            remaining = None if remaining is None else remaining - 1
        return None

    def update(self, test, ctx, event):
        return Cycle(self.original, gen_update(self.current, test, ctx, event),
                     self.remaining)


def cycle(gen: Any, n: int | None = None) -> Cycle:
    return Cycle(gen, gen, n)


@dataclass(frozen=True)
class MapOps(_Wrapper):
    """Applies `f(op) -> op` to every operation (e.g. to mark final reads)."""

    f: Callable[[dict], dict]
    gen: Any

    def step(self, ctx, op, nxt):
        if op.get("type") == SLEEP:
            return op, MapOps(self.f, nxt)
        return self.f(op), MapOps(self.f, nxt)


def map_ops(f: Callable[[dict], dict], gen: Any) -> MapOps:
    return MapOps(f, gen)


# --- Choice between generators -----------------------------------------------------------

@dataclass(frozen=True)
class Mix(Generator):
    """A random one of `gens` for each operation (seeded); exhausted ones drop out."""

    gens: tuple
    seed: int
    i: int | None = None

    def op(self, test, ctx):
        gens = self.gens
        rng = random.Random(self.seed)
        i = self.i if self.i is not None else (rng.randrange(len(gens)) if gens else 0)
        while gens:
            i = min(i, len(gens) - 1)
            res = gen_op(gens[i], test, ctx)
            if res is None:
                gens = gens[:i] + gens[i + 1:]
                i = rng.randrange(len(gens)) if gens else 0
                continue
            if res is PENDING:
                return PENDING
            op, nxt = res
            gens = gens[:i] + (nxt,) + gens[i + 1:]
            return op, Mix(gens, rng.getrandbits(64), rng.randrange(len(gens)))
        return None

    def update(self, test, ctx, event):
        return Mix(tuple(gen_update(g, test, ctx, event) for g in self.gens), self.seed,
                   self.i)


def mix(gens: Sequence[Any], *, seed: int) -> Mix:
    return Mix(tuple(gens), seed)


@dataclass(frozen=True)
class AnyOf(Generator):
    """Whichever of `gens` has the soonest operation; all of them see every update."""

    gens: tuple

    def op(self, test, ctx):
        res = _soonest((gen_op(g, test, ctx), i) for i, g in enumerate(self.gens))
        if res is None or res is PENDING:
            return res
        (op, nxt), i = res
        return op, AnyOf(self.gens[:i] + (nxt,) + self.gens[i + 1:])

    def update(self, test, ctx, event):
        return AnyOf(tuple(gen_update(g, test, ctx, event) for g in self.gens))


def any_of(*gens: Any) -> AnyOf:
    return AnyOf(tuple(gens))


# --- Threads -----------------------------------------------------------------------------

@dataclass(frozen=True)
class OnThreads(Generator):
    """`gen` sees only the threads for which `keep(thread)` holds, and only their events."""

    keep: Callable[[Any], bool]
    gen: Any

    def op(self, test, ctx):
        res = gen_op(self.gen, test, ctx.restrict(self.keep))
        if res is None or res is PENDING:
            return res
        op, nxt = res
        return op, OnThreads(self.keep, nxt)

    def update(self, test, ctx, event):
        t = event_thread(ctx, event)
        if t is None or not self.keep(t):
            return self
        return OnThreads(self.keep, gen_update(self.gen, test, ctx.restrict(self.keep), event))


def is_client_thread(t: Any) -> bool:
    return isinstance(t, int)


def is_nemesis_thread(t: Any) -> bool:
    return t == NEMESIS


def on_threads(keep: Callable[[Any], bool], gen: Any) -> OnThreads:
    return OnThreads(keep, gen)


def clients(gen: Any) -> OnThreads:
    """`gen` runs on the client threads only."""
    return OnThreads(is_client_thread, gen)


def nemesis(gen: Any) -> OnThreads:
    """`gen` runs on the nemesis thread only."""
    return OnThreads(is_nemesis_thread, gen)


def clients_and_nemesis(client_gen: Any, nemesis_gen: Any) -> AnyOf:
    """The usual main phase: client operations and a fault schedule side by side."""
    return AnyOf((clients(client_gen), nemesis(nemesis_gen)))


@dataclass(frozen=True)
class EachThread(Generator):
    """Every thread runs its own copy of `fresh` (e.g. each client does one write)."""

    fresh: Any
    per_thread: Mapping[Any, Any] = field(default_factory=dict)

    def _gen_for(self, t):
        return self.per_thread[t] if t in self.per_thread else self.fresh

    def op(self, test, ctx):
        candidates = []
        for t in ctx.free():
            sub = ctx.restrict(lambda x, t=t: x == t)
            candidates.append((gen_op(self._gen_for(t), test, sub), t))
        res = _soonest(candidates)
        if res is None:
            # Free threads are all done; busy ones may still have work left.
            busy = [t for t in ctx.all_threads if not ctx.is_free(t)]
            if any(self._gen_for(t) is not None for t in busy):
                return PENDING
            return None
        if res is PENDING:
            return PENDING
        (op, nxt), t = res
        return op, EachThread(self.fresh, {**self.per_thread, t: as_gen(nxt)})

    def update(self, test, ctx, event):
        t = event_thread(ctx, event)
        if t is None or t not in ctx.all_threads:
            return self
        sub = ctx.restrict(lambda x: x == t)
        g = gen_update(self._gen_for(t), test, sub, event)
        return EachThread(self.fresh, {**self.per_thread, t: g})


def each_thread(gen: Any) -> EachThread:
    return EachThread(gen)


@dataclass(frozen=True)
class Reserve(Generator):
    """The first n1 threads run gen1, the next n2 gen2, ..., the rest `default`
    (threads in order: clients by number, then the nemesis)."""

    counts: tuple
    gens: tuple  # one per count, plus the default last

    def _ranges(self, ctx):
        threads = sorted(ctx.all_threads, key=thread_order)
        groups, start = [], 0
        for n in self.counts:
            groups.append(frozenset(threads[start:start + n]))
            start += n
        groups.append(frozenset(threads[start:]))
        return groups

    def op(self, test, ctx):
        groups = self._ranges(ctx)
        res = _soonest((gen_op(g, test, ctx.restrict(lambda t, s=s: t in s)), i)
                       for i, (g, s) in enumerate(zip(self.gens, groups)))
        if res is None or res is PENDING:
            return res
        (op, nxt), i = res
        return op, Reserve(self.counts, self.gens[:i] + (nxt,) + self.gens[i + 1:])

    def update(self, test, ctx, event):
        t = event_thread(ctx, event)
        groups = self._ranges(ctx)
        gens = list(self.gens)
        for i, s in enumerate(groups):
            if t in s:
                gens[i] = gen_update(gens[i], test, ctx.restrict(lambda x, s=s: x in s), event)
        return Reserve(self.counts, tuple(gens))


def reserve(*args: Any) -> Reserve:
    """`reserve(5, writes, 10, cas, reads)`: pairs of (thread count, generator), then the
    generator for the remaining threads."""
    if len(args) % 2 != 1:
        raise BadInput("reserve takes (count, generator) pairs followed by a default generator")
    counts = tuple(args[0:-1:2])
    if any(not isinstance(n, int) or n < 0 for n in counts):
        raise BadInput(f"reserve counts must be non-negative integers, got {counts}")
    return Reserve(counts, tuple(args[1:-1:2]) + (args[-1],))


@dataclass(frozen=True)
class Synchronize(Generator):
    """Waits until every thread is free, then runs `gen` (a barrier)."""

    gen: Any
    started: bool = False

    def op(self, test, ctx):
        if not self.started and not ctx.all_free():
            return PENDING
        res = gen_op(self.gen, test, ctx)
        if res is None or res is PENDING:
            return res
        op, nxt = res
        return op, Synchronize(nxt, True)

    def update(self, test, ctx, event):
        return Synchronize(gen_update(self.gen, test, ctx, event), self.started)


def synchronize(gen: Any) -> Synchronize:
    return Synchronize(gen)


def phases(*gens: Any) -> Seq:
    """Each generator runs to exhaustion, and all its operations complete, before the
    next begins."""
    return Seq(tuple(Synchronize(g) for g in gens))


# --- The simulator -----------------------------------------------------------------------

Completion = Callable[[Any, Context, dict], dict]


def perfect(latency_s: float = 0.001) -> Completion:
    """Every operation succeeds (`ok`) after exactly `latency_s`."""
    lat = seconds_to_ns(latency_s)

    def complete(test, ctx, op):
        return {**op, "type": "ok", "time": op["time"] + lat}
    return complete


def random_completions(seed: int, *, latency_s_max: float = 0.01, p_fail: float = 0.1,
                       p_info: float = 0.1) -> Completion:
    """Seeded random outcomes: `fail` with p_fail, `info` with p_info, else `ok`, each
    after a latency uniform in [1 ns, latency_s_max]. Nemesis operations always succeed."""
    rng = random.Random(seed)
    lat_max = max(1, seconds_to_ns(latency_s_max))

    def complete(test, ctx, op):
        latency = rng.randint(1, lat_max)
        x = rng.random()
        if op["process"] == NEMESIS:
            kind = "ok"
        elif x < p_fail:
            kind = "fail"
        elif x < p_fail + p_info:
            kind = "info"
        else:
            kind = "ok"
        return {**op, "type": kind, "time": op["time"] + latency}
    return complete


def retired_process(process: Any, concurrency: int) -> Any:
    """The process id a thread continues under after `process` crashed (Jepsen's rule)."""
    return process + concurrency if isinstance(process, int) else process


def simulate(gen: Any, *, test: Any = None, concurrency: int = 2, nemesis: bool = True,
             complete: Completion | None = None, max_ops: int = 100_000) -> list[dict]:
    """Run `gen` with no target and return every invocation and completion, in order.

    Time is virtual: it jumps to the next operation's time or the next completion's.
    Completions come from `complete` (default `perfect()`); `sleep` operations occupy
    their thread and are not returned. Raises GeneratorError if the generator waits
    forever (PENDING with nothing in flight)."""
    complete = complete or perfect()
    ctx = Context.initial(concurrency, nemesis=nemesis)
    g = as_gen(gen)
    history: list[dict] = []
    in_flight: list[tuple[int, int, Any, dict | None]] = []  # (time, seq, thread, completion)
    seq = 0

    def finish_next():
        nonlocal ctx, g
        t, _, thread, done = heapq.heappop(in_flight)
        ctx = ctx.with_time(max(ctx.time, t))
        if done is None:  # a sleep ended
            ctx = ctx.released(thread)
            return
        retire = None
        if done["type"] == "info" and done["process"] != NEMESIS:
            retire = retired_process(done["process"], concurrency)
        history.append(done)
        # Update while the process still maps to its thread, then retire it.
        g = gen_update(g, test, ctx, done)
        ctx = ctx.released(thread, retire_to=retire)

    while len(history) < max_ops:
        res = gen_op(g, test, ctx)
        if res is None:
            if not in_flight:
                break
            finish_next()
            continue
        if res is PENDING:
            if not in_flight:
                raise GeneratorError("generator is pending with nothing in flight "
                                     f"(stuck at t={ctx.time} ns)")
            finish_next()
            continue
        op, nxt = res
        if in_flight and in_flight[0][0] <= op["time"]:
            finish_next()  # something completes first; ask again with the new context
            continue
        ctx = ctx.with_time(max(ctx.time, op["time"]))
        op = {**op, "time": ctx.time}
        thread = NEMESIS if op["process"] == NEMESIS else ctx.thread_of(op["process"])
        if thread is None or not ctx.is_free(thread):
            raise GeneratorError(f"generator emitted an op for busy or unknown process "
                                 f"{op['process']!r}: {op}")
        g = nxt
        ctx = ctx.busy(thread)
        seq += 1
        if op["type"] == SLEEP:
            heapq.heappush(in_flight, (ctx.time + seconds_to_ns(op["value"]), seq, thread, None))
            continue
        history.append(op)
        g = gen_update(g, test, ctx, op)
        done = complete(test, ctx, op)
        heapq.heappush(in_flight, (done["time"], seq, thread, done))
    return history


def invocations(history: Iterable[Mapping[str, Any]]) -> list[dict]:
    return [dict(op) for op in history if op.get("type") == "invoke"]
