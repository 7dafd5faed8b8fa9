"""What the per-mode checkers share: reading a history as observations, and anomalies.

The mode checkers (async promises, counter, set, MRSC extras, expected anomalies) all ask
the same few questions of a history: which client operations completed how, in which
region, on which key, which reads are SC and which are final; which values were ever
written and how each write ended; which acknowledged write is the newest one known to have
happened before a given moment. This module answers them once, in linear or n log n time,
and builds the anomaly dicts of docs/CONVENTIONS.md (kind, expected, key, region, ops,
explanation) with their sentences made from the data. A checker result built by `result`
lists at most `MAX_EXAMPLES` anomalies per kind but counts all of them.

Conventions used by every checker here:
- a read with `consistent` False is an EC read; anything else (True or absent) is SC;
- a pair is a final read when its invocation or completion carries `extra["final"]`; a
  quiet read (`extra["quiet"]`, suite/quiet.py) is a final read of its quiet round;
- a write's effect, if it had one, happened between its invocation and its completion; an
  `info` write may take effect at any time after its invocation; a `fail` write never did.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

from results.history import FAIL, OK, Op, Pair, fault_periods, pair

MAX_EXAMPLES = 100
NEG_INF = float("-inf")
WRITE_FS = ("write", "cas")
_UNSET = object()  # a cached figure not computed yet


# --- reading pairs -------------------------------------------------------------------

_last_paired: tuple[Sequence[Op], int, list[Pair], dict] | None = None


def client_pairs(history: Sequence[Op]) -> list[Pair]:
    """Invocation/completion pairs of client operations, in invocation order (read-only:
    callers never change the list).

    A composed check hands the same history to every checker, so the pairs of the last
    history seen are kept (with a reference to it, so its identity cannot be reused),
    with what `memo` derived from them."""
    global _last_paired
    last = _last_paired
    if last is not None and last[0] is history and last[1] == len(history):
        return last[2]
    pairs = [p for p in pair(history) if p.invoke.is_client]
    _last_paired = (history, len(history), pairs, {})
    return pairs


def memo(pairs: Sequence[Pair], name: Any, compute):
    """`compute()`, computed once per history when `pairs` is `client_pairs`' list: the
    indexes several checkers of one composed check build alike (read-only results)."""
    last = _last_paired
    if last is None or last[2] is not pairs:
        return compute()
    cache = last[3]
    if name not in cache:
        cache[name] = compute()
    return cache[name]


def region_of(p: Pair) -> str | None:
    r = p.invoke.region
    if r is None and p.complete is not None:
        r = p.complete.region
    return r


def is_sc(p: Pair) -> bool:
    c = p.invoke.consistent
    if c is None and p.complete is not None:
        c = p.complete.consistent
    return c is not False


def is_final(p: Pair) -> bool:
    if p.invoke.extra.get("final"):
        return True
    return p.complete is not None and bool(p.complete.extra.get("final"))


def is_quiet(p: Pair) -> bool:
    """A read of a quiet round (suite/quiet.py): `extra["quiet"]`, its round in
    `extra["quiet_round"]`. The checkers judge it as a final read of its round."""
    if p.invoke.extra.get("quiet"):
        return True
    return p.complete is not None and bool(p.complete.extra.get("quiet"))


def quiet_round(p: Pair) -> Any:
    return p.invoke.extra.get("quiet_round")


def read_value(p: Pair) -> Any:
    """The value an ok read returned (None: the item was not found)."""
    return p.complete.value if p.complete is not None else None


def written_value(p: Pair) -> Any:
    """The value a write or cas installs (a cas value is [old, new])."""
    v = p.invoke.value
    if p.invoke.f == "cas":
        return v[1] if isinstance(v, (list, tuple)) and len(v) == 2 else None
    return v


_ATOMS = frozenset((int, str, float, bool, type(None)))


def freeze(v: Any) -> Any:
    """A hashable form of a value (lists become tuples, recursively)."""
    if type(v) in _ATOMS:  # the common case, kept cheap: most values are ints/strings
        return v
    if isinstance(v, list | tuple):
        if set(map(type, v)) <= _ATOMS:  # a set read's elements: copied in C
            return tuple(v)
        return tuple(freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, freeze(x)) for k, x in v.items()))
    return v


def secs(t_ns: int | float) -> str:
    return f"{t_ns / 1e9:.3f} s"


def show(v: Any) -> str:
    """A value as a sentence shows it."""
    if v is None:
        return "no item"
    if isinstance(v, list | tuple | set | frozenset):
        items = sorted(v, key=repr)
        body = ", ".join(repr(x) for x in items[:8])
        more = f", ... ({len(items)} elements)" if len(items) > 8 else ""
        return "{" + body + more + "}"
    return repr(v) if isinstance(v, str) else str(v)


def read_kind(p: Pair) -> str:
    return "SC read" if is_sc(p) else "EC read"


def sc_read_said(p: Pair, value: Any) -> str:
    """An SC read and what it returned, as explanations open: "SC read of k in us-east-2 at
    12.310 s (op 4) returned 4" (or "found no item")."""
    got = "found no item" if value is None else f"returned {show(value)}"
    return (f"SC read of {p.invoke.key} in {region_of(p)} at {secs(p.start)} "
            f"(op {p.invoke.index}) {got}")


def missed_write(newer: Pair) -> str:
    """The acknowledged write a stale read missed, as explanations name it: "write 5 was
    acknowledged in us-east-1 at 12.300 s (op 2) before the read began"."""
    return (f"write {show(written_value(newer))} was acknowledged in {region_of(newer)} at "
            f"{secs(newer.end)} (op {newer.invoke.index}) before the read began")


def skew_margin_ns(history: Sequence[Op]) -> int:
    """Twice the largest clock skew the nemesis injected (0 when it injected none).

    Async last-writer-wins orders writes by the accepting region's clock. With clocks in
    sync, a write invoked after another was acknowledged carries a later timestamp; with
    regions skewed by up to S ms that only holds when the gap exceeds 2 S.
    """
    return memo(client_pairs(history), "skew_margin_ns", lambda: _skew_margin_ns(history))


def _skew_margin_ns(history: Sequence[Op]) -> int:
    worst = 0
    for fp in fault_periods(history):
        if fp.f == "skew-clock" and isinstance(fp.value, Mapping):
            ms = fp.value.get("ms", 0)
            if isinstance(ms, int | float):
                worst = max(worst, abs(ms))
    return int(2 * worst * 1_000_000)


# --- writes --------------------------------------------------------------------------

@dataclass(slots=True)
class WriteAttempts:
    """Every attempt to write one value to one key (retries reuse the value).

    Built once per history (`register_writes`) and read-only afterwards, so what the
    checkers ask of it again and again (the attempts that may have happened, the first
    invocation, the latest end) is computed once, on first use."""

    pairs: list[Pair]
    _maybe: list[Pair] | None = field(default=None, repr=False, compare=False)
    _first: Any = field(default=_UNSET, repr=False, compare=False)
    _latest: Any = field(default=_UNSET, repr=False, compare=False)

    @property
    def ok(self) -> list[Pair]:
        return [p for p in self.pairs if p.type == OK]

    @property
    def happened_maybe(self) -> list[Pair]:
        """The attempts that may have taken effect (not `fail`); read-only."""
        maybe = self._maybe
        if maybe is None:
            maybe = self._maybe = [p for p in self.pairs if p.type != FAIL]
        return maybe

    @property
    def all_failed(self) -> bool:
        return all(p.type == FAIL for p in self.pairs)

    def first_invoke(self) -> int | None:
        first = self._first
        if first is _UNSET:
            ts = [p.start for p in self.happened_maybe]
            first = self._first = min(ts) if ts else None
        return first

    def latest_end(self) -> int | None:
        """The latest time the value can have been installed, None if unbounded."""
        latest = self._latest
        if latest is _UNSET:
            maybe = self.happened_maybe
            ends = [p.end for p in maybe]
            latest = self._latest = (None if not maybe or None in ends
                                     else max(ends))  # type: ignore[type-var]
        return latest


def register_writes(pairs: Iterable[Pair]) -> dict[tuple[Any, Any], WriteAttempts]:
    """(key, frozen value) -> its write attempts, for write and cas operations."""
    return memo(pairs, "register_writes", lambda: _register_writes(pairs))


def _register_writes(pairs: Iterable[Pair]) -> dict[tuple[Any, Any], WriteAttempts]:
    out: dict[tuple[Any, Any], WriteAttempts] = {}
    for p in pairs:
        if p.invoke.f in WRITE_FS:
            k = (p.invoke.key, freeze(written_value(p)))
            got = out.get(k)
            if got is None:
                out[k] = WriteAttempts([p])
            else:
                got.pairs.append(p)
    return out


def deleted_keys(pairs: Iterable[Pair]) -> frozenset:
    """Keys some delete (a write of absent, value None; issue 21) may have written."""
    return memo(pairs, "deleted_keys", lambda: frozenset(
        p.invoke.key for p in pairs
        if p.invoke.f == "write" and p.invoke.value is None and p.type != FAIL))


class NewestAcked:
    """For one key (and optionally one region): the acknowledged write invoked last
    among those acknowledged before a moment. Built in n log n, queried in log n."""

    def __init__(self, writes: Iterable[Pair]):
        done = sorted((p for p in writes if p.type == OK), key=lambda p: p.end)
        self.ends = [p.end for p in done]
        self.best: list[Pair] = []
        for p in done:
            if not self.best or p.start > self.best[-1].start:
                self.best.append(p)
            else:
                self.best.append(self.best[-1])

    def before(self, t: int) -> Pair | None:
        i = bisect.bisect_left(self.ends, t)
        return self.best[i - 1] if i else None


def index_newest_acked(pairs: Iterable[Pair], *, by_region: bool) -> dict[Any, NewestAcked]:
    return memo(pairs, ("newest_acked", by_region),
                lambda: _index_newest_acked(pairs, by_region=by_region))


def maybe_noop_delete(p: Pair) -> bool:
    """A delete (a write of absent) not known to have found an item (`found`, recorded by
    DeleteItem's ALL_OLD): deleting an absent item writes no version and replicates
    nothing, so it cannot stand as a newer write under last-writer-wins (issue 21)."""
    if p.invoke.f != "write" or p.invoke.value is not None:
        return False
    return not (p.complete is not None and p.complete.extra.get("found") is True)


def _index_newest_acked(pairs: Iterable[Pair], *, by_region: bool) -> dict[Any, NewestAcked]:
    groups: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.invoke.f in WRITE_FS and p.type == OK and not maybe_noop_delete(p):
            g = (p.invoke.key, region_of(p)) if by_region else p.invoke.key
            groups[g].append(p)
    return {g: NewestAcked(ps) for g, ps in groups.items()}


class RemoteWrites:
    """Which writes could have overwritten a region's version by last-writer-wins.

    Under async replication (A06) a region's copy of an item only moves to versions of a
    higher timestamp, and a version written in region R is replaced in R only by one that
    arrives from another region. A write's timestamp is its region's clock at the moment it
    took effect, inside its interval (an `info` write may take effect at any later time).
    `latest(key, region, t)` lists, latest first, up to `TOP` writes to `key` from regions
    other than `region`, invoked before `t`, by the latest moment (ns) each can have taken
    effect (+inf for an unknown outcome): a version whose write began after that, by more
    than the clock-skew margin, cannot be overwritten by any of them."""

    TOP = 3

    def __init__(self, pairs: Iterable[Pair], fs: Iterable[str] = ("write", "cas", "add")):
        fs = frozenset(fs)
        groups: dict[tuple, list[tuple[int, float, int]]] = defaultdict(list)
        for p in pairs:
            if p.invoke.f in fs and p.type != FAIL:
                end = p.end
                groups[(p.invoke.key, region_of(p))].append(
                    (p.start, float("inf") if end is None else end, p.invoke.index))
        self.regions: dict[Any, list[str]] = defaultdict(list)
        self.index: dict[tuple, tuple[list[int], list[tuple]]] = {}
        for (key, region), ws in groups.items():
            ws.sort()
            starts, best, top = [], [], ()
            for s, e, i in ws:
                if len(top) < self.TOP or e > top[-1][0]:
                    top = tuple(sorted((*top, (e, i)), reverse=True)[:self.TOP])
                starts.append(s)
                best.append(top)
            self.index[(key, region)] = (starts, best)
            self.regions[key].append(region)

    def latest(self, key: Any, region: Any, t: float) -> list[tuple[float, int]]:
        """[(latest effect time, invocation index)], latest first, at most TOP."""
        out: list[tuple[float, int]] = []
        for r in self.regions.get(key, ()):
            if r == region:
                continue
            starts, best = self.index[(key, r)]
            i = bisect.bisect_left(starts, t)
            if i:
                out.extend(best[i - 1])
        out.sort(reverse=True)
        return out[:self.TOP]

    def latest_end(self, key: Any, region: Any, t: float,
                   exclude: Iterable[int] = ()) -> float:
        """The latest effect time among those writes, leaving out the invocation indices
        in `exclude` (when more are excluded than TOP keeps, +inf: unknown, so lenient)."""
        ex = frozenset(exclude)
        found = self.latest(key, region, t)
        for e, i in found:
            if i not in ex:
                return e
        return NEG_INF if len(found) < self.TOP else float("inf")


def reads_by_region_and_key(reads: Iterable[Pair]) -> dict[tuple, list[Pair]]:
    """(region, key) -> the given reads there, in the order given: one region's view of one
    item, which is what the monotonic-read promises speak of."""
    groups: dict[tuple, list[Pair]] = defaultdict(list)
    for p in reads:
        groups[(region_of(p), p.invoke.key)].append(p)
    return groups


def completed_before_each(reads: Sequence[Pair]) -> Iterator[tuple[Pair, list[Pair]]]:
    """Each read in order of start, with the reads that had completed before it began and
    were not handed out with an earlier read (in order of end), in n log n: the real-time
    sweep a monotonic-read check folds into "what earlier reads in the region saw"."""
    by_end = sorted(reads, key=lambda p: p.end)
    i = 0
    for p in sorted(reads, key=lambda p: p.start):
        j = i
        while j < len(by_end) and by_end[j].end < p.start:
            j += 1
        yield p, by_end[i:j]
        i = j


def failure_kind(attempts: Iterable[Pair]) -> tuple[str, str]:
    """(kind, " with <errors>") for a value whose every write attempt failed:
    "conflicted-write-visible" when one was answered ReplicatedWriteConflictException."""
    errors = sorted({str(a.complete.error) for a in attempts
                     if a.complete is not None and a.complete.error})
    conflicted = any("ReplicatedWriteConflict" in e for e in errors)
    kind = "conflicted-write-visible" if conflicted else "failed-write-visible"
    return kind, (f" with {', '.join(errors)}" if errors else "")


# --- anomalies and results -----------------------------------------------------------

def anomaly(kind: str, *, expected: bool, key: Any, region: str | None,
            ops: Iterable[Any], explanation: str, **details: Any) -> dict:
    idx = [o.index if isinstance(o, Op) else o for o in ops]
    a = {"kind": kind, "expected": bool(expected), "key": key, "region": region,
         "ops": [i for i in idx if isinstance(i, int)], "explanation": explanation}
    a.update(details)
    return a


def unlisted(kind: str, *, expected: bool, count: int) -> dict:
    """`count` anomalies of `kind` beyond the MAX_EXAMPLES a checker already gave before
    it (so `result` counts them but never lists this): a checker that finds many more
    than it can list builds only the examples `result` keeps."""
    return {"kind": kind, "expected": bool(expected), "count": count, "unlisted": True}


def result(anomalies: Iterable[dict], *, judged: bool = True, **details: Any) -> dict:
    """A checker result: invalid when any unexpected anomaly was found; "unknown" when
    nothing could be judged; anomalies listed up to MAX_EXAMPLES per kind, all counted.
    An anomaly standing for several events (lost increments, lost set elements) carries
    `count`, which is what `anomaly_counts` adds up (docs/CONVENTIONS.md)."""
    counts: Counter[str] = Counter()
    listed: list[dict] = []
    violated = False
    listed_n: Counter[str] = Counter()
    for a in anomalies:
        counts[a["kind"]] += a.get("count", 1)
        listed_n[a["kind"]] += 1
        if not a["expected"]:
            violated = True
        if listed_n[a["kind"]] <= MAX_EXAMPLES:
            assert not a.get("unlisted"), f"{a['kind']}: unlisted before MAX_EXAMPLES examples"
            listed.append(a)
    valid: bool | str = False if violated else (True if judged else "unknown")
    return {"valid": valid, "anomaly_counts": dict(counts), "anomalies": listed, **details}
