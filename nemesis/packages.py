"""Nemesis packages: a nemesis, its fault schedule, and the final heal, for `--nemesis`.

A package (ARCHITECTURE.md, "Roles") bundles what a run needs to inject one or more fault
families: the `FaultNemesis` that performs fault operations through the target's fault API,
the `generator` of the main phase's fault schedule (run on the nemesis thread), and the
`final_generator` that heals everything before the final reads. `package(["isolate",
"link"], ...)` composes families into one package: every cycle of the schedule waits
`interval_s`, begins one fault of a family chosen with the run's seed, waits `interval_s`,
and ends it (the family's own end action -- `resume-replication`, `start` -- or `heal`).
One fault at a time keeps each fault period's promise clear (MRSC: the isolated region
stops, the others keep serving), and `heal` ending everything never ends another family's
fault by surprise. The same seed gives the same fault schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from nemesis.core import FaultNemesis
from nemesis.faults import (FAMILIES, HEAL, FaultOptions, Topology,
                            parse_nemesis_names)
from suite.errors import BadInput
from suite.generator import PENDING, Generator, gen_op

DEFAULT_INTERVAL_S = 1.0


@dataclass(frozen=True)
class NemesisPackage:
    names: tuple[str, ...]
    nemesis: Any
    generator: Any
    final_generator: Any
    interval_s: float

    @property
    def fs(self) -> frozenset[str]:
        return self.nemesis.fs() if self.nemesis is not None else frozenset()


@dataclass(frozen=True)
class FaultSchedule(Generator):
    """wait, begin a fault (family and target chosen by the seed), wait, end it; forever.

    `step` walks 0 wait -> 1 begin -> 2 wait -> 3 end; `begun` is the op that began the
    current fault, so the end op matches it.
    """

    families: tuple[str, ...]
    topology: Topology
    options: FaultOptions
    interval_s: float
    seed: int
    step: int = 0
    begun: Any = None

    def op(self, test, ctx):
        if ctx.some_free_thread() is None:
            return PENDING
        rng = random.Random(self.seed)
        if self.step in (0, 2):
            op, begun = {"type": "sleep", "value": self.interval_s}, self.begun
        elif self.step == 1:
            family = FAMILIES[rng.choice(self.families)]
            op = family.begin_op(self.topology, rng, self.options)
            begun = (family.name, op)
        else:
            name, begin = self.begun
            op, begun = FAMILIES[name].end_op(begin), None
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], FaultSchedule(self.families, self.topology, self.options,
                                     self.interval_s, rng.getrandbits(64),
                                     (self.step + 1) % 4, begun)


def heal_all() -> list[dict]:
    """The final generator of every package: one `heal`, which ends every fault."""
    return [{"f": HEAL, "value": None}]


def package(names: str | Sequence[str] | None, *, regions: Sequence[str],
            witness: str | None = None, interval_s: float = DEFAULT_INTERVAL_S,
            seed: int = 0, options: FaultOptions | None = None) -> NemesisPackage:
    """The composed package for `--nemesis` names (empty / "none": no faults at all)."""
    families = tuple(parse_nemesis_names(names))
    if interval_s <= 0:
        raise BadInput(f"the nemesis interval must be positive, got {interval_s}")
    if not families:
        return NemesisPackage((), None, None, None, interval_s)
    topology = Topology(tuple(regions), witness)
    if any(n in ("link", "latency") for n in families) and len(topology.participants) < 2:
        raise BadInput("link and latency faults need at least two regions")
    fs: set[str] = set()
    for n in families:
        fs |= FAMILIES[n].fs
    schedule = FaultSchedule(families, topology, options or FaultOptions(), interval_s,
                             seed)
    return NemesisPackage(families, FaultNemesis(fs), schedule, heal_all(), interval_s)
