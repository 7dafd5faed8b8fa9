"""Jepsen's own counter, set, set-full and long-fork checkers, over Jepsen histories.

elle-cli (ligurio/elle-cli) runs these four beside Elle, and elle-cli's corpus
(../shared/peer-histories/elle) records their verdicts; `gtcheck check --model
counter|set|set-full|long-fork --format edn|elle-json` answers with the same rules, so a
Jepsen user gets the verdict they know. Each function is our own code following the
definition it cites; each takes plain op maps (`checkers.elle.txn.read_edn` /
`read_elle_json`: keys "type", "f", "value", "process", "index", "time") and returns a
plain dict with Jepsen's result keys and "valid" (True / False / "unknown").

These are not linearizability: on gtcheck's own JSONL histories `--model counter|set`
keep their Knossos meaning (`checkers.linearizability`); see README, `gtcheck check`.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Mapping, Sequence

from gtcheck.errors import BadInput

NEMESIS = "nemesis"


def _hashable(v: Any) -> Any:
    """Elements as set members: Jepsen compares vectors by value ([0 1] = [0 1])."""
    if isinstance(v, list | tuple):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((repr(k), _hashable(x)) for k, x in v.items()))
    return v


def _plain(v: Any) -> Any:
    return [_plain(x) for x in v] if isinstance(v, tuple) else v


def _sorted(xs) -> list:
    """In Jepsen's order (clojure.core/compare: numbers, then vectors element-wise);
    by printed form where values are of mixed types."""
    xs = list(xs)
    try:
        return sorted(xs, key=_hashable)
    except TypeError:
        return sorted(xs, key=repr)


def _client_ops(records: Sequence[Mapping]) -> list[Mapping]:
    return [r for r in records if r.get("process") != NEMESIS]


def _pair(records: Sequence[Mapping]) -> list[tuple[Mapping, Mapping | None]]:
    """(invocation, completion or None) in invocation order, paired per process by
    position (a Jepsen process runs one op at a time)."""
    open_: dict[Any, int] = {}
    out: list[list] = []
    for r in records:
        p = r.get("process")
        if r.get("type") == "invoke":
            open_[p] = len(out)
            out.append([r, None])
        elif p in open_:
            out[open_.pop(p)][1] = r
    return [(a, b) for a, b in out]


def _index(r: Mapping, position: int) -> int:
    i = r.get("index")
    return i if isinstance(i, int) else position


# --- jepsen.checker/counter ----------------------------------------------------------

def counter(records: Sequence[Mapping]) -> dict:
    """jepsen.checker/counter: the counter starts at 0 and only grows; each ok read must
    lie between the sum of the adds acknowledged before it was invoked (lower bound) and
    the sum of the adds attempted before it completed (upper bound). Failed adds are
    removed with their invocations (jepsen.history/complete, then remove :fails?), so
    they never raise the upper bound; an :info add may have happened (upper only)."""
    failed = {id(inv) for inv, done in _pair(_client_ops(records))
              if done is not None and done.get("type") == "fail"}
    lower = upper = 0
    pending: dict[Any, int] = {}
    reads: list[list] = []
    for r in _client_ops(records):
        typ, f, p = r.get("type"), r.get("f"), r.get("process")
        if typ == "fail" or id(r) in failed:
            continue
        v = r.get("value")
        if f == "read" and typ == "invoke":
            pending[p] = lower
        elif f == "read" and typ == "ok":
            reads.append([pending.pop(p, lower), v, upper])
        elif f == "add" and typ == "invoke":
            if not isinstance(v, int | float) or v < 0:
                raise BadInput(f"counter: add of {v!r}: Jepsen's counter checker takes "
                               "non-negative numeric increments only")
            upper += v
        elif f == "add" and typ == "ok":
            if not isinstance(v, int | float) or v < 0:
                raise BadInput(f"counter: ok add of {v!r} (index {r.get('index', '-')}): "
                               "Jepsen's counter checker takes non-negative numeric "
                               "increments only")
            lower += v
    errors = [rd for rd in reads
              if not (isinstance(rd[1], int | float) and rd[0] <= rd[1] <= rd[2])]
    return {"valid": not errors, "reads": reads, "errors": errors}


# --- jepsen.checker/set --------------------------------------------------------------

def _read_set(model: str, r: Mapping) -> Any:
    """An ok read's elements. Jepsen's set checkers read a collection (a set, or a vector
    or list of elements); anything else (a number, a string, a map) is not a history of
    theirs: bad input with the operation named, never a guess."""
    v = r.get("value")
    if v is None or isinstance(v, list | tuple | set | frozenset):
        return v
    raise BadInput(f"{model}: ok read of {v!r} (index {r.get('index', '-')}): Jepsen's "
                   f"{model} checker reads a collection of elements")


def set_check(records: Sequence[Mapping]) -> dict:
    """jepsen.checker/set: given :add ops and a final :read, every acknowledged add must be
    in the last ok read (else lost) and the read may hold only attempted elements (else
    unexpected); without an ok read the verdict is unknown ("Set was never read")."""
    ops = _client_ops(records)
    attempts = {_hashable(r.get("value")) for r in ops
                if r.get("type") == "invoke" and r.get("f") == "add"}
    adds = {_hashable(r.get("value")) for r in ops
            if r.get("type") == "ok" and r.get("f") == "add"}
    reads = [_read_set("set", r) for r in ops if r.get("type") == "ok" and r.get("f") == "read"]
    if not reads or reads[-1] is None:
        return {"valid": "unknown", "error": "Set was never read"}
    final = {_hashable(x) for x in reads[-1]}
    ok = final & attempts
    unexpected, lost, recovered = final - attempts, adds - final, ok - adds
    out: dict[str, Any] = {"valid": not lost and not unexpected,
                           "attempt-count": len(attempts), "acknowledged-count": len(adds),
                           "ok-count": len(ok), "lost-count": len(lost),
                           "recovered-count": len(recovered),
                           "unexpected-count": len(unexpected)}
    for name, s in (("ok", ok), ("lost", lost), ("unexpected", unexpected),
                    ("recovered", recovered)):
        out[name] = [_plain(x) for x in _sorted(s)]
    return out


# --- jepsen.checker/set-full ---------------------------------------------------------

def set_full(records: Sequence[Mapping], *, linearizable: bool = False) -> dict:
    """jepsen.checker/set-full: per added element, the latest read invocation that saw it
    (last present) and that missed it (last absent), and when it became known (its add's
    ok, or the first read that saw it). Stable: last present after last absent. Lost:
    known, and last absent after both last present and the moment it became known.
    Invalid if any element is lost (or, with `linearizable`, stale: stable only after a
    delay), or a read holds an element twice; unknown if no element is stable."""
    ops = _client_ops(records)
    invocation: dict[int, Mapping] = {}
    for inv, done in _pair(ops):
        if done is not None:
            invocation[id(done)] = inv
    pos = {id(r): i for i, r in enumerate(ops)}

    def idx(r):
        return _index(r, pos[id(r)])

    elements: dict[Any, dict] = {}
    dups: dict[Any, int] = {}
    for r in ops:
        f, typ, v = r.get("f"), r.get("type"), r.get("value")
        if f == "add":
            if typ == "invoke":
                elements[_hashable(v)] = {"element": v, "known": None,
                                          "last_present": None, "last_absent": None}
            elif typ == "ok" and _hashable(v) in elements:
                e = elements[_hashable(v)]
                e["known"] = e["known"] or r
        elif f == "read" and typ == "ok":
            inv = invocation.get(id(r), r)
            seen: dict[Any, int] = {}
            for x in _read_set("set-full", r) or ():
                seen[_hashable(x)] = seen.get(_hashable(x), 0) + 1
            # duplicates: the most copies of an element in one read. (The jepsen.checker
            # revision we read filters with (< v 1), which can never hold; we keep the
            # documented intent, "duplicated": more than one copy. No corpus file has any.)
            for x, n in seen.items():
                if n > 1:
                    dups[x] = max(dups.get(x, 0), n)
            for key, e in elements.items():
                slot = "last_present" if key in seen else "last_absent"
                if key in seen:
                    e["known"] = e["known"] or r
                if e[slot] is None or idx(e[slot]) < idx(inv):
                    e[slot] = inv
    outcomes: dict[str, list] = {"stable": [], "lost": [], "never-read": []}
    stale, stable_lat, lost_lat = [], [], []
    for key in _sorted(elements):
        e = elements[key]
        known, lp, la = e["known"], e["last_present"], e["last_absent"]
        la_i = idx(la) if la is not None else -1
        lp_i = idx(lp) if lp is not None else -1
        stable = lp is not None and la_i < lp_i
        lost = (known is not None and la is not None and lp_i < la_i
                and idx(known) < la_i)
        known_t = (known or {}).get("time") or 0
        if stable:
            t = (la.get("time") or 0) + 1 if la is not None else 0
            lat = max(t - known_t, 0) // 1_000_000  # nanoseconds -> ms, as Jepsen's
            stable_lat.append(lat)
            outcomes["stable"].append(e["element"])
            if lat > 0:
                stale.append(e["element"])
        elif lost:
            t = (lp.get("time") or 0) + 1 if lp is not None else 0
            lost_lat.append(max(t - known_t, 0) // 1_000_000)
            outcomes["lost"].append(e["element"])
        else:
            outcomes["never-read"].append(e["element"])
    if outcomes["lost"]:
        valid: Any = False
    elif not outcomes["stable"]:
        valid = "unknown"
    else:
        valid = not (linearizable and stale)
    if dups:
        valid = False
    return {"valid": valid, "attempt-count": len(elements),
            "stable-count": len(outcomes["stable"]), "lost-count": len(outcomes["lost"]),
            "lost": outcomes["lost"], "never-read-count": len(outcomes["never-read"]),
            "never-read": outcomes["never-read"], "stale-count": len(stale),
            "stale": stale, "duplicated-count": len(dups),
            "duplicated": {repr(_plain(k)): n for k, n in dups.items()},
            "stable-latencies-ms": sorted(stable_lat), "lost-latencies-ms": sorted(lost_lat)}


# --- jepsen.tests.long-fork ----------------------------------------------------------

def _read_txn(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(m, list) and m and m[0] == "r" for m in v)


def _write_txn(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 1 and isinstance(v[0], list) and \
        bool(v[0]) and v[0][0] == "w"


def _compare(a: dict, b: dict, where: str) -> int | None:
    """jepsen.tests.long-fork/read-compare: -1 if read a saw a superset of b's writes,
    1 if b of a's, 0 if equal, None if each saw a write the other missed (a fork)."""
    if a.keys() != b.keys():
        raise BadInput(f"{where}: two reads of one group read different keys; "
                       "long-fork compares reads of the same keys")
    res = 0
    for k, va in a.items():
        vb = b[k]
        if va == vb:
            continue
        if va is not None and vb is not None:
            raise BadInput(f"{where}: two reads saw distinct values {va!r} and {vb!r} of "
                           f"key {k!r}; long-fork assumes one write per key")
        step = -1 if vb is None else 1
        if res == -step:
            return None
        res = step
    return res


def long_fork(records: Sequence[Mapping], group_size: int = 2, *,
              source: str = "history") -> dict:
    """jepsen.tests.long-fork: writes are single [:w k v] transactions, each key written
    once (else unknown: multiple writes); reads read a whole group of `group_size` keys.
    Under snapshot isolation all reads of a group are totally ordered by which writes
    they saw; two reads each seeing a write the other missed are a long fork (the
    anomaly parallel snapshot isolation allows), and make the history invalid."""
    ops = _client_ops(records)
    reads = [r for r in ops if r.get("type") == "ok" and _read_txn(r.get("value"))]
    out: dict[str, Any] = {
        "reads-count": len(reads),
        "early-read-count": sum(1 for r in reads
                                if not any(m[2] is not None for m in r["value"])),
        "late-read-count": sum(1 for r in reads
                               if all(len(m) > 2 and m[2] is not None for m in r["value"]))}
    written: set = set()
    for r in ops:
        if r.get("type") == "invoke" and _write_txn(r.get("value")):
            k = _hashable(r["value"][0][1])
            if k in written:
                return {**out, "valid": "unknown", "error": ["multiple-writes", _plain(k)]}
            written.add(k)
    groups: dict[frozenset, list] = {}
    for r in reads:
        groups.setdefault(frozenset(_hashable(m[1]) for m in r["value"]), []).append(r)
    forks = []
    for keys, group in groups.items():
        if len(keys) != group_size:
            raise BadInput(f"{source}: long-fork: every read should read exactly "
                           f"{group_size} keys (--group-size), but a read "
                           f"(index {group[0].get('index', '-')}) read {len(keys)}")
        maps = [{_hashable(m[1]): _hashable(m[2] if len(m) > 2 else None)
                 for m in r["value"]} for r in group]
        for i, j in combinations(range(len(group)), 2):
            if _compare(maps[i], maps[j], source) is None:
                forks.append([group[i], group[j]])
    out["valid"] = not forks
    if forks:
        out["forks"] = forks
    return out


RULES = {"counter": counter, "set": set_check, "set-full": set_full, "long-fork": long_fork}
