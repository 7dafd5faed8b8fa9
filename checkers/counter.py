"""Counter checks: what a read of an UpdateItem-ADD counter may return, in each mode.

A counter's value is the sum of the deltas of some set of increments. For a read, the
increments acknowledged before the read began must be in that set under MRSC (M06: an SC
read reflects every write acknowledged anywhere before it); the increments invoked after
the read ended can be in no set; the rest (concurrent ones, and `info` ones that may have
happened) may or may not be. So every MRSC SC read lies between

    lower = sum(definite deltas) + sum(negative optional deltas)
    upper = sum(definite deltas) + sum(positive optional deltas)

(with only positive deltas: between the acknowledged and the attempted increments), and
is a multiple of the deltas' greatest common divisor (a value no combination of the
increments makes is a violation in both modes). Under async last-writer-wins an add reads
the local value and writes value + delta as a new version, so remote versions can
overwrite it and increments get lost (A14), but only through a write from another region
(`async_losses`): a region losing an increment it acknowledged or a value it showed, where
no such write could have overwritten it, breaks A01/A05; the other shortfalls are stale
reads and lost increments, expected and reported by `checkers.anomalies`. MRSC SC reads
are also searched for a linearization (`checkers.mrsc.Linearizable`, model "counter"). `fail` adds (including adds answered
ReplicatedWriteConflictException) count as never happened. Four prefix sums and a binary
search per read make the check n log n.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import defaultdict
from itertools import accumulate
from typing import Any, Sequence

from checkers import observe as ob
from checkers.observe import NEG_INF, Pair
from results.history import FAIL, OK


def counter_value(v: Any) -> int | float:
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"counter value is not a number: {v!r}")
    return v


class CounterBounds:
    """Per key: the range a read over [start, end] may return."""

    def __init__(self, adds: Sequence[Pair]):
        live = [p for p in adds if p.type != FAIL]
        self.positive_only = all(counter_value(p.invoke.value) >= 0 for p in live)
        by_start = sorted(live, key=lambda p: p.start)
        self.by_start = by_start
        self.starts = [p.start for p in by_start]
        self.inv_pos = [0, *accumulate(max(0, counter_value(p.invoke.value)) for p in by_start)]
        self.inv_neg = [0, *accumulate(min(0, counter_value(p.invoke.value)) for p in by_start)]
        acked = sorted((p for p in live if p.type == OK), key=lambda p: p.end)
        self.acked = acked
        self.ends = [p.end for p in acked]
        self.ack_pos = [0, *accumulate(max(0, counter_value(p.invoke.value)) for p in acked)]
        self.ack_neg = [0, *accumulate(min(0, counter_value(p.invoke.value)) for p in acked)]
        self.acked_total = sum(counter_value(p.invoke.value) for p in acked)
        self.attempted_total = sum(counter_value(p.invoke.value) for p in live)
        deltas = {counter_value(p.invoke.value) for p in live}
        # every value a copy can hold is a sum of some of the deltas, so a multiple of
        # their greatest common divisor (integers only)
        self.gcd = (math.gcd(*(abs(d) for d in deltas))
                    if deltas and all(isinstance(d, int) for d in deltas) else 0)
        self.max_delta = max(deltas, default=0)
        # the smallest delta of the adds invoked so far, per add in start order: under
        # async every version an add writes holds its region's copy plus its delta, so
        # with only positive deltas no version but the initial one holds less than this
        self.min_delta = [*accumulate((counter_value(p.invoke.value) for p in by_start),
                                      min)]

    def version_floor(self, end: int) -> float:
        """The least value any version written by an add invoked before `end` holds (only
        positive deltas: a copy, itself at least 0, plus the add's delta)."""
        i = bisect.bisect_left(self.starts, end)
        return self.min_delta[i - 1] if i else 0

    def possible(self, start: int, end: int) -> tuple[float, float]:
        """(lowest, highest) any copy may hold: any subset of the adds invoked by `end`."""
        i = bisect.bisect_left(self.starts, end)
        return self.inv_neg[i], self.inv_pos[i]

    def linearizable(self, start: int, end: int) -> tuple[float, float, Pair | None]:
        """(lower, upper, latest definite add) for an SC read under MRSC."""
        i = bisect.bisect_left(self.starts, end)
        j = bisect.bisect_left(self.ends, start)
        lower = self.inv_neg[i] + self.ack_pos[j]
        upper = self.inv_pos[i] + self.ack_neg[j]
        return lower, upper, (self.acked[j - 1] if j else None)


def bounds_by_key(pairs: Sequence[Pair]) -> dict[Any, CounterBounds]:
    return ob.memo(pairs, "counter_bounds", lambda: _bounds_by_key(pairs))


def _bounds_by_key(pairs: Sequence[Pair]) -> dict[Any, CounterBounds]:
    adds: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.invoke.f == "add":
            adds[p.invoke.key].append(p)
    keys = {p.invoke.key for p in pairs if p.invoke.f == "read"} | set(adds)
    return {k: CounterBounds(adds.get(k, [])) for k in keys}


def _reads(pairs: Sequence[Pair]):
    for p in pairs:
        if p.type == OK and p.invoke.f == "read":
            yield p


def _too_high(p: Pair, value, upper) -> dict:
    key, region = p.invoke.key, ob.region_of(p)
    return ob.anomaly(
        "counter-too-high", expected=False, key=key, region=region, ops=[p.invoke.index],
        explanation=(f"{ob.read_kind(p)} of {key} in {region} at {ob.secs(p.start)} (op "
                     f"{p.invoke.index}) returned {value}, but the increments invoked before "
                     f"it ended add up to at most {upper}"))


def stale_counter_read(p: Pair, value, lower, latest: Pair | None, *, expected: bool) -> dict:
    key, region = p.invoke.key, ob.region_of(p)
    tail = ("" if latest is None else
            f" (the latest, op {latest.invoke.index} in {ob.region_of(latest)}, at "
            f"{ob.secs(latest.end)})")
    return ob.anomaly(
        "stale-read", expected=expected, key=key, region=region,
        ops=[p.invoke.index] + ([latest.invoke.index] if latest else []),
        explanation=(f"SC read of {key} in {region} at {ob.secs(p.start)} (op "
                     f"{p.invoke.index}) returned {value}, but increments acknowledged "
                     f"before the read began make it at least {lower}{tail}"))


def bound_anomalies(pairs: Sequence[Pair], *, strong: bool) -> list[dict]:
    """Reads outside what the mode allows: above the upper bound (both modes; EC reads
    against what any copy may hold) and, under MRSC, SC reads below the lower bound."""
    bounds = bounds_by_key(pairs)
    out = []
    for p in _reads(pairs):
        b = bounds[p.invoke.key]
        value = counter_value(ob.read_value(p))
        if strong and ob.is_sc(p):
            lower, upper, latest = b.linearizable(p.start, p.end)
            if value < lower:
                out.append(stale_counter_read(p, value, lower, latest, expected=False))
                continue
        else:
            lo, upper = b.possible(p.start, p.end)
            if value < lo:
                key, region = p.invoke.key, ob.region_of(p)
                out.append(ob.anomaly(
                    "counter-too-low", expected=False, key=key, region=region,
                    ops=[p.invoke.index],
                    explanation=(f"{ob.read_kind(p)} of {key} in {region} at "
                                 f"{ob.secs(p.start)} (op {p.invoke.index}) returned {value}, "
                                 f"below anything the increments invoked by then can make "
                                 f"({lo})")))
                continue
        if value > upper:
            out.append(_too_high(p, value, upper))
        elif b.gcd > 1 and isinstance(value, int) and value % b.gcd:
            out.append(_impossible(p, value, b.gcd))
    return out


def _impossible(p: Pair, value, g) -> dict:
    key, region = p.invoke.key, ob.region_of(p)
    return ob.anomaly(
        "impossible-counter-value", expected=False, key=key, region=region,
        ops=[p.invoke.index],
        explanation=(f"{ob.read_kind(p)} of {key} in {region} at {ob.secs(p.start)} (op "
                     f"{p.invoke.index}) returned {value}, which no combination of the "
                     f"increments makes: every increment of {key} is a multiple of {g}"))


def async_losses(pairs: Sequence[Pair], margin_ns: int) -> tuple[list[dict], dict]:
    """Computed once per history (`_async_losses` says what it finds)."""
    return ob.memo(pairs, ("counter_async_losses", margin_ns),
                   lambda: _async_losses(pairs, margin_ns))


def _async_losses(pairs: Sequence[Pair], margin_ns: int) -> tuple[list[dict], dict]:
    """Async: counter values a region lost for no reason last-writer-wins allows.

    An add reads the region's copy and writes copy + delta as a new version; a region's
    copy moves to a version of lower value only when a version from another region with
    a higher timestamp replaces it (A06, A14). So for an SC read r in region R (final
    reads included), with only positive deltas:
    - every add acknowledged in R before r began is in R's copy (A01) unless a write from
      another region, invoked before r ended, may carry a higher timestamp, i.e. did not
      end (plus twice the injected clock skew) before the add began;
    - a value v an earlier read in R saw is still reflected (A05) unless such a write may
      carry a higher timestamp than the version holding v, which was written by an add
      invoked no earlier than the k-th invocation of an add, k = ceil(v / largest delta).
    Below the larger of those two bounds is a violation: read-your-writes, non-monotonic-
    read, or lost-increment for a final read (`count`: the increments lost). Returns
    (violations, key -> the most increments a final read lost that way)."""
    remote = ob.RemoteWrites(pairs, fs=("add",))
    bounds = bounds_by_key(pairs)
    groups: dict[tuple, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for p in pairs:
        if p.type != OK:
            continue
        f = p.invoke.f
        if f == "add":
            groups[(ob.region_of(p), p.invoke.key)][0].append(p)
        elif f == "read":
            own, evidence, judged = groups[(ob.region_of(p), p.invoke.key)]
            evidence.append(p)
            if ob.is_sc(p):
                judged.append(p)
    out: list[dict] = []
    lost: dict[Any, float] = defaultdict(float)
    for (region, key), (own, evidence, judged) in groups.items():
        b = bounds.get(key)
        if not judged or b is None or not b.positive_only:
            continue
        own.sort(key=lambda p: p.start)
        starts = [p.start for p in own]
        sums = [0, *accumulate(counter_value(p.invoke.value) for p in own)]
        evidence.sort(key=lambda p: p.end)
        inflight: list[tuple] = []  # own adds begun, not ended: (end, start, index, delta)
        i = j = 0
        seen, seen_op, last_op = 0, None, None
        for r in sorted(judged, key=lambda p: p.start):
            while i < len(own) and own[i].start < r.start:
                q = own[i]
                heapq.heappush(inflight, (q.end, q.start, q.invoke.index,
                                          counter_value(q.invoke.value)))
                i += 1
            while inflight and inflight[0][0] < r.start:
                heapq.heappop(inflight)
            while j < len(evidence) and evidence[j].end < r.start:
                last_op = evidence[j]
                v = counter_value(ob.read_value(last_op))
                if v > seen:
                    seen, seen_op = v, last_op
                j += 1
            limit = remote.latest_end(key, region, r.end) + margin_ns

            def own_after(t: float) -> float:
                """Own acknowledged adds begun after t (and after `limit`), done before r."""
                t = max(t, limit)
                lo = bisect.bisect_right(starts, t)
                return sums[i] - sums[min(lo, i)] - sum(d for _, s, _, d in inflight if s > t)

            acked = own_after(NEG_INF)
            held, held_op = 0, None
            for q in {id(x): x for x in (seen_op, last_op) if x is not None}.values():
                v = counter_value(ob.read_value(q))
                k = math.ceil(v / b.max_delta) if v > 0 and b.max_delta > 0 else 0
                if k > len(b.starts) or (k and _overwritable(
                        b, b.starts[k - 1], remote.latest(key, region, r.end), margin_ns)):
                    continue
                # R held v by q's end; its own later adds were built on top of it
                bound = v + own_after(q.end)
                if bound > held:
                    held, held_op = bound, q
            value = counter_value(ob.read_value(r))
            # R held a version no initial one can replace: its own add acknowledged
            # before r began (A01), or a positive value an earlier read there showed (A05,
            # G2). From then on R's copy is a version of later timestamp (A06: a remote
            # write replaces it only when newer, and whole), each written by some add as
            # a copy plus that add's delta: never below the smallest delta (A14 loses
            # increments by overwriting, never down to the initial 0)
            own_acked = i - len(inflight)
            floor = (b.version_floor(r.end) if own_acked or seen > 0 else 0)
            lower = max(acked, held, floor)
            if value >= lower:
                continue
            if ob.is_final(r) or ob.is_quiet(r):  # a quiet read: final read of its round
                kind = "lost-increment"
                lost[key] = max(lost[key], lower - value)
            else:
                kind = "read-your-writes" if acked > value else "non-monotonic-read"
            if acked > value:
                why = (f"increments acknowledged in {region} before it began add up to "
                       f"{acked}")
            elif held > value:
                why = (f"op {held_op.invoke.index} read {ob.read_value(held_op)} there, done "
                       f"at {ob.secs(held_op.end)}, and what {region} acknowledged after "
                       f"that makes it at least {held}")
            else:
                held_op = None if own_acked else seen_op
                mine = next((q for q in own[:i] if q.end < r.start), None)
                since = (f"its own increment op {mine.invoke.index} was acknowledged at "
                         f"{ob.secs(mine.end)}" if mine is not None
                         else f"op {seen_op.invoke.index} read {seen} there")
                why = (f"{region} had left the initial version ({since}), and every later "
                       f"version there holds some copy plus an increment, so at least "
                       f"{floor}: a write from another region replaces the whole version "
                       f"by last-writer-wins, with another add's (A01, A05, A06, A14)")
            if kind != "lost-increment":
                kind = ("read-your-writes" if acked > value or (held <= value and own_acked)
                        else "non-monotonic-read")
            out.append(ob.anomaly(
                kind, expected=False, key=key, region=region,
                ops=[r.invoke.index] + ([held_op.invoke.index]
                                        if acked <= value and held_op is not None else []),
                count=lower - value if kind == "lost-increment" else 1,
                explanation=(f"{ob.read_kind(r)} of {key} in {region} at {ob.secs(r.start)} "
                             f"(op {r.invoke.index}) returned {value}, but {why}"
                             + ("" if max(acked, held) <= value else
                                ", and no write from another region could have "
                                "overwritten that by last-writer-wins"))))
    return out, dict(lost)


def ec_monotonic_anomalies(pairs: Sequence[Pair]) -> list[dict]:
    """MRSC: EC reads of a counter with only positive deltas never decrease in a region."""
    bounds = bounds_by_key(pairs)
    groups = ob.reads_by_region_and_key(
        p for p in _reads(pairs) if not ob.is_sc(p) and bounds[p.invoke.key].positive_only)
    out = []
    for (region, key), reads in groups.items():
        best = None
        for p, done in ob.completed_before_each(reads):
            for q in done:
                if best is None or counter_value(ob.read_value(q)) > counter_value(ob.read_value(best)):
                    best = q
            if best is not None and counter_value(ob.read_value(p)) < counter_value(ob.read_value(best)):
                out.append(ob.anomaly(
                    "non-monotonic-read", expected=False, key=key, region=region,
                    ops=[best.invoke.index, p.invoke.index], stream="EC",
                    explanation=(f"EC reads of {key} in {region} went back in time: op "
                                 f"{best.invoke.index} returned {ob.read_value(best)} (done at "
                                 f"{ob.secs(best.end)}), then op {p.invoke.index} returned "
                                 f"{ob.read_value(p)} (begun at {ob.secs(p.start)}), though "
                                 f"the counter only grows")))
    return out


def _overwritable(b: CounterBounds, floor: int, remote: list, margin_ns: int) -> bool:
    """Whether a write from another region (`remote`: RemoteWrites.latest) may carry a
    higher timestamp than a version written by an add invoked no earlier than `floor`.
    The one candidate cannot replace the version it wrote itself: with a single candidate
    w, some other add must be able to have written that version before w (an add that
    took effect at or after `floor` and began before w could end). Scans at most 64 adds,
    then answers yes (unknown is lenient)."""
    late = [(e, i) for e, i in remote if e + margin_ns >= floor]
    if not late:
        return False
    if len(late) >= 2:
        return True
    w_end, w_index = late[0]
    hi = bisect.bisect_right(b.starts, w_end + margin_ns)
    for j in range(hi - 1, -1, -1):
        if hi - j > 64:
            return True
        c = b.by_start[j]
        if c.invoke.index == w_index:
            continue
        c_end = c.end
        if c_end is None or c_end + margin_ns >= floor:
            return True
    return False


def lost_increment_anomalies(pairs: Sequence[Pair], violated: dict | None = None) -> list[dict]:
    """Async (expected): final reads below the acknowledged increments, one per key, its
    `count` the increments lost (less those in `violated`, lost for no allowed reason and
    reported as violations by `async_losses`)."""
    from checkers.async_props import final_reads  # one definition of "final read"
    bounds = bounds_by_key(pairs)
    out = []
    for key, per in final_reads(pairs).items():
        b = bounds.get(key)
        if b is None:
            continue
        short = {}
        for region, p in per.items():
            lower, _, _ = b.linearizable(p.start, p.end)
            value = counter_value(ob.read_value(p))
            if value < lower:
                short[region] = (p, value, lower)
        if not short:
            continue
        values = sorted({v for _, v, _ in short.values()})
        lower = max(lo for _, _, lo in short.values())
        where = ("every region" if len(short) == len(per) and len(values) == 1
                 else ", ".join(sorted(short)))
        shown = values[0] if len(values) == 1 else " / ".join(map(str, values))
        n_acked = len(b.acked)
        allowed = lower - min(values) - (violated or {}).get(key, 0)
        if allowed <= 0:
            continue
        out.append(ob.anomaly(
            "lost-increment", expected=True, key=key, region=None,
            ops=sorted(p.invoke.index for p, _, _ in short.values()),
            lost=lower - min(values), acknowledged=b.acked_total, count=allowed,
            explanation=(f"The final value of {key} is {shown} in {where}, but {n_acked} "
                         f"acknowledged increments add up to {lower}: "
                         f"{lower - min(values)} lost to last-writer-wins")))
    return out


class CounterChecker:
    """The counter's promised bounds in `mode` ("async" or "strong")."""

    def __init__(self, mode: str):
        self.strong = mode == "strong"

    def check(self, test, history, opts) -> dict:
        pairs = ob.client_pairs(history)
        found = bound_anomalies(pairs, strong=self.strong)
        if self.strong:
            found += ec_monotonic_anomalies(pairs)
        else:
            found += async_losses(pairs, ob.skew_margin_ns(history))[0]
        reads = sum(1 for _ in _reads(pairs))
        adds = [p for p in pairs if p.invoke.f == "add"]
        return ob.result(found, judged=reads > 0, reads=reads,
                         adds={"ok": sum(p.type == OK for p in adds),
                               "fail": sum(p.type == FAIL for p in adds),
                               "info": sum(p.type not in (OK, FAIL) for p in adds)})
