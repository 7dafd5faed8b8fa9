"""Histories from a simulated concurrent execution of a sequential object.

For property tests and benchmarks of the checker we need histories whose verdict is known
without a checker: run `concurrency` client processes against one in-memory object per key;
every operation gets a random invocation time, a random duration and a random
linearization point inside that interval; applying the operations to the sequential object
in linearization-point order gives every result. Such a history is linearizable by
construction. A crashed operation (probability `crash_rate`) completes `info`: it took
effect at its linearization point or never (a coin toss), and its process retires, a fresh
process id taking its place, as the runner does. Seeded by the `random.Random` passed in.

`impossible_read(ops, model, rng)` changes one ok read to a value no linearization can
produce, for the matching negative property.
"""

from __future__ import annotations

import random
from typing import Any

from results.history import INFO, INVOKE, OK, Op

WORKLOADS = ("register", "cas-register", "counter", "set", "kv")


def _choose(model: str, state: Any, rng: random.Random, values: int, serial: int
            ) -> tuple[str, Any]:
    """A random operation (f, argument) for the model."""
    r = rng.random()
    if model == "register":
        return ("read", None) if r < 0.5 else ("write", rng.randrange(values))
    if model == "cas-register":
        if r < 0.4:
            return "read", None
        if r < 0.7:
            return "write", rng.randrange(values)
        return "cas", [rng.randrange(values), rng.randrange(values)]
    if model == "counter":
        return ("read", None) if r < 0.4 else ("add", rng.randint(1, 3))
    if model == "set":
        return ("read", None) if r < 0.4 else ("add", serial)
    if model == "kv":
        if r < 0.4:
            return "get", None
        if r < 0.55:
            return "put", f"p{serial}."
        return "append", f"a{serial}."
    raise ValueError(f"no simulated workload for model {model!r}")


def _initial(model: str) -> Any:
    return {"counter": 0, "set": frozenset(), "kv": ""}.get(model)


def _apply(model: str, state: Any, f: str, arg: Any) -> tuple[Any, Any, bool]:
    """Sequential semantics: -> (new state, result value, succeeded)."""
    if f in ("read", "get"):
        out = sorted(state) if model == "set" else state
        return state, out, True
    if f in ("write", "put"):
        return arg, arg, True
    if f == "cas":
        old, new = arg
        return (new, arg, True) if state == old else (state, arg, False)
    if f == "add":
        if model == "counter":
            return state + arg, arg, True
        return state | {arg}, arg, True
    if f == "append":
        return state + arg, arg, True
    raise ValueError(f)


def simulate(model: str, n_ops: int, rng: random.Random, *, concurrency: int = 5,
             keys: int = 1, crash_rate: float = 0.01, values: int = 5,
             mean_gap: float = 1.0, mean_duration: float = 3.0) -> list[Op]:
    """A linearizable history of about `n_ops` operations (see the module docstring).

    Processes pick a key uniformly; `values` bounds register values (small values make
    many writes indistinguishable, which is what makes checking hard)."""
    if model not in WORKLOADS:
        raise ValueError(f"no simulated workload for model {model!r}")
    # 1. invocation times, durations and linearization points, per process slot
    planned = []  # (t_inv, t_lin, t_ret, slot_process, key, f, arg, crashed)
    slot_free = [0.0] * concurrency
    process_of = list(range(concurrency))
    next_process = concurrency
    for serial in range(n_ops):
        slot = rng.randrange(concurrency)
        t_inv = slot_free[slot] + rng.expovariate(1.0 / mean_gap)
        dur = rng.expovariate(1.0 / mean_duration) + 1e-6
        t_ret = t_inv + dur
        t_lin = t_inv + rng.random() * dur
        crashed = rng.random() < crash_rate
        key = f"k{rng.randrange(keys)}" if keys > 1 else "k0"
        planned.append([t_inv, t_lin, t_ret, process_of[slot], key, serial, crashed])
        slot_free[slot] = t_ret
        if crashed:
            process_of[slot] = next_process
            next_process += 1
    # 2. apply in linearization order; choose operations as the state allows
    states: dict[str, Any] = {}
    effect: dict[int, tuple[str, Any, Any, bool, bool]] = {}
    for p in sorted(planned, key=lambda p: p[1]):
        t_inv, t_lin, t_ret, process, key, serial, crashed = p
        state = states.get(key, _initial(model))
        f, arg = _choose(model, state, rng, values, serial)
        takes_effect = not crashed or rng.random() < 0.5
        new, out, ok = _apply(model, state, f, arg)
        if takes_effect:
            states[key] = new
        effect[serial] = (f, arg, out, ok, takes_effect)
    # 3. the events, in time order
    events = []
    for t_inv, t_lin, t_ret, process, key, serial, crashed in planned:
        f, arg, out, ok, _ = effect[serial]
        events.append((t_inv, 0, serial, Op(-1, 0, INVOKE, process, f, key, arg)))
        if crashed:
            events.append((t_ret, 1, serial, Op(-1, 0, INFO, process, f, key, arg,
                                                error="timeout")))
        elif ok:
            events.append((t_ret, 1, serial, Op(-1, 0, OK, process, f, key, out)))
        else:
            events.append((t_ret, 1, serial, Op(-1, 0, "fail", process, f, key, arg,
                                                error="ConditionalCheckFailed")))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return [op.replace(index=i, time=int(t * 1_000_000))
            for i, (t, _, _, op) in enumerate(events)]


_IMPOSSIBLE = {"register": -1, "cas-register": -1, "counter": -1, "set": [-1],
               "kv": "impossible"}


def impossible_read(ops: list[Op], model: str, rng: random.Random) -> list[Op] | None:
    """The same history with one ok read changed to a value it cannot have (None if the
    history has no ok read): registers never hold -1, counters only grow from 0, sets
    never get -1, kv strings are never "impossible"."""
    reads = [i for i, op in enumerate(ops) if op.type == OK and op.f in ("read", "get")]
    if not reads:
        return None
    i = rng.choice(reads)
    out = list(ops)
    out[i] = ops[i].replace(value=_IMPOSSIBLE[model])
    return out
