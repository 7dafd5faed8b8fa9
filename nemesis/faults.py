"""The fault families gtcheck injects, as data: what each begins, how it ends, whom it hits.

One `FaultFamily` per nemesis name (`isolate`, `link`, `pause-replication`, `outage`,
`latency`, `clock`, `slow`, `pause`, `oneway-latency`, `oneway-link`, `copy-lag`). A family knows which admin-API action begins its fault and which one
ends it (docs/CONVENTIONS.md, "Nemesis ops": `heal` ends everything; `resume-replication`
and `start` end the matching fault), and how to choose the fault's target from the run's
topology with the run's seeded random generator. Choosing is a pure function of
(topology, rng), so one seed gives one fault schedule.

Targets, by family (SEMANTICS.md T1 asks for each of these failure states):
- isolate: one participant (a replica region, or the MRSC witness) cut from every other;
- link: one pair of participants cut both ways (A10 for async, M12 for MRSC);
- pause-replication: replication out of one replica region paused (A13, the FIS action);
- outage: one participant stopped, then started (A08, M10, M15);
- latency: extra one-way delay on one pair of participants (G3, M11);
- clock: one replica region's clock skewed forward or back (A06's last-writer-wins is
  decided by these clocks);
- fis-pause-replication: replication into and out of one replica paused through AWS FIS
  (A13; the aws target, suite/targets/fis.py);
- client-partition / client-latency / client-timeout: the clients drop every request to
  one region, delay them, or give up on them (suite/targets/client_faults.py); these
  need no fault API and work against every target.
- slow: extra one-way delay on every link of one region (`--nemesis-latency-ms`); in MRSC
  the journal leader's region (the steady-state leader, `emulator.mrsc.preferred_leader`),
  which makes every write and SC read slow and exercises re-proposals and timeouts;
- pause: one region frozen as SIGSTOP would freeze its processes (endpoint, replicators,
  MRSC journal participant), then resumed; in MRSC the journal leader half the time.
- oneway-latency: extra delay on one direction of one pair (`--nemesis-latency-ms`, as
  slow's): asymmetric paths, where a request's way out and its answer's way back differ
  (issue 21); in MRSC the journal leader's outbound link half the time;
- oneway-link: one direction of one pair cut (A10 / M12 on one path only).
- copy-lag: the lagging in-region copy of every replica region falls further behind its
  leader (a slow storage node or AZ, G2; `copy_lag_ms`, not scaled; the emulator's
  `lag-copy R MS` does it in one region): EC reads stay stale longer
  and, being served by that one copy, must still never go back (A05, M07); SC reads
  are the leader's and unchanged (issue 21: EC reads had no window at a small latency
  scale, where the copy trails by a fraction of a millisecond). Its end (`unlag-copy`)
  starts no quiet round (suite/quiet.py): replication between regions was never touched.

Each family names the targets it runs against (`targets`); `check_targets` refuses the
others up front, naming the families that do run there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from gtcheck.errors import BadInput

HEAL = "heal"
ANY_TARGET = ("emulator", "endpoints", "aws")


@dataclass(frozen=True)
class Topology:
    """The regions a fault can hit: data replicas and (MRSC) an optional witness."""

    regions: tuple[str, ...]
    witness: str | None = None
    leader: str | None = None  # MRSC: the journal's steady-state leader region

    @property
    def participants(self) -> tuple[str, ...]:
        return self.regions + ((self.witness,) if self.witness else ())


@dataclass(frozen=True)
class FaultOptions:
    """Magnitudes of the faults; defaults suit short runs at a small latency scale."""

    latency_ms: float = 50.0        # extra one-way delay of the latency family
    clock_skew_ms: float = 500.0    # magnitude of the clock family's skew (sign random)
    client_timeout_ms: float = 100.0  # how long a client-timeout fault waits, then gives up
    slow_ms: float = 300.0          # extra one-way delay on each link of the slow region
    copy_lag_ms: float = 300.0      # how much further the lagging in-region copy trails


Choose = Callable[[Topology, random.Random, FaultOptions], dict]


def _one_participant(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {"region": rng.choice(t.participants)}


def _one_replica(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {"region": rng.choice(t.regions)}


def _one_pair(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    if len(t.participants) < 2:
        raise BadInput("a link fault needs at least two regions")
    a, b = rng.sample(list(t.participants), 2)
    return {"a": a, "b": b}


def _delayed_pair(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {**_one_pair(t, rng, o), "ms": o.latency_ms}


def _delayed_replica(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {"region": rng.choice(t.regions), "ms": o.latency_ms}


def _timed_out_replica(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {"region": rng.choice(t.regions), "ms": o.client_timeout_ms}


def _skewed_replica(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    sign = rng.choice((-1, 1))
    return {"region": rng.choice(t.regions), "ms": sign * o.clock_skew_ms}


def _slow_region(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    region = t.leader if t.leader is not None else rng.choice(t.participants)
    return {"region": region, "ms": o.slow_ms}


def _lagging_replicas(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {"ms": o.copy_lag_ms}   # every replica region: three regions' EC reads at once


def _oneway_pair(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    if t.leader is not None and rng.random() < 0.5:
        return {"a": t.leader, "b": rng.choice([p for p in t.participants if p != t.leader])}
    return _one_pair(t, rng, o)


def _oneway_delayed_pair(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    return {**_oneway_pair(t, rng, o), "ms": o.slow_ms}


def _paused_region(t: Topology, rng: random.Random, o: FaultOptions) -> dict:
    if t.leader is not None and rng.random() < 0.5:
        return {"region": t.leader}
    return {"region": rng.choice(t.participants)}


@dataclass(frozen=True)
class FaultFamily:
    """One nemesis name: its begin action, its end action, and how it picks a target."""

    name: str
    begin: str
    end: str
    choose: Choose
    description: str
    # The targets it runs against, and how: "fault" through the target's fault API,
    # "client" through its clients' hooks (`client_fault`).
    targets: tuple[str, ...] = ("emulator", "endpoints")
    via: str = "fault"
    # Whether the fault's end starts a quiet round (suite/quiet.py) in async runs: not for
    # a fault inside one region that leaves replication between regions alone, where
    # the held clients would only idle.
    quiet_round: bool = True

    def begin_op(self, topology: Topology, rng: random.Random, options: FaultOptions) -> dict:
        return {"f": self.begin, "value": self.choose(topology, rng, options)}

    def end_op(self, begun: Mapping[str, Any]) -> dict:
        """The operation that ends the fault `begun` (an op dict made by begin_op)."""
        if self.end == HEAL:
            return {"f": HEAL, "value": None}
        value = begun.get("value") or {}
        return {"f": self.end, "value": {"region": value["region"]} if "region" in value else None}

    @property
    def fs(self) -> frozenset[str]:
        return frozenset((self.begin, self.end, HEAL))


FAMILIES: Mapping[str, FaultFamily] = {
    f.name: f for f in (
        FaultFamily("isolate", "isolate", HEAL, _one_participant,
                    "cut one region (or the witness) off from every other region"),
        FaultFamily("link", "cut", HEAL, _one_pair,
                    "cut the link between two regions, both ways"),
        FaultFamily("pause-replication", "pause-replication", "resume-replication",
                    _one_replica, "pause replication out of one region"),
        FaultFamily("outage", "stop", "start", _one_participant,
                    "stop one region (its endpoint refuses), then start it"),
        FaultFamily("latency", "delay", HEAL, _delayed_pair,
                    "add one-way delay to the link between two regions"),
        FaultFamily("clock", "skew-clock", HEAL, _skewed_replica,
                    "skew one region's clock forward or back"),
        FaultFamily("slow", "slow", HEAL, _slow_region,
                    "add delay to every link of one region (MRSC: the journal leader)"),
        FaultFamily("pause", "pause", "resume", _paused_region,
                    "freeze one region's processes (like SIGSTOP), then resume them"),
        FaultFamily("oneway-latency", "delay-oneway", HEAL, _oneway_delayed_pair,
                    "add delay to one direction of the link between two regions"),
        FaultFamily("oneway-link", "cut-oneway", HEAL, _oneway_pair,
                    "cut one direction of the link between two regions"),
        FaultFamily("copy-lag", "lag-copy", "unlag-copy", _lagging_replicas,
                    "make each region's lagging in-region copy trail its leader further",
                    quiet_round=False),
    )
}

# Families that do not go through the emulator's fault API: FIS on AWS, and the clients'
# own faults. ALL_FAMILIES is every name `--nemesis` accepts.
OTHER_FAMILIES: Mapping[str, FaultFamily] = {
    f.name: f for f in (
        FaultFamily("fis-pause-replication", "fis-pause-replication",
                    "fis-resume-replication", _one_replica,
                    "pause replication of one replica with an AWS FIS experiment",
                    targets=("aws",)),
        FaultFamily("client-partition", "client-partition", HEAL, _one_replica,
                    "the clients drop every request to one region", targets=ANY_TARGET,
                    via="client"),
        FaultFamily("client-latency", "client-latency", HEAL, _delayed_replica,
                    "the clients delay every request to one region", targets=ANY_TARGET,
                    via="client"),
        FaultFamily("client-timeout", "client-timeout", HEAL, _timed_out_replica,
                    "the clients give up on every request to one region (sent, unanswered)",
                    targets=ANY_TARGET, via="client"),
    )
}


ALL_FAMILIES: Mapping[str, FaultFamily] = {**FAMILIES, **OTHER_FAMILIES}


def check_targets(names: Sequence[str], target: str) -> None:
    """BadInput when a named family does not run against `target` (a target kind such as
    "aws"), naming the families that do."""
    kind = target.split(":", 1)[0]
    wrong = [n for n in names if n in ALL_FAMILIES and kind not in ALL_FAMILIES[n].targets]
    if wrong:
        fits = [n for n, f in ALL_FAMILIES.items() if kind in f.targets]
        raise BadInput(f"nemesis {', '.join(wrong)} cannot run against target {kind} "
                       f"(it needs the emulator's fault API); against {kind} use: "
                       f"{', '.join(fits)}")


def parse_nemesis_names(spec: str | Sequence[str] | None) -> list[str]:
    """`"isolate,link"` -> ["isolate", "link"]; "none" or empty -> []; unknown -> BadInput."""
    if spec is None:
        return []
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [n for n in names if n and n != "none"]
    if "all" in names:  # every family of the emulator's fault API
        names = list(FAMILIES)
    unknown = [n for n in names if n not in ALL_FAMILIES]
    if unknown:
        raise BadInput(f"unknown nemesis {', '.join(unknown)} (known: "
                       f"{', '.join(ALL_FAMILIES)}, none, all)")
    out: list[str] = []
    for n in names:
        if n not in out:
            out.append(n)
    return out
