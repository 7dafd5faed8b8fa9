"""Availability per region per fault period, judged against the mode's promise.

The run's timeline is cut at every fault start and end (`results.history.fault_periods`,
the one derivation of fault periods) into segments, each carrying the faults in force
(or none). For every region and segment we count the operations invoked there by outcome
and judge them against what the mode promises:
- async (A08/A09): every region keeps serving, even isolated or cut off, except a region
  that is stopped (an outage serves nothing in any mode);
- MRSC (M10/M12): a region serves writes and SC reads only while it can reach a majority
  of the three participants (replicas and witness) over live links, routing around a cut
  link; an isolated or stopped region stops, the others keep serving. EC reads are always
  served and are not counted. A region without a majority that nonetheless acknowledges a
  write or SC read invoked after the fault began breaks the promise as much as a majority
  region that stops serving.
An operation answered ConditionalCheckFailed or ReplicatedWriteConflict was served: the
region judged the request on its merits (a business outcome, counted apart as
`answered`, never as a failure); each row's `availability` is served over all, the same
share the verdict judges. A region expected to serve is judged unavailable when, over at least `min_ops` operations
invoked after the segment's grace (a healed MRSC region answers errors until it has caught
up), fewer than `min_availability` of them succeeded. The grace is `grace_s` seconds, or
`grace_fraction` of the segment when that is shorter: with faults every couple of seconds
(test-all --quick) a fixed 2 s grace would leave every segment after the first unjudged,
so short segments are judged on their tail instead. Faults whose effect on availability
the modes do not pin down (one-way cuts; paused replication under MRSC) are not judged,
and no window shorter than `min_window_s` or holding fewer than `min_ops` operations is
judged unavailable (a ratio over a few hundred milliseconds of traffic is noise: a busy
machine can stall any region that long); such a window whose requests were served (at
least `min_availability` of them, one at least) is held on that evidence, since a stall
can hide service but cannot fake it. Every row says what became of it (`verdict`: held /
unavailable / not promised / not judged, with `not_judged` giving the reason), and a run
in which no row was judged is "unknown", never valid: nothing was checked. Options come
from `opts`: availability_min (0.5), availability_min_ops (5), availability_grace_s (2.0),
availability_grace_fraction (0.25), availability_min_window_s (0.5). A final read's
attempts that were not answered are not counted (`_unanswered_final`): the final phase
retries them until answered, and one never answered is unknown, not a violation. A request
not served that ended after its segment did (in flight when the next fault began, or when
the fault lifted) is not judged in its segment: its failure may be the next fault's (Jepsen:
an `info` operation's outcome is unknown; an answer given under the next fault says nothing
of the window before it). A region that comes back (`_grace`) gets the whole grace.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from checkers import observe as ob
from checkers.observe import Pair
from results.history import CLIENT_HOST_FAULTS, FAIL, OK, FaultPeriod, Op, fault_periods


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    faults: tuple[FaultPeriod, ...]

    @property
    def fault(self) -> str | None:
        return "; ".join(fp.describe() for fp in self.faults) or None


def segments(history: Sequence[Op]) -> list[Segment]:
    """The timeline cut at every fault boundary, adjacent equal segments merged."""
    periods = fault_periods(history, possible=True)  # an `info` fault may be in force
    t_end = max((op.time for op in history), default=0)
    cuts = {0, t_end}
    for fp in periods:
        cuts.add(min(fp.start, t_end))
        if fp.end is not None:
            cuts.add(min(fp.end, t_end))
    bounds = sorted(cuts)
    out: list[Segment] = []
    for s, e in zip(bounds, bounds[1:]):
        active = tuple(fp for fp in periods if fp.covers(s))
        if out and out[-1].faults == active:
            out[-1] = Segment(out[-1].start, e, active)
        else:
            out.append(Segment(s, e, active))
    return out or [Segment(0, t_end, ())]


def segment_finder(segs: Sequence[Segment]):
    """A function from a time to the index of the segment holding it (log n a call)."""
    starts = [s.start for s in segs]
    return lambda t: max(0, bisect.bisect_right(starts, t) - 1)


def _regions(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        r = value.get("region", value.get("regions"))
        if isinstance(r, str):
            return [r]
        if isinstance(r, list):
            return [x for x in r if isinstance(x, str)]
        return []
    return [value] if isinstance(value, str) else []


def _stopped(faults: Sequence[FaultPeriod]) -> set[str]:
    return {r for fp in faults if fp.f == "stop" for r in _regions(fp.value)}


def _has_quorum(participants: Sequence[str], faults: Sequence[FaultPeriod]) -> dict[str, bool]:
    """Which participants reach a majority over live links (journal traffic is routed)."""
    up = [p for p in participants if p not in _stopped(faults)]
    down_links: set[frozenset] = set()
    for fp in faults:
        if fp.f == "isolate":
            for r in _regions(fp.value):
                down_links |= {frozenset((r, o)) for o in participants if o != r}
        elif fp.f == "cut" and isinstance(fp.value, Mapping):
            down_links.add(frozenset((fp.value.get("a"), fp.value.get("b"))))
    component: dict[str, int] = {}
    for p in up:  # connected components by flood fill (three participants: tiny)
        if p in component:
            continue
        stack, component[p] = [p], id(p)
        while stack:
            x = stack.pop()
            for y in up:
                if y not in component and frozenset((x, y)) not in down_links:
                    component[y] = id(p)
                    stack.append(y)
    majority = len(participants) // 2 + 1
    sizes: dict[int, int] = {}
    for c in component.values():
        sizes[c] = sizes.get(c, 0) + 1
    return {p: p in component and sizes[component[p]] >= majority for p in participants}


# A slow region (or journal leader) may answer after the client's timeout, and a paused
# (SIGSTOPped) one answers nothing until it resumes: no mode promises availability then.
UNJUDGED = ("slow", "pause", "delay-oneway")  # a one-way delay: as slow, on one path


def expectation(mode: str, region: str, faults: Sequence[FaultPeriod],
                participants: Sequence[str]) -> tuple[bool, bool]:
    """(expected_available, judged) for a region under the faults in force."""
    # The clients' own faults (client-partition, client-timeout) make a region unreachable
    # for them whatever the service does: nothing to judge there.
    if any(fp.f in ("client-partition", "client-timeout") and region in _regions(fp.value)
           for fp in faults):
        return False, False
    if mode == "strong":
        judged = not any(fp.f in ("cut-oneway", "pause-replication", "fis-pause-replication")
                         + UNJUDGED for fp in faults)
        judged = judged and not _client_host_fault(region, faults)
        return _has_quorum(participants, faults).get(region, False), judged
    judged = not any(fp.f in ("cut-oneway",) + UNJUDGED for fp in faults)
    return region not in _stopped(faults), judged and not _client_host_fault(region, faults)


def _client_host_fault(region: str, faults: Sequence[FaultPeriod]) -> bool:
    """A fault of one of the region's client hosts (a remote run) is in force: its
    clients' failures say nothing about the table, so the region is not judged."""
    return any(fp.f in CLIENT_HOST_FAULTS and region in _regions(fp.value) for fp in faults)


# Operations a remote client host lost or never sent (suite.remote: the host was killed
# or is restarting), and operations whose client could not even be opened (never sent,
# suite.runner), say nothing about the table's availability.
CLIENT_HOST_ERRORS = ("host-lost", "no live host", "client-open:")


# Stream reads (workloads/streams.py): served from the region's own stream, like EC reads,
# with no quorum behind them; they say nothing about the table's availability.
STREAM_READ_FS = ("poll", "drain")


def _counted(p: Pair, mode: str) -> bool:
    if p.invoke.f in STREAM_READ_FS:
        return False
    if p.complete is not None and (p.complete.error or "").startswith(CLIENT_HOST_ERRORS):
        return False
    return not (mode == "strong" and p.invoke.f == "read" and not ob.is_sc(p))


# Definite answers of a working region: the request was judged and refused on its merits
# (a failed condition, a conflict lost to a concurrent MRSC write), not for want of service.
ANSWERED_ERRORS = frozenset({"ConditionalCheckFailed", "ReplicatedWriteConflict"})


def _served(p: Pair) -> bool:
    return p.type == OK or (p.type == FAIL and p.complete is not None
                            and p.complete.error in ANSWERED_ERRORS)


def _unanswered_final(p: Pair) -> bool:
    """A final read (`extra["final"]`, after the final heal) that was not answered. The
    final phase is a measurement: each final read is retried until answered
    (workloads.generators.UntilAnswered) because a region may still be recovering after the
    heal (an MRSC journal electing a leader after its leader's region came back, a region
    catching up: M10), and a final read that could not be made is unknown for its region,
    not a violation (issue 21 item 4; docs/CONVENTIONS.md, final reads). So its failed
    attempts are no evidence of unavailability and are not counted; an answered one is a
    request served and counts, as any answer does (a stall can hide service, not fake it).
    Counting the failed attempts turned a journal's recovery into "unavailable":
    `test-all --quick --mode strong --seed 7`, demo-single-writer x outage
    (docs/detection.md, "Third round")."""
    return ob.is_final(p) and not _served(p)


def _ended_within(p: Pair, seg: Segment) -> bool:
    """The request's answer (or its client's timeout) came before the segment ended."""
    return p.complete is not None and p.complete.time <= seg.end


def _grace(grace_ns: int, grace_max_ns: int, before: tuple[bool, bool] | None) -> int:
    """A region's grace in a segment. A region the previous segment's faults kept from
    serving (isolated, stopped, without a majority) and now expected to serve gets the whole
    `availability_grace_s`, never the share of a short segment: "a region that comes back
    answers errors on writes and SC reads until it has caught up" (SEMANTICS.md, API facts;
    M10), and nothing bounds how long catching up takes -- a loaded machine stretched it
    to 0.7 s after a 1.5 s isolation (`validate --bugs sc-read-while-recovering`, its run
    without bugs, register x isolate). Within a short segment it is then judged only on the
    evidence of requests it served (held), and a longer one still convicts a region that
    does not come back."""
    return grace_max_ns if before == (False, True) else grace_ns


def _needs_quorum(p: Pair) -> bool:
    if p.invoke.f in STREAM_READ_FS:
        return False
    return p.invoke.f != "read" or ob.is_sc(p)


class AvailabilityChecker:
    def __init__(self, mode: str):
        if mode not in ("async", "strong"):
            raise ValueError(f"mode must be 'async' or 'strong', got {mode!r}")
        self.mode = mode

    def check(self, test, history, opts) -> dict:
        opts, test = opts or {}, test or {}
        min_avail = float(opts.get("availability_min", 0.5))
        min_ops = int(opts.get("availability_min_ops", 5))
        grace_max_ns = int(float(opts.get("availability_grace_s", 2.0)) * 1e9)
        grace_fraction = float(opts.get("availability_grace_fraction", 0.25))
        min_window_ns = int(float(opts.get("availability_min_window_s", 0.5)) * 1e9)
        pairs = ob.client_pairs(history)
        segs = segments(history)
        # the first segment begins the run: no heal to recover from, no grace
        graces = [0] + [min(grace_max_ns, int(grace_fraction * (g.end - g.start)))
                        for g in segs[1:]]
        witness = test.get("witness")
        regions = [r for r in (test.get("regions") or sorted({ob.region_of(p) for p in pairs
                                                             if ob.region_of(p)}))
                   if r != witness]  # a witness holds no table: no client traffic
        participants = regions + ([witness] if witness else [])
        # region -> segment -> [ok, fail, info, judged_served, judged_total, answered]
        tally = {r: [[0, 0, 0, 0, 0, 0] for _ in segs] for r in regions}
        served_without_quorum: list[tuple[Pair, Segment]] = []
        expect = [{r: expectation(self.mode, r, s.faults, participants) for r in regions}
                  for s in segs]
        # Segments hold the faults possibly in force (from the injection's invocation,
        # until the heal is answered): they excuse. Only faults certainly in force (from
        # the injection's `ok`, until the heal is invoked) convict an operation served
        # without quorum.
        certain = fault_periods(history)
        segment_of = segment_finder(segs)
        grace_of = {(r, i): _grace(graces[i], grace_max_ns, expect[i - 1][r] if i else None)
                    for r in regions for i in range(len(segs))}
        for p in pairs:
            r = ob.region_of(p)
            if r not in tally or not _counted(p, self.mode) or _unanswered_final(p):
                continue
            i = segment_of(p.start)
            row = tally[r][i]
            served = _served(p)
            slot = 0 if p.type == OK else 5 if served else 1 if p.type == FAIL else 2
            row[slot] += 1
            if p.start >= segs[i].start + grace_of[r, i] and (served or _ended_within(p, segs[i])):
                row[4] += 1
                row[3] += served
            exp, judged = expect[i][r]
            # an operation that waited out the fault and completed after it is legal
            if (self.mode == "strong" and judged and not exp and p.type == OK
                    and _needs_quorum(p) and segs[i].faults and p.end < segs[i].end
                    and expectation(self.mode, r, tuple(fp for fp in certain
                                                        if fp.covers(p.start)),
                                    participants) == (False, True)):
                served_without_quorum.append((p, segs[i]))
        found, out_regions = [], {}
        for r in regions:
            rows = []
            for i, s in enumerate(segs):
                ok, fail, info, jok, jtotal, answered = tally[r][i]
                total = ok + answered + fail + info
                exp, judged = expect[i][r]
                # Availability is what is judged: served (ok, or answered on the request's
                # merits) over all; "answered" are business outcomes, not failures.
                rows.append({"start_s": round(s.start / 1e9, 3), "end_s": round(s.end / 1e9, 3),
                             "fault": s.fault, "ok": ok, "answered": answered, "fail": fail,
                             "info": info,
                             "availability": round((ok + answered) / total, 4) if total else None,
                             "judged_served": jok, "judged_total": jtotal,
                             "expected_available": exp, "judged": judged})
                window_ns = s.end - s.start - grace_of[r, i]
                why = (None if exp and judged and jtotal >= min_ops
                       and window_ns >= min_window_ns else
                       "not promised" if judged and not exp else
                       f"no promise pins down availability under {s.fault}" if not judged
                       else
                       f"window {window_ns / 1e9:.2f} s after a {graces[i] / 1e9:.2f} s grace"
                       f", shorter than {min_window_ns / 1e9:g} s" if window_ns < min_window_ns
                       else f"{jtotal} operation(s) after the grace, fewer than {min_ops}")
                served_enough = jtotal > 0 and jok / jtotal >= min_avail
                if why is not None and why != "not promised" and judged and exp \
                        and served_enough:
                    # a short or thin window cannot prove an outage (a stall looks like
                    # one), but requests answered are answers: held on that evidence
                    why = None
                elif jtotal == 0 and why is not None and judged and exp:
                    why = "no operation" + (" after the grace" if grace_of[r, i] else "")
                verdict = ("not promised" if why == "not promised" else
                           "not judged" if why is not None else
                           "held" if served_enough else "unavailable")
                rows[-1].update(judged=why is None, verdict=verdict,
                                not_judged=None if why in (None, "not promised") else why,
                                grace_s=round(grace_of[r, i] / 1e9, 3))
                if verdict == "unavailable":
                    found.append(ob.anomaly(
                        "unavailable", expected=False, key=None, region=r, ops=[],
                        explanation=(f"{r} should have kept serving from {ob.secs(s.start)} to "
                                     f"{ob.secs(s.end)} ({s.fault or 'no fault'}), but only "
                                     f"{jok} of {jtotal} operations succeeded")))
            out_regions[r] = rows
        for p, s in served_without_quorum:
            what = "SC read" if p.invoke.f == "read" else p.invoke.f
            found.append(ob.anomaly(
                "served-without-quorum", expected=False, key=p.invoke.key,
                region=ob.region_of(p), ops=[p.invoke.index],
                explanation=(f"{what} of {p.invoke.key} in {ob.region_of(p)} invoked at "
                             f"{ob.secs(p.start)} (op {p.invoke.index}) succeeded while "
                             f"{ob.region_of(p)} could not reach a majority ({s.fault})")))
        judged_rows = sum(row["judged"] for rows in out_regions.values() for row in rows)
        not_judged = sum(row["verdict"] == "not judged" for rows in out_regions.values()
                         for row in rows)
        out = ob.result(found, judged=judged_rows > 0, regions=out_regions, mode=self.mode,
                        judged_periods=judged_rows, not_judged_periods=not_judged)
        if out["valid"] == "unknown":
            out["reason"] = ("no period could be judged: every region's periods were too "
                             "short, held too few operations after the grace, or had "
                             "faults whose effect the mode does not pin down")
        return out
