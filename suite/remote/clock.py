"""Clock error bounds: how operation times from several hosts become one sound history.

A worker times each operation with its own clock; the control node's clock is the
history's. Before the run the control node measures each worker's offset over the SSH
channel the way NTP does: it notes its clock (t1), asks the worker for its clock (w), and
notes its clock again when the answer arrives (t2). The worker read its clock at some
control time in [t1, t2], so offset = control - worker lies in [t1 - w, t2 - w]: the
estimate is the midpoint and its error is at most half the round trip. Of many samples the
one with the shortest round trip is kept. Clocks also drift apart after the sample, so the
bound adds `DRIFT_PPM` of the time the run may last (`horizon_ns`); the worker's clock is
read again at the end and a drift beyond the bound is reported (the verdict could then be
unsound, and the run says so).

A remote operation's interval [s, e] (worker clock) becomes [s + offset - bound,
e + offset + bound] on the control clock: it contains the true interval, and a wider
interval only admits more orders (Herlihy & Wing: a history is linearizable if some order
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
    """control_clock = worker_clock + offset_ns, with |error| <= bound_ns."""

    offset_ns: int
    bound_ns: int
    rtt_ns: int
    samples: int

    def to_json(self) -> dict:
        return {"offset_ns": self.offset_ns, "bound_ns": self.bound_ns,
                "rtt_ns": self.rtt_ns, "samples": self.samples}


def estimate(samples: Sequence[ClockSample], *, horizon_ns: int = 0,
             drift_ppm: float = DRIFT_PPM) -> ClockEstimate:
    """The offset from the sample with the shortest round trip, bounded by half of it plus
    the drift allowed over `horizon_ns` and the clocks' resolution."""
    good = [s for s in samples if s.t2 >= s.t1]
    if not good:
        raise ValueError("no usable clock sample")
    best = min(good, key=lambda s: s.rtt)
    offset = (best.t1 + best.t2) // 2 - best.w
    bound = (best.rtt + 1) // 2 + int(horizon_ns * drift_ppm / 1e6) + 2 * RESOLUTION_NS
    return ClockEstimate(offset, bound, best.rtt, len(good))


def drifted(before: ClockEstimate, after: ClockEstimate) -> bool:
    """Whether two estimates of one host's offset disagree by more than the first's bound
    allows (their own measurement errors subtracted): the bound did not hold."""
    gap = abs(after.offset_ns - before.offset_ns) - (after.rtt_ns + 1) // 2
    return gap > before.bound_ns


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
