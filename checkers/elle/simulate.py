"""Simulated transactional histories: a strictly serializable database, and planted
anomalies of each class Elle names.

`serializable(rng, n)` runs transactions of 1-4 micro-ops against one in-memory store,
each taking effect atomically at a single instant inside its [invoke, complete]
interval, one transaction in flight per process: such a history is strictly
serializable by construction, so the checker must never flag it. `plant(kind, ...)`
adds one instance of an anomaly, on fresh keys and fresh processes, to such a history:
the checker must always flag it and name it. The fragments are the canonical examples
of Adya (1999) and of Elle's paper and tests (read skew for G-single, write skew for
G2-item, H_lu for lost update, ...). One `random.Random` drives every choice.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Callable

from checkers.elle.txn import FAIL, INFO, OK, Txn


def serializable(rng: random.Random, n: int, *, workload: str = "list-append",
                 keys: int = 8, processes: int = 5, info_rate: float = 0.0,
                 fail_rate: float = 0.0, region: str | None = None,
                 max_writes_per_key: int = 32) -> list[Txn]:
    """`n` transactions of a strictly serializable execution over `keys` active keys;
    as in Elle's generator, a key retires after `max_writes_per_key` writes and a fresh
    one takes its place (so reads stay short)."""
    store: dict = {}
    active = list(range(keys))
    fresh = keys
    next_value: dict = {}
    busy_until = [0] * processes      # per thread
    process_of = list(range(processes))  # a thread's current process id
    next_process = processes
    txns: list[Txn] = []
    for i in range(n):
        t_exec = 10 * (i + 1)
        th = rng.randrange(processes)
        if busy_until[th] >= t_exec - 1:  # busy: take the thread free the longest
            th = min(range(processes), key=busy_until.__getitem__)
        p = process_of[th]
        invoke = rng.randint(max(busy_until[th] + 1, t_exec - 25), t_exec) \
            if busy_until[th] < t_exec else t_exec
        complete = t_exec + rng.randint(0, 25)
        mops = []
        outcome = OK
        roll = rng.random()
        if roll < fail_rate:
            outcome = FAIL
        elif roll < fail_rate + info_rate:
            outcome = INFO
        staged = dict()
        for _ in range(rng.randint(1, 4)):
            slot = rng.randrange(keys)
            k = active[slot]
            if rng.random() < 0.5:
                cur = staged.get(k, store.get(k, () if workload == "list-append" else None))
                mops.append(("r", k, cur))
            else:
                v = next_value.get(k, 1)
                next_value[k] = v + 1
                if v >= max_writes_per_key:
                    active[slot] = fresh
                    fresh += 1
                if workload == "list-append":
                    staged[k] = staged.get(k, store.get(k, ())) + (v,)
                    mops.append(("append", k, v))
                else:
                    staged[k] = v
                    mops.append(("w", k, v))
        applied = outcome == OK or (outcome == INFO and rng.random() < 0.5)
        if applied:
            store.update(staged)
        if outcome != OK:  # a failed / indeterminate txn's reads are unknown
            mops = [(f, k, None if f == "r" else v) for f, k, v in mops]
        txns.append(Txn(len(txns), 2 * i + 1, p, outcome, mops, invoke,
                        complete if outcome != INFO else None, region))
        busy_until[th] = complete
        if outcome == INFO:  # a crashed process never returns; its thread goes on as a new one
            process_of[th] = next_process
            next_process += 1
    return txns


# kind -> fragment: [(process, invoke, complete, type, mops)], keys "x", "y" fresh.
# Times are relative; overlapping intervals are concurrent.
FRAGMENTS: dict[str, tuple[str, list]] = {
    "G0": ("G0", [
        (0, 0, 10, OK, [("append", "x", 1), ("append", "y", 1)]),
        (1, 0, 10, OK, [("append", "x", 2), ("append", "y", 2)]),
        (2, 20, 30, OK, [("r", "x", (1, 2)), ("r", "y", (2, 1))])]),
    "G1a": ("G1a", [
        (0, 0, 10, FAIL, [("append", "x", 1)]),
        (1, 20, 30, OK, [("r", "x", (1,))])]),
    "G1b": ("G1b", [
        (0, 0, 10, OK, [("append", "x", 1), ("append", "x", 2)]),
        (1, 5, 30, OK, [("r", "x", (1,))])]),
    "G1c": ("G1c", [
        (0, 0, 10, OK, [("append", "x", 1), ("r", "y", (1,))]),
        (1, 0, 10, OK, [("append", "y", 1), ("r", "x", (1,))])]),
    "G-single": ("G-single-item", [  # read skew
        (0, 0, 10, OK, [("append", "x", 1), ("append", "y", 1)]),
        (1, 0, 10, OK, [("r", "x", (1,)), ("r", "y", ())])]),
    "G2-item": ("G2-item", [  # write skew
        (0, 0, 10, OK, [("r", "x", ()), ("append", "y", 1)]),
        (1, 0, 10, OK, [("r", "y", ()), ("append", "x", 1)]),
        (2, 20, 30, OK, [("r", "x", (1,)), ("r", "y", (1,))])]),
    "lost-update": ("lost-update", [  # Adya's H_lu
        (0, 0, 10, OK, [("append", "x", 0)]),
        (1, 20, 30, OK, [("r", "x", (0,)), ("append", "x", 1)]),
        (2, 20, 30, OK, [("r", "x", (0,)), ("append", "x", 2)]),
        (3, 40, 50, OK, [("r", "x", (0, 1))])]),
    "duplicate-elements": ("duplicate-elements", [
        (0, 0, 10, OK, [("append", "x", 1)]),
        (1, 20, 30, OK, [("r", "x", (1, 1))])]),
    "internal": ("internal", [
        (0, 0, 10, OK, [("append", "x", 1), ("r", "x", ())])]),
    "incompatible-order": ("incompatible-order", [
        (0, 0, 10, OK, [("append", "x", 1)]),
        (1, 0, 10, OK, [("append", "x", 2)]),
        (2, 20, 30, OK, [("r", "x", (1, 2))]),
        (3, 20, 30, OK, [("r", "x", (2, 1))])]),
    "future-read": ("future-read", [
        (0, 0, 10, OK, [("r", "x", (1,)), ("append", "x", 1)])]),
    "stale-read": ("G-single-item-realtime", [
        (0, 0, 10, OK, [("append", "x", 1)]),
        (1, 20, 30, OK, [("r", "x", ())])]),
}
KINDS = tuple(FRAGMENTS)

# The same classes for rw-register (nil is the unwritten register, before every value).
RW_FRAGMENTS: dict[str, tuple[str, list]] = {
    "G1a": ("G1a", [
        (0, 0, 10, FAIL, [("w", "x", 1)]),
        (1, 20, 30, OK, [("r", "x", 1)])]),
    "G1b": ("G1b", [
        (0, 0, 10, OK, [("w", "x", 1), ("w", "x", 2)]),
        (1, 5, 30, OK, [("r", "x", 1)])]),
    "G1c": ("G1c", [
        (0, 0, 10, OK, [("w", "x", 1), ("r", "y", 1)]),
        (1, 0, 10, OK, [("w", "y", 1), ("r", "x", 1)])]),
    "G-single": ("G-single-item", [  # read skew
        (0, 0, 10, OK, [("w", "x", 1), ("w", "y", 1)]),
        (1, 0, 10, OK, [("r", "x", 1), ("r", "y", None)])]),
    "G2-item": ("G2-item", [  # write skew
        (0, 0, 10, OK, [("r", "x", None), ("w", "y", 1)]),
        (1, 0, 10, OK, [("r", "y", None), ("w", "x", 1)])]),
    "lost-update": ("lost-update", [
        (0, 0, 10, OK, [("w", "x", 0)]),
        (1, 20, 30, OK, [("r", "x", 0), ("w", "x", 1)]),
        (2, 20, 30, OK, [("r", "x", 0), ("w", "x", 2)])]),
    "internal": ("internal", [
        (0, 0, 10, OK, [("w", "x", 1), ("r", "x", None)])]),
    "stale-read": ("G-single-item-realtime", [
        (0, 0, 10, OK, [("w", "x", 1)]),
        (1, 20, 30, OK, [("r", "x", None)])]),
}
RW_KINDS = tuple(RW_FRAGMENTS)


def plant(kind: str, txns: list[Txn], rng: random.Random, *,
          workload: str = "list-append") -> tuple[list[Txn], str]:
    """`txns` with one `kind` anomaly added on fresh keys and processes, and the name
    the checker must give it."""
    name, fragment = (FRAGMENTS if workload == "list-append" else RW_FRAGMENTS)[kind]
    last = max((t.complete_time or t.invoke_time for t in txns), default=0)
    at = rng.randint(0, max(last, 1))
    base_process = 10_000 + rng.randrange(1000)
    key_tag = f"planted-{kind}"
    out = [dataclasses.replace(t) for t in txns]  # the caller's history stays as it was
    for p, inv, comp, typ, mops in fragment:
        mops2 = [(f, (key_tag, k), v) for f, k, v in mops]
        out.append(Txn(0, -1, base_process + p, typ, mops2, at + inv,
                       at + comp if typ != INFO else None))
    out.sort(key=lambda t: (t.complete_time if t.complete_time is not None
                            else t.invoke_time))
    for i, t in enumerate(out):
        t.id = i
        t.index = 2 * i + 1
    return out, name


def generator(kind: str | None) -> Callable[[random.Random, int], list[Txn]]:
    def make(rng: random.Random, n: int) -> list[Txn]:
        base = serializable(rng, n)
        return base if kind is None else plant(kind, base, rng)[0]
    return make
