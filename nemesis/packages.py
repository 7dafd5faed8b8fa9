"""Nemesis packages: a nemesis, its fault schedule, and the final heal, for `--nemesis`.

A package (suite.protocols.NemesisPackage) bundles what a run needs to inject one fault
family: the `FaultNemesis` that performs fault operations through the target's fault API,
the `generator` of the main phase's fault schedule (run on the nemesis thread), and the
`final_generator` that heals everything before the final reads.

Composition (`--nemesis isolate,link`): the harness runs the composed packages' schedules
side by side (suite.compose). To keep one fault in force at a time -- so every fault
period has one clear promise (MRSC: the isolated region stops, the others keep serving)
and `heal`, which ends everything, never ends another family's fault by surprise -- the
families take turns: of k composed families, family i waits `interval * (1 + 2i)`, begins
its fault, waits `interval`, ends it, then waits `interval * (2k - 1)` before its next turn.
So faults come every other interval, round robin over the families, each lasting one
interval. Targets are drawn from a seed derived from the run's seed and the family name:
the same seed gives the same fault schedule.

Patterns (`--nemesis-timing`): `grid` is the fixed grid above. `random` draws each
turn's start within [-1/2, +1/4] interval of its grid time and its length within [1/2,
5/4] interval (seeded), so faults still take turns but no two runs share a rhythm.
`end-in-fault` is `random` whose last family holds its fault open through the end of the
main phase: the final heal then ends it, right before the final reads, which is when a
backlog that heals badly shows (issue 12: a schedule that happened to end in a fault
caught a bug that one ending 2 s earlier missed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from nemesis.core import FaultNemesis
from nemesis.faults import (ALL_FAMILIES, HEAL, FaultOptions, Topology,
                            parse_nemesis_names)
from suite.compose import compose_packages
from gtcheck.errors import BadInput
from suite.generator import PENDING, Generator, gen_op, seconds_to_ns
from suite.protocols import NemesisPackage

DEFAULT_INTERVAL_S = 1.0
PATTERNS = ("grid", "random", "end-in-fault")
FOREVER_NS = 1 << 62  # an end that never comes inside the main phase


@dataclass(frozen=True)
class FaultSchedule(Generator):
    """One family's turns, as operations at fixed times (not sleeps, so composed
    schedules interleave on the one nemesis thread instead of queueing behind each other).

    Turn n begins at `origin + interval * (1 + 2 * slot) + n * 2 * slots * interval` and
    ends one interval later. `origin` is fixed (default 0, the start of the run's clock),
    not "when first asked": a composed schedule is asked and not chosen many times, and
    every family must keep the same grid. An op whose time has passed goes at once.
    `begun` is the op that began the current fault, so the end op matches it.
    """

    family: str
    topology: Topology
    options: FaultOptions
    interval_s: float
    seed: int
    slot: int = 0
    slots: int = 1
    origin: int = 0
    turn: int = 0
    begun: Any = None
    pattern: str = "grid"
    time_limit_s: float | None = None  # the main phase's length (end-in-fault)
    timing_seed: int = 0

    def _grid(self, origin: int, turn: int) -> int:
        interval = seconds_to_ns(self.interval_s)
        return origin + interval * (1 + 2 * self.slot) + turn * 2 * self.slots * interval

    def _time(self, origin: int, ending: bool) -> int:
        if self.pattern == "grid":
            t = self._grid(origin, self.turn)
            return t + seconds_to_ns(self.interval_s) if ending else t
        begin, end = turn_times(self, origin, self.turn)
        return end if ending else begin

    def op(self, test, ctx):
        if ctx.some_free_thread() is None:
            return PENDING
        origin = self.origin
        rng = random.Random(self.seed)
        family = ALL_FAMILIES[self.family]
        if self.begun is None:
            op = family.begin_op(self.topology, rng, self.options)
            begun, turn = op, self.turn
        else:
            op = family.end_op(self.begun)
            begun, turn = None, self.turn + 1
        op = {**op, "time": max(ctx.time, self._time(origin, self.begun is not None))}
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], FaultSchedule(self.family, self.topology, self.options,
                                     self.interval_s, rng.getrandbits(64), self.slot,
                                     self.slots, origin, turn, begun, self.pattern,
                                     self.time_limit_s, self.timing_seed)


def turn_times(s: FaultSchedule, origin: int, turn: int) -> tuple[int, int]:
    """(begin, end) of `turn` of a `random` or `end-in-fault` schedule (module docstring):
    a pure function of the schedule's timing seed, so begin and end ops agree."""
    interval = seconds_to_ns(s.interval_s)
    last_end = -1
    hold = s.pattern == "end-in-fault" and s.slot == s.slots - 1 and s.time_limit_s
    limit = seconds_to_ns(s.time_limit_s or 0.0)
    for n in range(turn + 1):
        rng = random.Random(f"{s.timing_seed}:{n}")
        begin = s._grid(origin, n) + int(interval * rng.uniform(-0.5, 0.25))
        begin = max(begin, last_end + interval // 4, 0)
        end = begin + int(interval * rng.uniform(0.5, 1.25))
        if hold:
            if begin >= limit - interval // 2:  # too late to matter: begin it just before
                begin = max(last_end + interval // 4, limit - interval // 2)
            if end >= limit - interval // 2 or begin >= limit - interval // 2:
                end = FOREVER_NS               # the main phase ends inside this fault
        last_end = end
        if end == FOREVER_NS:
            return begin, end
    return begin, end


def heal_all() -> list[dict]:
    """The final generator of every package: one `heal`, which ends every fault."""
    return [{"f": HEAL, "value": None}]


def family_seed(seed: int, name: str) -> int:
    """A per-family seed derived from the run's seed (string seeds hash deterministically)."""
    return random.Random(f"gtcheck-nemesis:{name}:{seed}").getrandbits(64)


def family_package(name: str, *, regions: Sequence[str], witness: str | None = None,
                   interval_s: float = DEFAULT_INTERVAL_S, seed: int = 0, slot: int = 0,
                   slots: int = 1, options: FaultOptions | None = None,
                   target: Any = None, mode: str = "async", pattern: str = "grid",
                   time_limit_s: float | None = None) -> NemesisPackage:
    """The package of one fault family, taking turn `slot` of `slots` (module docstring)."""
    if name not in ALL_FAMILIES:
        parse_nemesis_names(name)  # raises BadInput listing the known names
    if interval_s <= 0:
        raise BadInput(f"the nemesis interval must be positive, got {interval_s}")
    if pattern not in PATTERNS:
        raise BadInput(f"unknown nemesis schedule {pattern!r} (known: {', '.join(PATTERNS)})")
    topology = Topology(tuple(regions), witness, journal_leader(mode, regions, witness))
    if name in ("link", "latency") and len(topology.participants) < 2:
        raise BadInput(f"the {name} nemesis needs at least two regions")
    schedule = FaultSchedule(name, topology, options or FaultOptions(), interval_s,
                             family_seed(seed, name), slot, slots, pattern=pattern,
                             time_limit_s=time_limit_s,
                             timing_seed=family_seed(seed, name + ":timing"))
    family = ALL_FAMILIES[name]
    return NemesisPackage(nemesis=FaultNemesis(family.fs, target, via=family.via,
                                               family=name, targets=family.targets),
                          generator=schedule, final_generator=heal_all(), name=name)


def journal_leader(mode: str, regions: Sequence[str], witness: str | None) -> str | None:
    """MRSC: the region the journal's leadership settles on (None for async)."""
    if mode != "strong":
        return None
    from emulator.mrsc import preferred_leader  # late: only MRSC runs need the journal
    participants = list(regions) + ([witness] if witness else [])
    return preferred_leader(participants, sorted(regions))


def package(names: str | Sequence[str] | None, *, regions: Sequence[str],
            witness: str | None = None, interval_s: float = DEFAULT_INTERVAL_S,
            seed: int = 0, options: FaultOptions | None = None,
            target: Any = None) -> NemesisPackage:
    """The composed package for `--nemesis` names (empty / "none": no faults at all)."""
    families = parse_nemesis_names(names)
    if interval_s <= 0:
        raise BadInput(f"the nemesis interval must be positive, got {interval_s}")
    return compose_packages([
        family_package(n, regions=regions, witness=witness, interval_s=interval_s,
                       seed=seed, slot=i, slots=len(families), options=options,
                       target=target)
        for i, n in enumerate(families)])


def turn_interval_s(interval_s: float, families: int, time_limit_s: float | None) -> float:
    """The interval the composed families' turns actually use: `interval_s`, shortened when
    the last of `families` turns would not begin within the main phase (issue 25: four
    packages at 5 s in a 20 s run left two of them idle). Family k-1 begins at
    `(2k - 1)` intervals (module docstring); it must begin with half an interval of the
    main phase still to come (room for `random`'s +1/4 jitter), so every requested
    package acts at least once."""
    if families < 1 or not time_limit_s:
        return interval_s
    room = time_limit_s / (2 * families - 0.5)
    return interval_s if interval_s <= room else room


def turns_note(names: Sequence[str], interval_s: float, time_limit_s: float) -> str | None:
    """The warning a run prints before it starts when `turn_interval_s` shortened the
    turns of `names` (None when it did not)."""
    used = turn_interval_s(interval_s, len(names), time_limit_s)
    if used >= interval_s:
        return None
    acting = sum(1 for i in range(len(names)) if interval_s * (1 + 2 * i) < time_limit_s)
    return (f"--nemesis {','.join(names)}: {len(names)} packages take turns, and at "
            f"--nemesis-interval {interval_s:g} only {acting} of them would act within "
            f"--time-limit {time_limit_s:g}; the turns are shortened to {used:.2f} s so "
            f"that each acts at least once (raise --time-limit to keep {interval_s:g} s)")


def registry_factory(name: str):
    """`factory(test, target) -> NemesisPackage` for suite.registry: family `name` takes
    its turn among the families the test names (`test.nemesis`)."""
    def factory(test: Any, target: Any) -> NemesisPackage:
        names = parse_nemesis_names(list(test.nemesis))
        slot = names.index(name) if name in names else 0
        latency = getattr(test, "nemesis_latency_ms", None)
        options = FaultOptions() if latency is None else FaultOptions(
            latency_ms=float(latency), slow_ms=float(latency))
        interval = turn_interval_s(test.nemesis_interval or DEFAULT_INTERVAL_S,
                                   max(1, len(names)), test.time_limit)
        return family_package(name, regions=test.regions, witness=test.witness,
                              interval_s=interval,
                              seed=test.seed, slot=slot, slots=max(1, len(names)),
                              target=target, mode=test.mode, options=options,
                              pattern=getattr(test, "nemesis_timing", "grid"),
                              time_limit_s=test.time_limit)
    return factory
