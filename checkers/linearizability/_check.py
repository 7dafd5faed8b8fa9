"""From a history of ops to a verdict: pairing, model preparation, partitioning, search.

`check` pairs each invocation with its completion (in the history's order, which is
real-time order: the recorder appends an invocation before sending it and a completion
after receiving it), lets the model prepare each call (drop what constrains nothing),
splits the calls by key (P-compositionality: a history is linearizable iff each key's
sub-history is, for models whose keys are independent), drops crashed calls that cannot
matter, and runs the Wing-Gong-Lowe search on each part. Parts can run in several worker
processes for large histories. A deadline turns an unfinished search into "unknown",
never into a guess.
"""

from __future__ import annotations

import gc
import time
from operator import attrgetter
from typing import Any, Callable, Generator, Hashable, Iterable, Sequence

from checkers.linearizability._search import UNKNOWN, search, searcher, sequential
from checkers.linearizability.models import (INFO, SCALAR_TYPES, Call, MapModel, Model,
                                             freeze, get_model)
from checkers.linearizability.rules import Rules, get_rules
from results.history import INVOKE, NEMESIS, Op
from gtcheck.errors import BadInput


def to_calls(ops: Iterable[Op]) -> list[Call]:
    """Pair client invocations with completions into Calls (nemesis ops are skipped).

    Positions count client events in history order; a call never completed, or completed
    `info`, gets no return position (it stays open to the end)."""
    calls: list[Call] = []
    append = calls.append
    open_: dict[Any, tuple[Op, int]] = {}
    pos = 0
    for op in ops:
        p = op.process
        if p == NEMESIS:
            continue
        typ = op.type
        if typ == INVOKE:
            if p in open_:
                raise BadInput(f"history index {op.index}: process {p} invokes "
                               "while an operation is still in flight")
            open_[p] = (op, pos)
        else:
            got = open_.pop(p, None)
            if got is None:
                raise BadInput(f"history index {op.index}: {typ} completion by process "
                               f"{p} without an invocation")
            inv, cpos = got
            key = inv.key
            if key is None:
                key = op.key
            v = inv.value
            if v is not None and type(v) not in SCALAR_TYPES:
                v = freeze(v)
            if typ == INFO:
                append(Call(inv.index, p, inv.f, key, v, None, typ, op.error, cpos, None))
            else:
                out = op.value
                if out is not None and type(out) not in SCALAR_TYPES:
                    out = freeze(out)
                append(Call(inv.index, p, inv.f, key, v, out, typ, op.error, cpos, pos))
        pos += 1
    for inv, cpos in open_.values():
        append(Call(inv.index, inv.process, inv.f, inv.key, freeze(inv.value), None,
                    INFO, None, cpos, None))
    calls.sort(key=lambda c: c.call_pos)
    return calls


_status = attrgetter("status")


def drop_late_crashes(calls: list[Call]) -> list[Call]:
    """Crashed calls invoked after every definite call returned can all go last: drop."""
    if INFO not in map(_status, calls):
        return calls  # the common case, cheaply (many keys of a few calls each: no
        # Python frame per key, as a comprehension has, and none per call)
    last_ret = max((c.ret_pos for c in calls if c.status != INFO), default=-1)
    return [c for c in calls if c.status != INFO or c.call_pos < last_ret]


def _sort_key(k: Hashable) -> tuple[str, str]:
    return (type(k).__name__, repr(k))


def partitions(model: Model, calls: Sequence[Call]) -> dict[Hashable, list[Call]]:
    parts: dict[Hashable, list[Call]] = {}
    get = parts.get
    by_key = getattr(model.partition, "__func__", None) is Model.partition
    for c in calls:
        k = c.key if by_key else model.partition(c)  # the default partition: the key
        part = get(k)
        if part is None:
            parts[k] = [c]
        else:
            part.append(c)
    return {k: parts[k] for k in sorted(parts, key=_sort_key)}


SETTLE_FRACTION = 1.0   # after a first invalid key: extra time, as a share of time spent
SETTLE_MIN_S = 1.0      # ... and at least this long (never past the deadline)
COUNTEREXAMPLES_MAX = 20  # invalid keys whose counterexamples a result carries
ACTIVE_MAX = 16         # searches interleaved at once (each holds its key's search state)


def check_parts(model: Model, parts: dict[Hashable, list[Call]], init_state: Hashable,
                deadline: float | None, *, settle: bool = True,
                clock: Callable[[], float] = time.monotonic,
                ) -> dict[Hashable, tuple[dict, list[Call]]]:
    """Search every partition, interleaved; -> {key: (search result, crashed dropped)}.

    Each partition's search is a generator advanced one slice at a time, round-robin, so a
    cheap invalid key is found even when another key would take long (Porcupine gets the
    same effect from one goroutine per key and a kill switch). At most ACTIVE_MAX searches
    are under way at once, the next key's starting when one finishes: a search holds its
    key's linked list and memo tables until it ends, so interleaving every key of a
    1,000-key history at once held all of them (0.9 GB at 1M counter operations), while
    ACTIVE_MAX - 1 slots keep flowing past a long key just the same.
    Once a key is invalid the
    verdict is settled: the others get as much time again as was spent so far, and at
    least SETTLE_MIN_S (so every other invalid key a search can settle in that time gets
    its own counterexample), then the keys left unfinished are reported as
    {"valid": "unknown", "reason": "unchecked"}. A valid history never waits for this.
    With `settle` False the others are left at once (the verdict is all that is asked,
    as Porcupine stops at its first illegal partition).
    At the deadline every unfinished key is {"valid": "unknown", "reason": "timeout"}.
    `deadline` and the settling time are read on `clock` (see `check`).
    """
    results: dict[Hashable, tuple[dict, list[Call]]] = {}
    active: dict[Hashable, tuple[Generator, list[Call]]] = {}
    waiting: list[tuple[Hashable, list[Call]]] = []  # overlapping keys not yet begun
    t0 = clock()
    settle_by: float | None = None
    for k, calls in parts.items():
        kept = model.prune(drop_late_crashes(calls))
        done = sequential(model, kept, init_state)
        if done is None:
            waiting.append((k, kept))
            continue
        results[k] = (done, kept)
        if done["valid"] is False and settle_by is None:
            now = clock()
            settle_by = now + (SETTLE_FRACTION * (now - t0) + SETTLE_MIN_S if settle else 0.0)
    waiting.reverse()  # popped from the end: keys begin in key order
    reason = None
    while (active or waiting) and reason is None:
        while waiting and len(active) < ACTIVE_MAX:
            k, kept = waiting.pop()
            active[k] = (searcher(model, kept, init_state, track=True), kept)
        for k in list(active):
            gen, kept = active[k]
            try:
                next(gen)
            except StopIteration as stop:
                results[k] = (stop.value, kept)
                del active[k]
                if stop.value["valid"] is False and settle_by is None:
                    now = clock()
                    settle_by = now + (SETTLE_FRACTION * (now - t0) + SETTLE_MIN_S if settle else 0.0)
            # checked after every slice, not every round: with many keys a round is long
            now = clock()
            reason = ("timeout" if deadline is not None and now > deadline else
                      "unchecked" if settle_by is not None and now > settle_by else None)
            if reason is not None:
                break
    for k, (gen, kept) in active.items():
        gen.close()
        results[k] = ({"valid": UNKNOWN, "reason": reason}, kept)
    for k, kept in waiting:
        results[k] = ({"valid": UNKNOWN, "reason": reason}, kept)
    return {k: results[k] for k in parts}


def summaries(model: Model, parts: dict[Hashable, list[Call]], init_state: Hashable,
              deadline: float | None, *, settle: bool = True,
              clock: Callable[[], float] = time.monotonic) -> dict[Hashable, dict]:
    """Per key: {"valid", "dropped" (crashed calls dropped), "configurations" (explored),
    "reason" (when unknown), "counterexample" (when invalid)}, plain JSON-able data."""
    out = {}
    for k, (res, kept) in check_parts(model, parts, init_state, deadline,
                                      settle=settle, clock=clock).items():
        dropped = len(parts[k]) - len(kept)
        if res["valid"] is False and res.get("prefix") is None:
            # search again, keeping the longest prefix this time (see `searcher`)
            again = search(model, kept, init_state, deadline, track=True, clock=clock)
            res = again if again["valid"] is False else {**res, "prefix": []}
        summary: dict[str, Any] = {"valid": res["valid"], "dropped": dropped,
                                   "configurations": res.get("stats", {}).get(
                                       "configurations", 0)}
        if res["valid"] is False:
            summary["counterexample"] = counterexample(model, k, parts[k], res)
        elif res["valid"] == UNKNOWN:
            summary["reason"] = res.get("reason", "timeout")
        out[k] = summary
    return out


def counterexample(model: Model, key: Hashable, part: Sequence[Call], res: dict) -> dict:
    stuck: Call | None = res.get("stuck")
    prefix: list[Call] = res.get("prefix", [])
    if stuck is None:
        concurrent: list[Call] = []
    else:
        s_end = float("inf") if stuck.ret_pos is None else stuck.ret_pos
        concurrent = [c for c in part if c is not stuck and c.call_pos < s_end
                      and (c.ret_pos is None or c.ret_pos > stuck.call_pos)]
    states = [model.describe(s) for s in res.get("states", [])]
    ce = {
        "key": key,
        "op": None if stuck is None else stuck.index,
        "prefix": [c.index for c in prefix],
        "states": states,
        "concurrent": [c.index for c in concurrent],
        "descriptions": {str(c.index): model.describe_call(c)
                         for c in ([stuck] if stuck else []) + concurrent + prefix[-10:]},
    }
    if stuck is not None:
        ce["explanation"] = (
            f"{model.describe_call(stuck)} (history index {stuck.index}, process "
            f"{stuck.process}) cannot be linearized: after the longest linearizable "
            f"prefix found ({len(prefix)} operations) the state could be "
            f"{' or '.join(states) or 'nothing'}, and "
            + (f"no order of the {len(concurrent)} concurrent operation"
               f"{'' if len(concurrent) == 1 else 's'} makes it legal."
               if concurrent else
               "no other operation is concurrent with it, so no other order exists: "
               "what it returned contradicts every state the prefix allows."))
    return ce


def timed_out(name: str, meaning: Rules, partition: bool,
              parts: dict[Hashable, list[Call]], calls: list[Call], t0: float) -> dict:
    """The result when the deadline passed before any search began."""
    return {"valid": UNKNOWN, "model": name, "rules": meaning.to_json(),
            "partitioned": partition, "keys": len(parts), "ops": len(calls),
            "crashed_dropped": 0, "configurations": 0,
            "seconds": round(time.monotonic() - t0, 6), "unknown_keys": list(parts),
            "reason": "timeout"}


def check(ops: Sequence[Op], model: str | Model, *, initial: Any = None,
          timeout: float | None = None, partition: bool = True,
          workers: int = 1, rules: str | Rules | None = None,
          counterexamples: int = COUNTEREXAMPLES_MAX,
          clock: Callable[[], float] = time.monotonic) -> dict:
    """Is the history linearizable with respect to the model? (see `_check_all`)

    The cyclic garbage collector is paused meanwhile: the check allocates many small
    objects and makes no reference cycles, and the collector's passes over them cost
    up to a third of the check's time (and most of its variance)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_all(ops, model, initial=initial, timeout=timeout,
                          partition=partition, workers=workers, rules=rules,
                          counterexamples=counterexamples, clock=clock)
    finally:
        if collecting:
            gc.enable()


def _check_all(ops: Sequence[Op], model: str | Model, *, initial: Any = None,
               timeout: float | None = None, partition: bool = True,
               workers: int = 1, rules: str | Rules | None = None,
               counterexamples: int = COUNTEREXAMPLES_MAX,
               clock: Callable[[], float] = time.monotonic) -> dict:
    """Is the history linearizable with respect to the model?

    `model` is a name (register, cas-register, counter, set, kv) or a Model object;
    `initial` the initial value of every key (the model's default when None); `timeout`
    seconds for the whole check (then "unknown"); `partition` checks each key on its own
    (P-compositionality), else the whole map of keys at once; `workers` > 1 checks
    partitions in that many worker processes; `rules` (knossos, porcupine, dynamodb:
    see `rules.py`; default dynamodb, gtcheck's own histories) say what a failed call and
    a nil read mean; `counterexamples` how many invalid keys' counterexamples to keep
    (1: stop at the first invalid key, the verdict being settled, as Porcupine does).
    `clock` is what `timeout` is measured on: wall time (monotonic) by default, as a
    user's `--timeout`; `time.thread_time` makes it a budget of the search's own CPU
    seconds, so that a checker set's built-in budget gives the same verdict on a quiet
    and on a loaded machine (with `workers` > 1 the workers measure wall time). The
    result's "seconds" are wall seconds either way.
    Returns {"valid": True|False|"unknown", ...}; an invalid result carries
    "counterexamples" (one per invalid key found, at most `counterexamples`;
    "counterexamples_omitted" counts the rest) and, the first of them, "counterexample"
    (see docs/CONVENTIONS.md).
    """
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise BadInput(f"timeout must be a positive number of seconds, got {timeout!r}")
    t0 = time.monotonic()
    deadline = None if timeout is None else clock() + timeout
    base = get_model(model)
    m: Model = base if partition else MapModel(base)
    meaning = get_rules(rules)
    apply, name, prepare = meaning.apply, base.name, m.prepare
    calls: list[Call] = []
    keep = calls.append
    for c in to_calls(ops):
        c = apply(c, name)
        if c is not None:
            c = prepare(c)
            if c is not None:
                keep(c)
    init_state = m.init(initial)
    parts = partitions(m, calls) if partition else {None: calls}
    if deadline is not None and clock() > deadline:
        return timed_out(m.name, meaning, partition, parts, calls, t0)

    if not isinstance(workers, int) or workers < 1:
        raise BadInput(f"workers must be a positive integer, got {workers!r}")
    if workers > 1 and len(parts) > 1:
        from checkers.linearizability._parallel import summaries_in_workers
        if clock is not time.monotonic and deadline is not None:
            deadline = time.monotonic() + max(deadline - clock(), 0.0)  # what is left
        results = summaries_in_workers(m, parts, init_state, deadline, workers)
    else:
        results = summaries(m, parts, init_state, deadline, settle=counterexamples > 1,
                            clock=clock)

    invalid = [k for k, r in results.items() if r["valid"] is False]
    unknown = [k for k, r in results.items()
               if r["valid"] == UNKNOWN and r.get("reason") != "unchecked"]
    unchecked = [k for k, r in results.items() if r.get("reason") == "unchecked"]
    valid: bool | str = False if invalid else (UNKNOWN if unknown else True)
    out: dict[str, Any] = {
        "valid": valid,
        "model": m.name,
        "rules": meaning.to_json(),
        "partitioned": partition,
        "keys": len(parts),
        "ops": len(calls),
        "crashed_dropped": sum(r["dropped"] for r in results.values()),
        "configurations": sum(r.get("configurations", 0) for r in results.values()),
        "seconds": round(time.monotonic() - t0, 6),
    }
    if invalid:
        out["invalid_keys"] = invalid
        kept = invalid[:max(1, counterexamples)]
        out["counterexample"] = results[kept[0]]["counterexample"]
        out["counterexamples"] = [results[k]["counterexample"] for k in kept]
        out["counterexamples_omitted"] = len(invalid) - len(kept)
    if unknown:
        out["unknown_keys"] = unknown
        out["reason"] = "timeout"
    if unchecked:
        out["unchecked_keys"] = unchecked
    return out
