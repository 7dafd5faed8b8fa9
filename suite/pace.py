"""Operation-paced runs: a run's schedule that advances with its clients' work.

Issue 21: the quick battery counted its fault rounds and its main phase in seconds, so a
machine that made a tenth of the asked rate gave each bug a tenth of its chances
(`relay` caught 3/3 at load 13-15 and 0/3 at load 32-43, where its `register` x `link`
runs made 3-35 client operations a second of the 300 asked; docs/detection.md). With
`Test.pace` set (`--pace OPS`), the run's *schedule time* is counted in completed client
operations, OPS of them to a second, instead of read off the wall clock. At each client
completion (wall time `wall`, `done` completions so far) it becomes

    schedule = min(schedule_before + (wall - wall_before),
                   max(done / pace, wall / STRETCH_MAX))

and between completions it runs on at wall speed up to the second bound. `done` counts
the main phase's client operations completed (ok, fail or info). The fault schedule
(every nemesis package's generator, which is written in seconds) is asked at schedule
time, so a fault round of `--nemesis-interval` seconds lasts until the clients have made
`interval * pace` operations in it, and the main phase ends when schedule time reaches
`--time-limit`: the run's operation budget is `time_limit * pace`. Two bounds keep the
common case and a stalled target sane:

- never faster than the wall clock (the first term): a round lasts at least its seconds,
  so on a machine that makes the pace or more every time is exactly the one
  `--nemesis-interval` / `--time-limit` give (choosing `pace` below the rate a healthy
  machine achieves changes nothing there: the quick battery asks 300 a second and paces
  at 200), and a machine that fell behind and makes its overdue operations in a burst
  does not cross a round faster than its seconds either;
- never slower than `STRETCH_MAX` times the wall clock (`wall / STRETCH_MAX`): a run whose
  clients make almost nothing (a stalled emulator, a region stopped with every thread
  waiting on it) still ends, at `STRETCH_MAX * time_limit` wall seconds at most.

When the workload has no operation left to give (a finite workload, e.g. the demos,
finished before the time limit), schedule time runs at wall speed from where the last
completion left it: nothing is left to wait for.

The client operations the quiet rounds read (suite/quiet.py) are not counted: the quiet
generator wraps this one and keeps its own reads from it, so schedule time waits during
a hold and a round, and a fault round after a quiet round still gets its operations.

`Paced` is a pure generator (suite/generator.py): it replaces `clients_and_nemesis`
for a paced run, counts completions from the events it is given, and hands each fault
operation to the runner at the wall time at which schedule time reaches the operation's
time if no other client operation completes first (the runner asks again at every
completion, and at least every `suite.runner.POLL_S`). Without `Test.pace` nothing here
is used, and a run's times are seconds, as `gtcheck run` documents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from suite.errors import BadInput
from suite.generator import (NEMESIS, PENDING, Generator, _soonest, as_gen, event_thread,
                             gen_op, gen_update, is_client_thread, is_nemesis_thread,
                             seconds_to_ns)

# A paced run's schedule never runs slower than this fraction of the wall clock (module
# docstring): the quick battery's 1 s main phase lasts 6 s at most however slow the
# machine (at load 40 its runs made 10-30 operations a second: 60-180 of a budget of 200).
STRETCH_MAX = 6.0
COMPLETIONS = ("ok", "fail", "info")


def _field(event: Any, name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


@dataclass(frozen=True)
class PaceClock:
    """Schedule time as a pure function of the wall time and the completions counted so
    far (module docstring). Times are nanoseconds since the run started.

    `last_wall` / `last_schedule`: the wall and schedule times at the last completion
    counted. From there schedule time runs at wall speed at most, so a round never
    lasts less wall time than its length in seconds, even when a machine that fell
    behind makes its operations in a burst (issue 21: a paced outage round of 0.15 s,
    crossed in 46 ms by a burst of overdue operations, left its restarted region 0.28 s
    before the final reads instead of the unpaced run's 0.35 s and more)."""

    ops_per_s: float
    stretch_max: float = STRETCH_MAX
    done: int = 0
    last_wall: int = 0
    last_schedule: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.ops_per_s, (int, float)) and self.ops_per_s > 0
                and math.isfinite(self.ops_per_s)):
            raise BadInput(f"--pace must be a positive number, got {self.ops_per_s!r}")
        if not self.stretch_max >= 1:
            raise BadInput(f"the pace's stretch must be >= 1, got {self.stretch_max!r}")

    def _counted_ns(self) -> int:
        return int(self.done * 1e9 / self.ops_per_s)

    def _wall_speed(self, wall: int) -> int:
        """Where schedule time would be at `wall` running at wall speed since the last
        completion: the most it can be."""
        return self.last_schedule + max(0, wall - self.last_wall)

    def at(self, wall: int, *, idle: bool = False) -> int:
        """Schedule time at wall time `wall`; `idle`: the clients have nothing left to do
        (then it runs at wall speed: nothing is left to wait for)."""
        most = self._wall_speed(wall)
        if idle:
            return most
        return min(most, max(self._counted_ns(), int(wall / self.stretch_max)))

    def counted(self, wall: int) -> "PaceClock":
        """The clock after one more client completion at wall time `wall`."""
        after = replace(self, done=self.done + 1)
        return replace(after, last_wall=max(wall, self.last_wall),
                       last_schedule=after.at(max(wall, self.last_wall)))

    def wall_when(self, schedule: int, now: int, *, idle: bool = False) -> int:
        """The earliest wall time, not before `now`, at which schedule time reaches
        `schedule` if no other completion is counted first."""
        if self.at(now, idle=idle) >= schedule:
            return now
        w = max(now, self.last_wall + schedule - self.last_schedule)
        if not idle and self._counted_ns() < schedule:  # only the stretch's floor gets there
            w = max(w, math.ceil(schedule * self.stretch_max))
        while self.at(w, idle=idle) < schedule:  # float rounding in `at`: a few ns at most
            w += 1
        return w


@dataclass(frozen=True)
class Paced(Generator):
    """The main phase of a paced run: `clients` on the client threads and `nemesis` (a
    fault schedule written in seconds, or None) on the nemesis thread, both under the
    schedule time of `clock` (module docstring); exhausted when schedule time reaches
    `end_ns` (the time limit; None: never) or when both are."""

    clients: Any
    nemesis: Any
    clock: PaceClock
    end_ns: int | None = None

    @staticmethod
    def _idle(ctx: Any, client_res: Any) -> bool:
        # A context without client threads (the quiet rounds ask for the nemesis alone)
        # says nothing about the clients: they are idle only when they have no operation
        # to give at all.
        return client_res is None and bool(ctx.restrict(is_client_thread).all_threads)

    def op(self, test, ctx):
        cres = gen_op(self.clients, test, ctx.restrict(is_client_thread))
        idle = self._idle(ctx, cres)
        now = self.clock.at(ctx.time, idle=idle)
        if self.end_ns is not None and now >= self.end_ns:
            return None
        nres = None
        if self.nemesis is not None:
            nres = gen_op(self.nemesis, test,
                          ctx.restrict(is_nemesis_thread).with_time(now))
            if nres is not None and nres is not PENDING:
                op, nxt = nres
                at = self.clock.wall_when(int(op["time"]), ctx.time, idle=idle)
                nres = ({**op, "time": at}, nxt)
        res = _soonest([(cres, "clients"), (nres, "nemesis")])
        if res is None or res is PENDING:
            return res
        (op, nxt), who = res
        if who == "clients":
            return op, replace(self, clients=nxt)
        return op, replace(self, nemesis=nxt)

    def update(self, test, ctx, event):
        clock = self.clock
        if _field(event, "process") != NEMESIS and _field(event, "type") in COMPLETIONS:
            clock = clock.counted(int(_field(event, "time") or ctx.time))
        t = event_thread(ctx, event)
        clients, nemesis = self.clients, self.nemesis
        if t is not None and is_client_thread(t):
            clients = gen_update(clients, test, ctx.restrict(is_client_thread), event)
        elif t is not None and is_nemesis_thread(t) and nemesis is not None:
            nctx = ctx.restrict(is_nemesis_thread).with_time(clock.at(ctx.time))
            nemesis = gen_update(nemesis, test, nctx, event)
        return Paced(clients, nemesis, clock, self.end_ns)

    def schedule_time(self, wall: int) -> int:
        """Schedule time at wall time `wall`, the clients busy (suite/quiet.py asks, to
        tell whether a quiet round could still begin before the main phase ends)."""
        return self.clock.at(wall)


def paced(client_gen: Any, nemesis_gen: Any, *, ops_per_s: float,
          time_limit_s: float | None, stretch_max: float = STRETCH_MAX) -> Paced:
    """A paced run's main phase (module docstring); `nemesis_gen` may be None."""
    return Paced(as_gen(client_gen), as_gen(nemesis_gen),
                 PaceClock(float(ops_per_s), stretch_max),
                 None if time_limit_s is None else seconds_to_ns(time_limit_s))


def wall_cap_s(test: Any) -> float:
    """The wall seconds a run's main phase may last: its time limit, times STRETCH_MAX
    when it is paced (the runner's deadline; the paced generator ends it sooner)."""
    limit = float(test.time_limit)
    return limit * STRETCH_MAX if getattr(test, "pace", None) else limit


__all__ = ["PaceClock", "Paced", "paced", "wall_cap_s", "STRETCH_MAX"]
