"""Clock error bounds: how operation times from several hosts become one sound history.

A worker times each operation with its own clock; the control node's clock is the
history's. The control node measures each worker's offset over the SSH channel the way
NTP does: it notes its clock (t1), asks the worker for its clock (w), and notes its clock
again when the answer arrives (t2). The worker read its clock at some control time in
[t1, t2], so offset = control - worker lies in [t1 - w, t2 - w]: the estimate is the
midpoint and its error at most half the round trip. Of several samples the one with the
shortest round trip is kept.

A host's times are all mapped with one offset, its first estimate o0 (so one host's
operations keep their order). Clocks drift apart afterwards, at most `DRIFT_PPM`, so the
control node measures again every second or so during the run (`ClockTrack`): at a time t
the error of o0 is at most, for any measurement k (offset o_k, round trip r_k, taken at
t_k), |o_k - o0| + r_k / 2 + DRIFT_PPM * |t - t_k|; the bound is the least of these. Two
measurements that disagree by more than drift allows are reported (the verdict could then
be unsound, and the run says so).

A remote operation's interval [s, e] (worker clock) becomes [s + o0 - bound,
e + o0 + bound] on the control clock: it contains the true interval, and a wider interval
only admits more orders (Herlihy & Wing: a history is linearizable if some order
respecting real time exists; widening removes real-time constraints, never adds one), so
a valid history cannot be judged invalid by clock error. Without the bound, a worker
whose clock is off can make a valid history look invalid: `remap(ops, trust_clocks=True)`
rebuilds the history as if every host's clock were the control node's, which is what the
clock-bound test shows.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable, Sequence

from results.history import INVOKE, NEMESIS, Op

DRIFT_PPM = 100           # worst-case rate difference of two unsynchronised quartz clocks
RESOLUTION_NS = 1_000     # clock reading granularity we allow for on either side


@dataclass(frozen=True)
class ClockSample:
    """One exchange: control clock before (t1) and after (t2), worker clock (w) between."""

    t1: int
    w: int
    t2: int

    @property
    def rtt(self) -> int:
        return self.t2 - self.t1


@dataclass(frozen=True)
class ClockEstimate:
    """At control time `at_ns`: control_clock = worker_clock + offset_ns, |error| <=
    bound_ns (half the round trip, plus the clocks' resolution)."""

    offset_ns: int
    bound_ns: int
    rtt_ns: int
    samples: int
    at_ns: int = 0

    def to_json(self) -> dict:
        return {"offset_ns": self.offset_ns, "bound_ns": self.bound_ns,
                "rtt_ns": self.rtt_ns, "samples": self.samples, "at_ns": self.at_ns}


def estimate(samples: Sequence[ClockSample]) -> ClockEstimate:
    """The offset from the sample with the shortest round trip, bounded by half of it."""
    good = [s for s in samples if s.t2 >= s.t1]
    if not good:
        raise ValueError("no usable clock sample")
    best = min(good, key=lambda s: s.rtt)
    mid = (best.t1 + best.t2) // 2
    return ClockEstimate(mid - best.w, (best.rtt + 1) // 2 + 2 * RESOLUTION_NS, best.rtt,
                         len(good), mid)


def drifted(before: ClockEstimate, after: ClockEstimate,
            drift_ppm: float = DRIFT_PPM) -> bool:
    """Whether two estimates disagree by more than their errors and drift allow."""
    allowed = before.bound_ns + after.bound_ns + drift_ppm * abs(after.at_ns - before.at_ns) / 1e6
    return abs(after.offset_ns - before.offset_ns) > allowed


def clock_moved(before: ClockEstimate, after: ClockEstimate,
                drift_ppm: float = DRIFT_PPM) -> tuple[int, int]:
    """(moved_ns, error_ns): how far a host's clock moved forward between two estimates
    (e.g. across a restart of its worker under faketime: the clock fault's measured
    skew), and the bound on that figure's error (both estimates' bounds plus the drift
    the time between them allows)."""
    error = before.bound_ns + after.bound_ns + drift_ppm * abs(after.at_ns - before.at_ns) / 1e6
    return before.offset_ns - after.offset_ns, int(error) + 1


@dataclass(frozen=True)
class ClockTrack:
    """A host's clock over a run: the offset every time is mapped with (the first
    estimate's) and every estimate since, which bound that offset's error at any time."""

    offset_ns: int
    estimates: tuple[ClockEstimate, ...]
    extra_ns: int = 0  # added to every bound (e.g. the uncertainty of the run's start)
    drift_ppm: float = DRIFT_PPM

    @classmethod
    def start(cls, first: ClockEstimate, *, extra_ns: int = 0) -> "ClockTrack":
        return cls(first.offset_ns, (first,), extra_ns)

    def with_estimate(self, e: ClockEstimate) -> "ClockTrack":
        return ClockTrack(self.offset_ns, self.estimates + (e,), self.extra_ns,
                          self.drift_ppm)

    def with_extra(self, extra_ns: int) -> "ClockTrack":
        return ClockTrack(self.offset_ns, self.estimates, extra_ns, self.drift_ppm)

    def bound_ns(self, t1: int, t2: int | None = None) -> int:
        """The error bound of `offset_ns` over control times [t1, t2]."""
        t2 = t1 if t2 is None else t2
        best = min(abs(e.offset_ns - self.offset_ns) + e.bound_ns
                   + self.drift_ppm * max(abs(t1 - e.at_ns), abs(t2 - e.at_ns)) / 1e6
                   for e in self.estimates[-8:])  # recent ones are the tight ones
        return int(best) + 1 + self.extra_ns

    def latest(self) -> ClockEstimate:
        return self.estimates[-1]


def mapped_interval(s: int, e: int, offset_ns: int, bound_ns: int, epoch_ns: int
                    ) -> tuple[int, int]:
    """A worker interval [s, e] on the control clock since `epoch_ns` (the run's start),
    widened by the bound: it contains the true interval. Never before the run started."""
    start = max(0, s + offset_ns - epoch_ns - bound_ns)
    return start, max(start, e + offset_ns - epoch_ns + bound_ns)


def order_key(op: Op) -> tuple[int, int]:
    """History order of mapped events: by time; at equal times invocations first (two
    operations that touch at one instant count as concurrent: the weaker claim)."""
    return (op.time, 0 if op.type == INVOKE else 1)


def remap(ops: Iterable[Op], *, trust_clocks: bool = False) -> list[Op]:
    """Rebuild a recorded remote history's order from what it records.

    Each remote completion carries `worker_ns` [s, e], `clock_offset_ns` and
    `clock_bound_ns` in its extra fields, and the run's start on the control clock in
    `epoch_ns`. With `trust_clocks=False` this reproduces the recorded order (mapped and
    widened); with `trust_clocks=True` every host's clock is taken as the control node's
    (offset 0, bound 0): the history a harness without clock bounds would record. Other
    operations keep their times. Indices are renumbered in the new order."""
    ops = list(ops)
    times: dict[int, tuple[int, int]] = {}
    open_: dict = {}
    for i, op in enumerate(ops):
        if op.process == NEMESIS:
            continue
        if op.type == INVOKE:
            open_[op.process] = i
            continue
        j = open_.pop(op.process, None)
        w = op.extra.get("worker_ns")
        if j is None or not w:
            continue
        off, bound = op.extra.get("clock_offset_ns", 0), op.extra.get("clock_bound_ns", 0)
        epoch = op.extra.get("epoch_ns", 0)
        if trust_clocks:
            # The worker's clock read as if it were the control node's (even before the
            # run's start, where a slow clock puts it).
            times[j], times[i] = w[0] - epoch, w[1] - epoch
        else:
            times[j], times[i] = mapped_interval(w[0], w[1], off, bound, epoch)
    retimed = [op.replace(time=times[i]) if i in times else op for i, op in enumerate(ops)]
    order = sorted(range(len(retimed)), key=lambda i: (*order_key(retimed[i]), i))
    return [retimed[i].replace(index=n) for n, i in enumerate(order)]


class Merger:
    """Puts events into history order as they arrive, holding each back only until no
    event still to come can sort before it (a watermark).

    Events come from the runner in control-clock order, except that a remote operation's
    mapped invocation may lie up to `2 * max_bound_ns` before the control time it was
    dispatched at (the true start is after the dispatch, the mapped start at most one
    bound before the true start, and the widening subtracts another). So anything at or
    before `min(latest control time, earliest dispatch still in flight) - 2 * max_bound`
    is final and goes out."""

    def __init__(self, max_bound_ns: int):
        self.slack_ns = 2 * max_bound_ns
        self._heap: list = []
        self._seq = 0

    def push(self, op: Op) -> None:
        heapq.heappush(self._heap, (*order_key(op), self._seq, op))
        self._seq += 1

    def pop_until(self, watermark: int) -> list[Op]:
        out = []
        h = self._heap
        while h and h[0][0] <= watermark - self.slack_ns:
            out.append(heapq.heappop(h)[-1])
        return out

    def pop_all(self) -> list[Op]:
        out = [heapq.heappop(self._heap)[-1] for _ in range(len(self._heap))]
        return out

    def __len__(self) -> int:
        return len(self._heap)
