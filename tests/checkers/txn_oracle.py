"""A brute-force oracle for small transactional histories: does some serial order explain them?

Independent of the checkers (it shares no code with `checkers/`, and reads the plain op
maps itself): for a history of a few transactions (<= 8 in practice, <= 3 keys) it
enumerates every subset of the indeterminate transactions and every serial order of the
chosen ones with the committed ones, and asks whether each committed transaction's reads
are what that order gives. The definitions it implements:

- Serializability (Adya, "Weak Consistency", MIT PhD thesis 1999, PL-3; Elle's docs,
  elle.consistency-model: "serializable"): the committed transactions' effects are those
  of some total order in which each runs alone. A read returns the state the order's
  earlier transactions left, changed by the transaction's own earlier micro-ops:
  - list-append: the list of every earlier append to the key, in order, then the
    transaction's own earlier appends (a nil read of a committed transaction is the empty
    list, as Elle reads it: elle.list-append/op-int-case);
  - rw-register: the last earlier write of the key (the transaction's own, if it wrote
    first), or nil for a key never written.
- Strict serializability (Herlihy & Wing's real-time order added, Elle's
  "strict-serializable"): moreover a transaction that completed before another was
  invoked comes first in the order.
- Outcomes (Jepsen / Knossos): `ok` happened; `fail` definitely did not happen, so its
  writes are never part of any state (reading one is what Elle calls G1a, an aborted
  read, Adya's G1a); `info` (or an invocation never completed) may or may not have
  happened: some subset of them takes effect, each atomically, and precedes nothing in
  real time (its completion is unknown). One that took effect read what the order gives
  it, so where its completion records a read value (some tools do) that value must be
  explained; a nil there is Jepsen's "not known" (the invocation's value), never a read
  of the empty state (elle.list-append/read-index: "reads of nil by :info ops ... denote
  the default read value, NOT that we actually observed nil"). One that did not take
  effect read nothing: its recorded reads constrain nothing.
- Intermediate reads (Adya's G1b) and internal inconsistency (Elle's `internal`, after
  Cerone et al.'s axiom INT) need no rule of their own: a serial order never shows a
  transaction's intermediate state to another, and always shows a transaction its own
  writes.

`duplicate_write(history, workload)` states the precondition both workloads share with
Elle (elle.list-append/verify-unique-appends, elle.rw-register: "written by more than one
op"): each value is written at most once per key, by any invocation whatever its outcome.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Iterable

OK, FAIL, INFO = "ok", "fail", "info"
MODELS = ("serializable", "strict-serializable")
WRITE = {"list-append": "append", "rw-register": "w"}


class OTxn:
    """One transaction as the oracle sees it (its own pairing of the op maps)."""
    __slots__ = ("n", "type", "mops", "start", "end")

    def __init__(self, n: int, type_: str, mops: list, start: int, end: int | None):
        self.n, self.type, self.mops, self.start, self.end = n, type_, mops, start, end

    def __repr__(self) -> str:
        return f"T{self.n}({self.type} {self.mops} [{self.start}, {self.end}])"


def _frozen(v: Any) -> Any:
    return tuple(_frozen(x) for x in v) if isinstance(v, (list, tuple)) else v


def transactions(history: Iterable[dict]) -> list[OTxn]:
    """Op maps (type, process, value, time or index) -> transactions: each invocation
    with the next completion of its process; an invocation never completed is `info`."""
    open_: dict = {}
    out: list[OTxn] = []
    for pos, op in enumerate(history):
        if op.get("process") == "nemesis" or op.get("f") not in (None, "txn"):
            continue
        t = op.get("time", op.get("index", pos))
        if op["type"] == "invoke":
            assert op["process"] not in open_, f"double invoke: {op}"
            open_[op["process"]] = (op, t)
            continue
        inv, start = open_.pop(op["process"])
        value = op.get("value") if op.get("value") is not None else inv["value"]
        mops = [(m[0], _frozen(m[1]), _frozen(m[2] if len(m) > 2 else None)) for m in value]
        out.append(OTxn(len(out), op["type"], mops, start,
                        t if op["type"] != INFO else None))
    for inv, start in open_.values():
        mops = [(m[0], _frozen(m[1]), _frozen(m[2] if len(m) > 2 else None))
                for m in inv["value"]]
        out.append(OTxn(len(out), INFO, mops, start, None))
    return out


def duplicate_write(history: Iterable[dict], workload: str) -> tuple | None:
    """(key, value) of the first value written twice to one key by the history's
    invocations, or None."""
    seen: set = set()
    for op in history:
        if op.get("type") != "invoke" or op.get("process") == "nemesis":
            continue
        for m in op.get("value") or ():
            if m[0] == WRITE[workload]:
                kv = (_frozen(m[1]), _frozen(m[2]))
                if kv in seen:
                    return kv
                seen.add(kv)
    return None


def _run(t: OTxn, state: dict, workload: str) -> dict | None:
    """The state after t runs alone on `state`, or None if one of its recorded reads
    disagrees with what it would have read."""
    s = dict(state)
    info = t.type == INFO
    for f, k, v in t.mops:
        if f == "append":
            s[k] = s.get(k, ()) + (v,)
        elif f == "w":
            s[k] = v
        elif f == "r":
            if info and v is None:  # not known what it read
                continue
            if workload == "list-append":
                if (() if v is None else v) != s.get(k, ()):
                    return None
            elif v != s.get(k):
                return None
        else:
            raise ValueError(f"micro-op {f!r} is not one of {workload}'s")
    return s


def _key(state: dict) -> tuple:
    return tuple(sorted(state.items(), key=repr))


def explaining_order(history: Iterable[dict], workload: str, model: str) -> list | None:
    """A serial order (list of OTxn) of the committed transactions plus some of the
    indeterminate ones that explains every committed read under `model`, or None."""
    if model not in MODELS:
        raise ValueError(f"model {model!r} is not one of {MODELS}")
    txns = transactions(history)
    committed = [t for t in txns if t.type == OK]
    maybe = [t for t in txns if t.type == INFO]  # fail: never takes effect
    strict = model == "strict-serializable"
    for size in range(len(maybe) + 1):
        for chosen in combinations(maybe, size):
            order = _search(committed + list(chosen), workload, strict)
            if order is not None:
                return order
    return None


def _search(ts: list[OTxn], workload: str, strict: bool) -> list | None:
    # must_precede[i]: the transactions that completed before ts[i] was invoked
    n = len(ts)
    before = [frozenset(j for j in range(n) if strict and ts[j].end is not None
                        and ts[j].end < ts[i].start) for i in range(n)]
    dead: set = set()  # (placed set, state) known to lead nowhere

    def go(placed: frozenset, state: dict, order: list) -> list | None:
        if len(placed) == n:
            return list(order)
        memo = (placed, _key(state))
        if memo in dead:
            return None
        for i in range(n):
            if i in placed or not before[i] <= placed:
                continue
            after = _run(ts[i], state, workload)
            if after is None:
                continue
            order.append(ts[i])
            found = go(placed | {i}, after, order)
            if found is not None:
                return found
            order.pop()
        dead.add(memo)
        return None

    return go(frozenset(), {}, [])


def explains(history: Iterable[dict], workload: str, model: str) -> bool:
    """Does some serial order explain the history under `model` (see the module doc)?"""
    return explaining_order(list(history), workload, model) is not None
