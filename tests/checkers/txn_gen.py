"""Tiny seeded transactional histories from a simulated execution, for the differential
test of Elle's checks against the brute-force oracle (tests/checkers/txn_oracle.py).

The execution: 1-3 client threads run 1-6 transactions of 1-3 micro-ops over 1-3 keys
(list-append: `append` / `r`; rw-register: `w` / `r`), one in flight per thread, with
random overlapping intervals. A correct store applies each transaction atomically at one
moment inside its interval, so the history is strictly serializable by construction.
Outcomes: `ok`; `fail` (never applied; recorded with the invocation's value, as Jepsen
records a :fail); `info` (applied or not, recorded with the invocation's value or not
completed at all; its thread goes on as a fresh process, as Jepsen's does). Most
histories end with a final read of every key after everything else (`final_read`: the
version order of list-append is then recoverable, where Elle is complete).

A history may run under a deliberately broken store (`bugs`, a swarm: none, or one or
two of them, chosen per seed):
- `lost-write`: some writes of committed transactions never take effect;
- `stale-read`: some reads (not the final one) return an older version of the key;
- `aborted-visible`: failed transactions take effect all the same;
- `non-atomic`: some transactions take effect in two parts at two moments;
- `clock`: the store orders transactions by a skewed per-thread clock, not by when they
  took effect (serializable, not strictly).
A `mutate`d history (a third of them) then has one or two records changed, not the
execution (a committed read's value, a committed transaction's outcome made fail or info,
two of its micro-ops swapped), the final read excepted, so any anomaly shape can occur.
With `info_reads` (a seventh of them), an applied `info` transaction's completion records
what it read (as some tools do; Jepsen records the invocation's nil reads). Times are
distinct, coarse (neighbouring events share one) or absent (index only), and keys
integers or strings, per seed. `duplicate=True` (one in 12) makes one write reuse a value
already written to its key (the precondition both workloads share with Elle). The
history is rendered in each input format `gtcheck check` reads for transactional models
(`render`). One `random.Random(seed)` drives every choice.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from tests.checkers.elle.test_elle_edn_stream import edn_op

BUGS = ("lost-write", "stale-read", "aborted-visible", "non-atomic", "clock")
FORMATS = ("elle-json", "edn", "jsonl")
WRITE = {"list-append": "append", "rw-register": "w"}


@dataclass
class Sim:
    seed: int
    workload: str
    ops: list                 # op maps: index, time, type, process, f, value
    bugs: tuple = ()
    duplicate: bool = False
    final_read: bool = False
    notes: list = field(default_factory=list)
    info_reads: bool = False  # some info completion records what it read


@dataclass
class _T:
    thread: int
    process: int
    mops: list                # [f, k, v]; reads filled in as executed
    start: float
    end: float
    outcome: str              # ok | fail | info
    completed: bool = True    # an info may have no completion record
    applied: bool = True
    reads_recorded: bool = False  # an info completion carrying what it read


def generate(seed: int, workload: str, *, bugs: tuple | None = None,
             duplicate: bool | None = None, final_read: bool | None = None,
             mutate: bool | None = None, info_reads: bool | None = None) -> Sim:
    rng = random.Random(seed)
    write = WRITE[workload]
    n_keys = rng.randint(1, 3)
    n_threads = rng.randint(1, 3)
    n_txns = rng.randint(1, 6)
    if bugs is None:
        bugs = () if rng.random() < 0.4 else tuple(sorted(rng.sample(BUGS, rng.randint(1, 2))))
    if duplicate is None:
        duplicate = rng.random() < 0.08
    if final_read is None:
        final_read = rng.random() < 0.8
    cursor = [rng.random() * 2 for _ in range(n_threads)]
    process = list(range(n_threads))
    values = iter(range(1, 1000))
    txns: list[_T] = []
    for _ in range(n_txns):
        th = rng.randrange(n_threads)
        start = cursor[th] + rng.random() * 3
        end = start + 0.2 + rng.random() * 6
        cursor[th] = end + 0.01
        mops = []
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(n_keys)
            mops.append([write, k, next(values)] if rng.random() < 0.5 else ["r", k, None])
        r = rng.random()
        outcome = "fail" if r < 0.12 else "info" if r < 0.27 else "ok"
        t = _T(th, process[th], mops, start, end, outcome)
        if outcome == "fail":
            t.applied = "aborted-visible" in bugs and rng.random() < 0.7
        elif outcome == "info":
            t.applied = rng.random() < 0.5
            t.completed = rng.random() < 0.7
            process[th] += n_threads  # Jepsen: the thread goes on as a fresh process
        txns.append(t)
    if duplicate:
        duplicate = _reuse_a_value(rng, txns, write)
    horizon = max(t.end for t in txns)
    state = _execute(rng, txns, workload, bugs, horizon)
    notes = []
    if mutate is None:
        mutate = rng.random() < 0.3
    if mutate:  # before the final read is added: it stays the truth of the store
        for _ in range(rng.randint(1, 2)):
            notes.append(_mutate(rng, txns, workload))
    if final_read:
        start = horizon + 1
        fin = _T(n_threads, max(t.process for t in txns) + 1, [], start, start + 1, "ok")
        fin.mops = [["r", k, _shown(state.get(k), workload)] for k in range(n_keys)]
        txns.append(fin)
    if info_reads is None:
        info_reads = rng.random() < 0.15
    if info_reads:  # some tools record what an indeterminate transaction read
        for t in txns:
            if t.outcome == "info" and t.applied and t.completed:
                t.reads_recorded = True
                notes.append(f"{t.process} info with reads")
    ops = _ops(txns)
    notes.append(f"times {_retime(rng, ops)}")
    if rng.random() < 0.3:  # keys named by strings, as Jepsen's keyword keys read
        for op in ops:
            op["value"] = [[f, "xyz"[k], v] for f, k, v in op["value"]]
    return Sim(seed, workload, ops, tuple(bugs), duplicate, final_read, notes,
               any(t.reads_recorded for t in txns))


MUTATIONS = ("read", "outcome", "swap-mops")


def _mutate(rng: random.Random, txns: list, workload: str) -> str:
    """Change the record (not the execution): a committed read's value, a committed
    transaction's outcome, or the order of its micro-ops. Returns what was done."""
    kind = rng.choice(MUTATIONS)
    ok = [t for t in txns if t.outcome == "ok"]
    if not ok:
        return "none"
    t = rng.choice(ok)
    if kind == "outcome":
        t.outcome = rng.choice(("fail", "info"))
        t.completed = t.outcome == "fail" or rng.random() < 0.7
        if t.outcome == "info":  # the thread goes on as a fresh process
            fresh = max(u.process for u in txns) + 1
            for u in txns:
                if u.process == t.process and u.start > t.start:
                    u.process = fresh
        return f"{t.process} became {t.outcome}"
    if kind == "swap-mops":
        if len(t.mops) < 2:
            return "none"
        i = rng.randrange(len(t.mops) - 1)
        t.mops[i], t.mops[i + 1] = t.mops[i + 1], t.mops[i]
        return f"{t.process} swapped micro-ops {i}, {i + 1}"
    reads = [m for m in t.mops if m[0] == "r"]
    if not reads:
        return "none"
    m = rng.choice(reads)
    written = sorted({w[2] for u in txns for w in u.mops if w[0] != "r" and w[1] == m[1]})
    if workload == "rw-register":
        m[2] = rng.choice(written + [None, 999])
    else:
        v = list(m[2] or [])
        how = rng.randrange(4)
        if how == 0 and v:
            del v[rng.randrange(len(v))]
        elif how == 1 and len(v) > 1:
            i = rng.randrange(len(v) - 1)
            v[i], v[i + 1] = v[i + 1], v[i]
        elif how == 2:
            extra = [x for x in written if x not in v]
            v.append(rng.choice(extra) if extra else 999)
        else:
            v = rng.choice((None, []))
        m[2] = v
    return f"{t.process} read {m[2]!r}"



def _reuse_a_value(rng: random.Random, txns: list, write: str) -> bool:
    """One later write takes the value of an earlier write to the same key (if two
    writes of one key exist: else False)."""
    written = [(i, j, m) for i, t in enumerate(txns) for j, m in enumerate(t.mops)
               if m[0] == write]
    pairs = [(a, b) for a in written for b in written
             if a[0] < b[0] and a[2][1] == b[2][1]]
    if pairs:
        a, b = rng.choice(pairs)
        b[2][2] = a[2][2]
    return bool(pairs)


def _shown(v: Any, workload: str) -> Any:
    if workload == "list-append":
        return list(v or ())
    return v


def _execute(rng: random.Random, txns: list, workload: str, bugs: tuple,
             horizon: float) -> dict:
    """Apply the applied transactions (their parts) in the store's order; fill reads.
    Returns the store's final state."""
    skew = {t.thread: (rng.random() - 0.5) * 10 for t in txns} if "clock" in bugs else {}
    events = []
    for i, t in enumerate(txns):
        if not t.applied:
            continue
        c = t.start + rng.random() * (t.end - t.start)
        if "non-atomic" in bugs and len(t.mops) > 1 and rng.random() < 0.5:
            cut = rng.randint(1, len(t.mops) - 1)
            c2 = c + rng.random() * (horizon - c)
            parts = [(c, 0, cut), (c2, cut, len(t.mops))]
        else:
            parts = [(c, 0, len(t.mops))]
        for at, lo, hi in parts:
            events.append((at + skew.get(t.thread, 0.0), i, lo, hi))
    events.sort()
    state: dict = {}
    versions: dict = {}  # k -> every state the key has had, the initial one first
    lost = "lost-write" in bugs
    stale = "stale-read" in bugs
    for _, i, lo, hi in events:
        t = txns[i]
        for m in t.mops[lo:hi]:
            f, k, v = m
            if f == "r":
                cur = state.get(k)
                if stale and rng.random() < 0.4:
                    cur = rng.choice(versions.get(k, [None]))
                m[2] = _shown(cur, workload)
                continue
            if lost and t.outcome == "ok" and rng.random() < 0.3:
                continue
            versions.setdefault(k, [state.get(k)])
            state[k] = (state.get(k) or ()) + (v,) if workload == "list-append" else v
            versions[k].append(state[k])
    return state


def _ops(txns: list) -> list[dict]:
    """Invocations and completions in time order, times ranked to distinct integers."""
    events = []
    for t in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in t.mops]
        events.append((t.start, {"type": "invoke", "process": t.process, "f": "txn",
                                 "value": inv}))
        if t.outcome == "ok":
            events.append((t.end, {"type": "ok", "process": t.process, "f": "txn",
                                   "value": [list(m) for m in t.mops]}))
        elif t.completed and t.reads_recorded:
            events.append((t.end, {"type": t.outcome, "process": t.process, "f": "txn",
                                   "value": [list(m) for m in t.mops]}))
        elif t.completed:  # fail / info: the invocation's value, reads unknown
            events.append((t.end, {"type": t.outcome, "process": t.process, "f": "txn",
                                   "value": inv}))
    events.sort(key=lambda e: e[0])
    return [{"index": i, "time": (i + 1) * 1000, **op} for i, (_, op) in enumerate(events)]


def _retime(rng: random.Random, ops: list[dict]) -> str:
    """Some histories get coarse times (neighbouring events share one: equal times are
    concurrent, for Elle as for the oracle) or none at all (Jepsen's index stands for
    time then). Returns which."""
    timing = rng.choice(("distinct",) * 6 + ("coarse", "index"))
    for op in ops:
        if timing == "coarse":
            op["time"] = (op["index"] // 2 + 1) * 1000
        elif timing == "index":
            del op["time"]
    return timing


def render(ops: list[dict], fmt: str) -> str:
    """The history as `gtcheck check --format fmt` reads it."""
    if fmt == "elle-json":
        return "[" + ",\n".join(json.dumps(op) for op in ops) + "]\n"
    if fmt == "edn":
        return "".join(edn_op(op) + "\n" for op in ops)
    if fmt == "jsonl":  # gtcheck's own history: a region per operation
        return "".join(json.dumps({**op, "region": "us-east-1"}) + "\n" for op in ops)
    raise ValueError(f"unknown format {fmt!r}")
