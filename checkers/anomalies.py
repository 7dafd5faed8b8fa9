"""The anomalies async replication allows, counted and explained, never failures.

An application on an async (MREC) global table must survive these, so the report shows
how often each happened and examples, with `expected: True` (docs/CONVENTIONS.md):
- stale reads across regions (A03): an SC read in one region returns a value provably
  older than a write acknowledged in another region before the read began ("provably":
  every write of the returned value was acknowledged before the newer write was invoked,
  by more than twice the largest injected clock skew, so last-writer-wins orders them);
- the no-relay effect (A10): during a cut between A and B, a write from A has reached a
  third region C (a read there saw it), yet B still reads an older value;
- lost increments (A14) and lost set adds: final values below what was acknowledged,
  where a concurrent write from another region could have overwritten them (the rest
  is a violation, judged by `checkers.counter` / `checkers.set`); counted per increment
  and per element (`count`);
- linearizability violations: the SC history per key is not linearizable.
The same-region case of a stale read is a read-your-writes violation, a promise, judged
in `checkers.async_props`. The stale-read search (`stale_register_reads`) is also MRSC's
"SC reads are never stale" promise, with `expected=False`. n log n: one sorted index of
acknowledged writes per key (and per key and region) and a binary search per read.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from checkers import counter as counter_checks
from checkers.core import collector_paused
from checkers import observe as ob
from checkers import set as set_checks

# Kinds listed as anomalies that are evidence a promise held, not anomalies a reader must
# survive: a "no-relay" read shows the replicators did not relay during a cut (A10's
# promise at work). The console and the report list them apart (issue 25).
EVIDENCE_KINDS = frozenset({"no-relay"})
from checkers.async_props import provably_older
from checkers.observe import Pair
from results.history import OK, FaultPeriod, fault_periods


def cut_periods(history) -> list[FaultPeriod]:
    return [fp for fp in fault_periods(history)
            if fp.f == "cut" and isinstance(fp.value, Mapping)
            and "a" in fp.value and "b" in fp.value]


def _first_seen(pairs: Sequence[Pair]) -> dict[tuple, dict[str, int]]:
    """(key, value) -> region -> the earliest end of an ok read there that returned it."""
    seen: dict[tuple, dict[str, int]] = defaultdict(dict)
    for p in pairs:
        if p.type == OK and p.invoke.f == "read":
            per = seen[(p.invoke.key, ob.freeze(ob.read_value(p)))]
            r = ob.region_of(p)
            if r not in per or p.end < per[r]:
                per[r] = p.end
    return seen


def stale_register_reads(pairs: Sequence[Pair], writes, *, margin_ns: int, expected: bool,
                         cross_region_only: bool, cuts: Iterable[FaultPeriod] = (),
                         include_final: bool = False) -> list[dict]:
    """SC reads returning a value provably older than an earlier acknowledged write.

    With `cross_region_only`, a read whose own region had acknowledged a newer write is
    left out (that is read-your-writes). During a cut between the read's region and the
    newer write's region, a read is a "no-relay" anomaly when the newer value had already
    been read in a third region."""
    newest = ob.index_newest_acked(pairs, by_region=False)
    newest_in = ob.index_newest_acked(pairs, by_region=True)
    relays = _relay_indexes(list(cuts), pairs)
    out = []
    for p in pairs:
        if p.type != OK or p.invoke.f != "read" or not ob.is_sc(p):
            continue
        if ob.is_final(p) and not include_final:
            continue
        key, region, t = p.invoke.key, ob.region_of(p), p.start
        value = ob.freeze(ob.read_value(p))
        # the newest write acknowledged anywhere first: a read not older than it is no
        # stale read whatever its own region did, and most reads are not (issue 23: one
        # look-up per read instead of two; both tests are pure, so the order is free)
        idx = newest.get(key)
        newer = idx.before(t) if idx else None
        if not provably_older(value, key, newer, writes, margin_ns):
            continue
        own = newest_in.get((key, region))
        if cross_region_only and provably_older(value, key, own.before(t) if own else None,
                                                writes, margin_ns):
            continue
        head = ob.sc_read_said(p, value)
        relay = _no_relay(p, value, key, region, relays, writes, margin_ns)
        if relay is not None:
            cut, w, third, seen_at = relay
            out.append(ob.anomaly(
                "no-relay", expected=expected, key=key, region=region,
                ops=[p.invoke.index, w.invoke.index],
                explanation=(f"During the cut between {cut.value['a']} and {cut.value['b']}, "
                             f"{head}, though write {ob.show(ob.written_value(w))} from "
                             f"{ob.region_of(w)} (op {w.invoke.index}, acknowledged at "
                             f"{ob.secs(w.end)}) had already reached {third} (read there by "
                             f"{ob.secs(seen_at)}): async replicators do not relay")))
            continue
        out.append(ob.anomaly(
            "stale-read", expected=expected, key=key, region=region,
            ops=[p.invoke.index, newer.invoke.index],
            explanation=f"{head}, but {ob.missed_write(newer)}"))
    return out


class _RelayIndex:
    """For one cut (a, b) and one direction (writes from `src`, reads in `dst`): per key,
    the writes from `src` invoked during the cut whose value a third region read, by the
    time it was first read there; `before(key, t)` gives the one invoked last among those
    seen before t."""

    def __init__(self, cut: FaultPeriod, src: str, dst: str,
                 writes_by_start: tuple[list[int], list[Pair]], seen):
        self.cut, self.src, self.dst = cut, src, dst
        events: dict[Any, list[tuple[int, Pair, str]]] = defaultdict(list)
        starts, writes = writes_by_start
        lo = bisect.bisect_left(starts, cut.start)
        hi = len(starts) if cut.end is None else bisect.bisect_left(starts, cut.end)
        for p in writes[lo:hi]:  # the acknowledged writes from src invoked during the cut
            regions = seen.get((p.invoke.key, ob.freeze(ob.written_value(p))), {})
            thirds = [(t, r) for r, t in regions.items() if r not in (src, dst)]
            if thirds:
                t, r = min(thirds)
                events[p.invoke.key].append((t, p, r))
        self.index = {}
        for key, evs in events.items():
            evs.sort(key=lambda e: e[0])
            best, out = None, []
            for e in evs:
                if best is None or e[1].start > best[1].start:
                    best = e
                out.append(best)
            self.index[key] = ([e[0] for e in evs], out)

    def before(self, key: Any, t: int):
        times, best = self.index.get(key, ((), ()))
        i = bisect.bisect_left(times, t)
        return best[i - 1] if i else None


def _relay_indexes(cuts, pairs) -> list[_RelayIndex]:
    if not cuts:
        return []
    seen = _first_seen(pairs)
    by_region: dict[Any, list[Pair]] = defaultdict(list)
    for p in pairs:
        if p.type == OK and p.invoke.f in ob.WRITE_FS:
            by_region[ob.region_of(p)].append(p)
    index = {}
    for r, ws in by_region.items():
        ws.sort(key=lambda p: p.start)
        index[r] = ([p.start for p in ws], ws)
    empty: tuple[list[int], list[Pair]] = ([], [])
    out = []
    for cut in cuts:
        a, b = cut.value["a"], cut.value["b"]
        out += [_RelayIndex(cut, a, b, index.get(a, empty), seen),
                _RelayIndex(cut, b, a, index.get(b, empty), seen)]
    return out


def _no_relay(p, value, key, region, relays, writes, margin_ns):
    t = p.start
    for rx in relays:
        if rx.dst != region or not rx.cut.covers(t):
            continue
        hit = rx.before(key, t)
        if hit is not None and provably_older(value, key, hit[1], writes, margin_ns):
            seen_at, w, third = hit
            return rx.cut, w, third, seen_at
    return None


class ExpectedAnomalies:
    """Async's expected anomalies for one workload ("register", "counter" or "set")."""

    def __init__(self, workload: str, *, linearizability: bool = True,
                 linearizability_timeout: float | None = 60.0):
        self.workload = workload
        self.linearizability = linearizability
        self.timeout = linearizability_timeout

    def check(self, test, history, opts) -> dict:
        pairs = ob.client_pairs(history)
        details: dict[str, Any] = {}
        if self.workload == "register":
            writes = ob.register_writes(pairs)
            found = stale_register_reads(pairs, writes, margin_ns=ob.skew_margin_ns(history),
                                         expected=True, cross_region_only=True,
                                         cuts=cut_periods(history))
            if self.linearizability:
                lin = self._linearizability(test, history, opts)
                details["linearizability"] = lin.get("linearizability", lin)
                found += lin.get("anomalies", [])
        elif self.workload == "counter":
            # what async does not allow is judged by CounterChecker / SetChecker; here only
            # what last-writer-wins may have caused is counted
            violations, lost = counter_checks.async_losses(pairs, ob.skew_margin_ns(history))
            flagged = {a["ops"][0] for a in violations}
            found = [counter_checks.stale_counter_read(p, v, lo, latest, expected=True)
                     for p, v, lo, latest in _low_counter_reads(pairs)
                     if p.invoke.index not in flagged]
            found += counter_checks.lost_increment_anomalies(pairs, violated=lost)
        elif self.workload == "set":
            with collector_paused():
                adds = set_checks.adds_by_key(pairs)
                violations, reported = set_checks.async_losses(pairs, adds,
                                                               ob.skew_margin_ns(history))
                found = set_checks.stale_set_anomalies(
                    pairs, adds, expected=True, skip={a["ops"][0] for a in violations})
                found += set_checks.lost_add_anomalies(pairs, adds, expected=True,
                                                       exclude=reported)
        else:
            raise ValueError(f"no expected anomalies defined for workload {self.workload!r}")
        return ob.result(found, **details)

    def _linearizability(self, test, history, opts) -> dict:
        from checkers.mrsc import Linearizable
        try:
            return Linearizable(expected=True, timeout=self.timeout).check(test, history, opts)
        except ImportError as e:  # issue 5's package not merged: say so in the result
            return {"linearizability": {"valid": "unknown", "error": f"unavailable: {e}"}}


def _low_counter_reads(pairs: Sequence[Pair]):
    """Non-final SC counter reads below what the acknowledged increments make."""
    bounds = counter_checks.bounds_by_key(pairs)
    for p in pairs:
        if p.type != OK or p.invoke.f != "read" or not ob.is_sc(p) or ob.is_final(p):
            continue
        lower, _, latest = bounds[p.invoke.key].linearizable(p.start, p.end)
        value = counter_checks.counter_value(ob.read_value(p))
        if value < lower:
            yield p, value, lower, latest
