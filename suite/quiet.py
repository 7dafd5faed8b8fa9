"""Quiet reads: after each heal, hold the clients, let replication settle, read everything.

Issue 12: a replication bug that loses a backlog when a broken path heals was caught only
when the run happened to end inside a fault, because a loss in the middle of a run is
repaired by the next write to the key within a second and the final reads never see it.
Jepsen's answer is to look while nothing is being written. `QuietReads` wraps the main
phase (clients and nemesis, a pure generator like those of suite/generator.py): when a
nemesis operation that ends a fault (`heal`, `resume`, `stop-*`, any f in `triggers`)
completes, it lets the client operations in flight finish, issues no new client operation
for `settle_s` seconds (unless a fault begins meanwhile: a round with a fault in force is
never judged, so the hold is dropped and the clients go on until the next heal; issue 21
found the quick battery's async runs holding their clients for such rounds most of each
run), then has the client threads run one *quiet round* -- the
workload's own final reads (every key SC-read in every region: register, counter and set
share the keys out among each region's threads, workloads.generators.RegionShares;
thread t is in region t mod len(regions)) with `final` replaced by
`quiet: True` and `quiet_round: n` -- and then lets the workload go on. The nemesis is
never held: its schedule keeps its grid. The checkers judge each round as they judge the
final reads (checkers/async_props.py `final_rounds`): no client write runs during a round,
so every region must agree on each key once replication has settled (A06 convergence).

The settle time (`settle_s`) is scaled to the target's replication lag: on the emulator,
ten times its slowest replication path at the run's latency scale (the largest one-way
WAN latency between the run's regions plus the replicator's overhead and jitter,
emulator/wan.py and emulator/replication.py), and at least 0.25 s; at latency scale 1 on
the three default US regions that is (33 + 8 + 10) ms x 10 = 0.51 s. Elsewhere (AWS,
served endpoints) it is 2 s: the talk's "typically under a second" (A04), doubled. A run
whose nemeses delay links (`latency`, `slow`, `oneway-latency`) adds the largest delay
they inject: a message sent just before the heal still carries it (a heal does not speed
up what is in flight), so without it a quiet round could read before that write arrived
and call the regions diverged (issue 21: a false alarm in demo-multi-writer x
oneway-latency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from results.history import FAULT_ACTIONS
from suite.generator import (NEMESIS, PENDING, Generator, _soonest, as_gen, gen_op,
                             gen_update, is_client_thread, is_nemesis_thread, map_ops,
                             seconds_to_ns)

QUIET = "quiet"
ROUND = "quiet_round"
MIN_SETTLE_S = 0.25
LAG_FACTOR = 10.0
OTHER_TARGET_SETTLE_S = 2.0


def in_flight_delay_s(test: Any) -> float:
    """The largest extra one-way delay the run's nemeses put on a link (module doc)."""
    from nemesis.faults import FaultOptions
    names = set(getattr(test, "nemesis", ()) or ())
    given = getattr(test, "nemesis_latency_ms", None)
    o = FaultOptions()
    ms = 0.0
    if "latency" in names:
        ms = max(ms, o.latency_ms if given is None else float(given))
    if names & {"slow", "oneway-latency"}:
        ms = max(ms, o.slow_ms if given is None else float(given))
    return ms / 1000.0


def settle_s(test: Any) -> float:
    """How long the clients are held after a heal before a quiet round (module docstring)."""
    if getattr(test, "target", "emulator") != "emulator":
        return OTHER_TARGET_SETTLE_S + in_flight_delay_s(test)
    from emulator.replication import REPLICATION_JITTER_MS, REPLICATOR_OVERHEAD_MS
    from emulator.wan import default_one_way_ms
    regions = list(getattr(test, "regions", ()) or ())
    one_way = max((default_one_way_ms(a, b) for a in regions for b in regions if a != b),
                  default=0.0)
    lag_ms = (one_way + REPLICATOR_OVERHEAD_MS + REPLICATION_JITTER_MS) * \
        float(getattr(test, "latency_scale", 1.0))
    return max(MIN_SETTLE_S, LAG_FACTOR * lag_ms / 1000.0) + in_flight_delay_s(test)


def enabled(test: Any) -> bool:
    """The default: quiet rounds in async mode when a nemesis runs (where they add a
    convergence check per heal); MRSC's SC reads are already judged as linearizable and
    the held clients would only cost throughput. `Test.quiet_reads` True/False overrides."""
    chosen = getattr(test, "quiet_reads", None)
    if chosen is not None:
        return bool(chosen)
    return getattr(test, "mode", None) == "async" and bool(
        getattr(test, "nemesis", ()) or getattr(test, "nemesis_schedule", ()))


def quiet_round_ops(final_generator: Any, n: int) -> Any:
    """The workload's final reads, marked as quiet round `n` instead of final (a final
    generator with a `quiet_round` runs that instead: workloads/streams.py's writes final
    marks, which a quiet round must not)."""
    final_generator = getattr(final_generator, "quiet_round", final_generator)

    def mark(op: dict) -> dict:
        out = {k: v for k, v in op.items() if k != "final"}
        return {**out, QUIET: True, ROUND: n}
    return map_ops(mark, final_generator)


def _field(event: Any, name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def _is_heal(event: Any, triggers: frozenset) -> bool:
    return (_field(event, "process") == NEMESIS and _field(event, "type") in ("ok", "info")
            and _field(event, "f") in triggers)


def _begins_fault(event: Any) -> bool:
    return _field(event, "process") == NEMESIS and _field(event, "f") in FAULT_ACTIONS


@dataclass(frozen=True)
class QuietReads(Generator):
    """The main phase `gen`, with a quiet round of `reads` after each heal (see above).

    `state`: "run" (gen runs), "drain" (a heal completed: clients finish what is in
    flight, then wait until `hold_until`), "read" (the round's reads run). A heal that
    completes during a drain restarts the settle time; one during a read round starts
    another round after it (`again`)."""

    gen: Any
    reads: Any
    settle_ns: int
    triggers: frozenset
    state: str = "run"
    round: int = 0
    hold_until: int = 0
    current: Any = None
    again: bool = False
    end_ns: int | None = None  # the main phase's end: no round that would begin after it

    def _with(self, **kw) -> "QuietReads":
        d = dict(gen=self.gen, reads=self.reads, settle_ns=self.settle_ns,
                 triggers=self.triggers, state=self.state, round=self.round,
                 hold_until=self.hold_until, current=self.current, again=self.again,
                 end_ns=self.end_ns)
        d.update(kw)
        return QuietReads(**d)

    def op(self, test, ctx):
        if self.state == "run":
            res = gen_op(self.gen, test, ctx)
            if res is None or res is PENDING:
                return res
            op, nxt = res
            return op, self._with(gen=nxt)
        nem = gen_op(self.gen, test, ctx.restrict(is_nemesis_thread))
        clients = ctx.restrict(is_client_thread)
        if self.state == "drain":
            cli = PENDING
            if clients.all_free():
                cli = gen_op(self.current, test, clients)
                if cli is not None and cli is not PENDING:
                    op, nxt = cli
                    cli = ({**op, "time": max(op["time"], self.hold_until)}, nxt)
        else:
            cli = gen_op(self.current, test, clients)
            if cli is None:
                if not clients.all_free():
                    cli = PENDING  # the round's last reads are still in flight
                else:  # the round is over: go on, or begin the next one
                    nxt = (self._with(state="drain", round=self.round + 1,
                                      current=quiet_round_ops(self.reads, self.round + 1),
                                      hold_until=max(ctx.time, self.hold_until), again=False)
                           if self.again else self._with(state="run", current=None))
                    return nxt.op(test, ctx)
        res = _soonest([(nem, "nemesis"), (cli, "clients")])
        if res is None:
            return None if self.state == "read" or self.gen is None else PENDING
        if res is PENDING:
            return PENDING
        (op, nxt), who = res
        if who == "nemesis":
            return op, self._with(gen=nxt)
        return op, self._with(current=nxt, state="read")

    def update(self, test, ctx, event):
        t = _field(event, "process")
        if t == NEMESIS:
            g = self._with(gen=gen_update(self.gen, test, ctx, event))
            if _begins_fault(event):
                # A round with a fault in force is never judged (checkers/async_props.py
                # `_quiet_window_clear`): drop the hold and let the clients work; the
                # heal that ends this fault starts the round again. A round already
                # reading finishes, but starts no other after it.
                if g.state == "drain":
                    return g._with(state="run", current=None, again=False)
                return g._with(again=False) if g.state == "read" else g
            if not _is_heal(event, self.triggers):
                return g
            hold = _field(event, "time") + self.settle_ns
            # A paced main phase (suite/pace.py) ends at a schedule time, not a wall time.
            schedule = getattr(g.gen, "schedule_time", None)
            due = hold if schedule is None else schedule(_field(event, "time")) + self.settle_ns
            if self.end_ns is not None and due >= self.end_ns and g.state != "read":
                # too late: the round could not begin before the main phase ends (the
                # final reads come next), so holding the clients would only cost operations
                return g._with(state="run", current=None) if g.state == "drain" else g
            if g.state == "run":
                return g._with(state="drain", round=g.round + 1, hold_until=hold,
                               current=quiet_round_ops(g.reads, g.round + 1))
            if g.state == "drain":
                return g._with(hold_until=hold)
            return g._with(again=True, hold_until=hold)
        if self.state == "read":
            return self._with(current=gen_update(self.current, test, ctx, event))
        return self._with(gen=gen_update(self.gen, test, ctx, event))


def quiet_reads(main: Any, reads: Any, *, settle_s: float, triggers: Sequence[str],
                time_limit_s: float | None = None) -> QuietReads:
    """Wrap the main phase `main`: after each completed nemesis op whose f is in
    `triggers`, hold clients `settle_s`, then run `reads` once as a quiet round (none
    after a heal too late for the round to begin within `time_limit_s`)."""
    return QuietReads(as_gen(main), as_gen(reads), seconds_to_ns(settle_s),
                      frozenset(triggers),
                      end_ns=None if time_limit_s is None else seconds_to_ns(time_limit_s))


def heal_fs() -> frozenset[str]:
    """Every nemesis f that ends a fault (each family's end op, and `heal`), but the end
    of a fault that leaves replication between regions alone (`quiet_round` False: the
    copy-lag family's `unlag-copy`), after which a quiet round would only idle."""
    from nemesis.faults import ALL_FAMILIES, HEAL
    return frozenset({HEAL} | {f.end for f in ALL_FAMILIES.values() if f.quiet_round})
