"""The emulator's wide-area network: latency between regions, link faults, routing, delivery.

Regions of a global table talk to each other only through this model (ARCHITECTURE.md,
"Emulator"; SEMANTICS.md G3, A10, M12). It knows, per ordered region pair, a one-way
latency (defaults from real inter-region figures, scaled by one global `latency_scale` so
tests run at 0-0.1x and demos at 1x), the state of each directed link (up or cut, plus any
extra delay a fault added), which regions are isolated and which are stopped. Two kinds of
traffic use it:

- asynchronous replication sends only over the direct link (`send(..., relay=False)`): a
  cut link A-B stops A's writes reaching B even though A-C-B is alive (A10);
- the MRSC journal may relay (`send(..., relay=True)`): each hop is routed again over the
  live links by shortest one-way delay (`route`: networkx's algorithm written out, the
  same paths, without importing networkx, a tenth of a run's start-up), so a cut A-B
  makes traffic take A-C-B (M12).

Every message `send` carries gets a seeded random jitter on top of its link's delay
(`jitter_ms`, by default `MESSAGE_JITTER_MS` x `latency_scale`), drawn per message, so two
messages on one link may arrive in the other order, as datagrams over a real WAN can
(issue 21: the journal must not rely on FIFO links; Raft does not).

`Scheduler` is the one timer thread that delivers messages (and runs any other delayed
callback of the emulator) at their due time. Callbacks run on that thread, in due-time
order (ties in submission order), and must not block: they take a region lock, apply, and
return. Anyone who needs to know when the fault state changes (a replicator waiting for a
link to heal, a journal re-routing) calls `subscribe(fn)`; `fn()` is then called, outside
any WAN lock, after every change.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from typing import Callable, Iterable

# One-way latency in milliseconds between regions, from public inter-region round-trip
# figures (halved, rounded). The talk (G3): Virginia->Ohio write propagation ~20 ms,
# Virginia->Tokyo a couple of hundred ms; the replicator's own overhead is added on top by
# the async engine (`REPLICATOR_OVERHEAD_MS` in emulator/replication.py).
_ONE_WAY_MS: dict[frozenset[str], float] = {
    frozenset(("us-east-1", "us-east-2")): 6.0,
    frozenset(("us-east-1", "us-west-2")): 33.0,
    frozenset(("us-east-2", "us-west-2")): 25.0,
    frozenset(("us-east-1", "us-west-1")): 31.0,
    frozenset(("us-west-1", "us-west-2")): 11.0,
    frozenset(("eu-west-1", "eu-west-2")): 6.0,
    frozenset(("eu-west-1", "eu-west-3")): 9.0,
    frozenset(("eu-west-1", "eu-central-1")): 12.0,
    frozenset(("eu-west-2", "eu-west-3")): 5.0,
    frozenset(("eu-west-2", "eu-central-1")): 8.0,
    frozenset(("eu-west-3", "eu-central-1")): 5.0,
    frozenset(("ap-northeast-1", "ap-northeast-2")): 17.0,
    frozenset(("ap-northeast-1", "ap-northeast-3")): 4.0,
    frozenset(("ap-northeast-2", "ap-northeast-3")): 14.0,
    frozenset(("us-east-1", "eu-west-1")): 36.0,
    frozenset(("us-east-1", "ap-northeast-1")): 75.0,
    frozenset(("us-west-2", "ap-northeast-1")): 50.0,
    frozenset(("eu-west-1", "ap-northeast-1")): 110.0,
}
DEFAULT_ONE_WAY_MS = 40.0  # any pair not in the table above
MAX_DELAY_MS = 600_000.0  # a fault may add at most ten minutes of delay to a link
MESSAGE_JITTER_MS = 3.0   # per message sent with `send`, uniform in [0, this x scale]


def default_one_way_ms(a: str, b: str) -> float:
    """The default one-way latency from region `a` to region `b` at scale 1.0."""
    if a == b:
        return 0.0
    return _ONE_WAY_MS.get(frozenset((a, b)), DEFAULT_ONE_WAY_MS)


class Scheduler:
    """A single timer thread that runs callbacks at a monotonic due time.

    `call_later(delay_s, fn)` and `call_at(when, fn)` queue `fn`; it runs on the scheduler
    thread once due. Order: by due time, then by submission. An exception in a callback is
    recorded in `errors` (bounded) and never kills the thread.
    """

    ERRORS_MAX = 100

    def __init__(self, name: str = "gtcheck-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopped = False
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_at(self, when: float, fn: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (when, next(self._seq), fn))
            if self._heap[0][2] is fn:
                self._cv.notify()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None:
        self.call_at(time.monotonic() + max(0.0, delay_s), fn)

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join(timeout=5)

    def idle(self) -> bool:
        """True when nothing is queued (used by tests and by `Deployment.quiesce`)."""
        with self._cv:
            return not self._heap

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped:
                    if not self._heap:
                        self._cv.wait()
                        continue
                    due = self._heap[0][0] - time.monotonic()
                    if due <= 0:
                        break
                    self._cv.wait(due)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception as e:  # a broken callback must not stop delivery of others
                if len(self.errors) < self.ERRORS_MAX:
                    self.errors.append(f"{type(e).__name__}: {e}")


class Wan:
    """Links between regions: latency, faults, routing, and message delivery.

    Directed link a->b is *live* when neither region is stopped or isolated and the link
    is not cut. Latencies are one-way; `one_way_ms(a, b)` = default (or configured) base x
    `latency_scale` + the extra delay a fault added.
    """

    def __init__(self, regions: Iterable[str], *, latency_scale: float = 1.0,
                 latency_ms: dict[tuple[str, str], float] | None = None,
                 scheduler: Scheduler | None = None, seed: int = 0,
                 jitter_ms: float | None = None) -> None:
        self.regions: tuple[str, ...] = tuple(dict.fromkeys(regions))
        if latency_scale < 0:
            raise ValueError("latency_scale must be >= 0")
        self.latency_scale = float(latency_scale)
        self._base: dict[tuple[str, str], float] = {}
        for a in self.regions:
            for b in self.regions:
                if a != b:
                    self._base[(a, b)] = default_one_way_ms(a, b)
        for pair, ms in (latency_ms or {}).items():
            self._base[tuple(pair)] = float(ms)  # type: ignore[index]
        self.scheduler = scheduler or Scheduler()
        self.jitter_ms = (MESSAGE_JITTER_MS * self.latency_scale if jitter_ms is None
                          else float(jitter_ms))
        self._rng = random.Random(f"gtcheck-wan:{seed}")
        self._lock = threading.Lock()
        self._cut: set[tuple[str, str]] = set()
        self._extra_ms: dict[tuple[str, str], float] = {}
        self._isolated: set[str] = set()
        self._stopped: set[str] = set()
        self._listeners: list[Callable[[], None]] = []

    # ---- state ---------------------------------------------------------------------
    def check_region(self, region: str) -> None:
        if region not in self.regions:
            raise KeyError(f"unknown region {region!r}; known: {', '.join(self.regions)}")

    def one_way_ms(self, a: str, b: str) -> float:
        if a == b:
            return 0.0
        return self._base[(a, b)] * self.latency_scale + self._extra_ms.get((a, b), 0.0)

    def link_live(self, a: str, b: str) -> bool:
        """Can a message go from `a` to `b` over the direct link right now?"""
        if a == b:
            return a not in self._stopped
        return ((a, b) not in self._cut and a not in self._isolated
                and b not in self._isolated and a not in self._stopped
                and b not in self._stopped)

    def region_up(self, region: str) -> bool:
        return region not in self._stopped

    def route(self, a: str, b: str) -> list[str] | None:
        """Shortest-delay path a..b over live links (relay allowed), or None.

        Bidirectional Dijkstra over the live links weighted by one-way delay, step for
        step as networkx's `bidirectional_dijkstra` (what `networkx.shortest_path(...,
        weight=...)` runs), a region's links taken in region order: so among paths of
        equal delay the same one wins as when the emulator called networkx
        (tests/emulator/test_emu_wan_route.py), without importing it."""
        if a == b:
            return [a] if self.region_up(a) else None
        if a not in self.regions or b not in self.regions or not self.region_up(a) \
                or not self.region_up(b):
            return None
        done: tuple[dict, dict] = ({}, {})               # forward from a, backward from b
        preds: tuple[dict, dict] = ({a: None}, {b: None})
        seen: tuple[dict, dict] = ({a: 0.0}, {b: 0.0})   # best delay found so far
        fringe: tuple[list, list] = ([], [])
        order = itertools.count()
        heapq.heappush(fringe[0], (0.0, next(order), a))
        heapq.heappush(fringe[1], (0.0, next(order), b))
        best, meet = None, None
        way = 1
        while fringe[0] and fringe[1]:
            way = 1 - way
            dist, _, v = heapq.heappop(fringe[way])
            if v in done[way]:
                continue
            done[way][v] = dist
            if v in done[1 - way]:  # reached from both ends: `meet` lies on a shortest path
                forward, x = [], meet
                while x is not None:
                    forward.append(x)
                    x = preds[0][x]
                backward, x = [], preds[1][meet]
                while x is not None:
                    backward.append(x)
                    x = preds[1][x]
                return forward[::-1] + backward
            for w in self.regions:
                if w == v or w in done[way]:
                    continue
                hop = (v, w) if way == 0 else (w, v)
                if not self.link_live(*hop):
                    continue
                length = dist + self.one_way_ms(*hop)
                if w not in seen[way] or length < seen[way][w]:
                    seen[way][w] = length
                    heapq.heappush(fringe[way], (length, next(order), w))
                    preds[way][w] = v
                    if w in seen[1 - way]:
                        total = length + seen[1 - way][w]
                        if best is None or best > total:
                            best, meet = total, w
        return None

    def path_ms(self, path: list[str]) -> float:
        return sum(self.one_way_ms(x, y) for x, y in zip(path, path[1:]))

    def message_delay_s(self, a: str, b: str) -> float:
        """One message's delay on a -> b: the link's one-way delay plus seeded jitter."""
        jitter = 0.0
        if self.jitter_ms > 0:
            with self._lock:
                jitter = self._rng.uniform(0.0, self.jitter_ms)
        return (self.one_way_ms(a, b) + jitter) / 1000.0

    # ---- delivery ------------------------------------------------------------------
    def send(self, src: str, dst: str, deliver: Callable[[], None], *, relay: bool = False,
             on_drop: Callable[[], None] | None = None) -> bool:
        """Send one message from `src` to `dst`; `deliver()` runs at `dst` on arrival.

        Direct (`relay=False`): needs the link src->dst live now; arrives after its one-way
        delay and is dropped (`on_drop()` called instead) if at arrival the link is no
        longer live. Relayed (`relay=True`): hop by hop along the current shortest live
        route, re-routed at every hop; dropped when no route is left. Returns False (and
        does not call `on_drop`) when the message cannot leave `src` at all.
        """
        if relay:
            return self._hop(src, dst, deliver, on_drop)
        if not self.link_live(src, dst):
            return False

        def arrive() -> None:
            if self.link_live(src, dst):
                deliver()
            elif on_drop is not None:
                on_drop()

        self.scheduler.call_later(self.message_delay_s(src, dst), arrive)
        return True

    def _hop(self, at: str, dst: str, deliver: Callable[[], None],
             on_drop: Callable[[], None] | None) -> bool:
        path = self.route(at, dst)
        if path is None:
            return False
        if len(path) == 1:
            self.scheduler.call_later(0.0, deliver)
            return True
        nxt = path[1]

        def arrive() -> None:
            if not self.link_live(at, nxt):
                if on_drop is not None:
                    on_drop()
                return
            if nxt == dst:
                deliver()
            elif not self._hop(nxt, dst, deliver, on_drop) and on_drop is not None:
                on_drop()

        self.scheduler.call_later(self.message_delay_s(at, nxt), arrive)
        return True

    # ---- faults --------------------------------------------------------------------
    def subscribe(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def _changed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            fn()

    def cut(self, a: str, b: str, *, both: bool = True) -> None:
        self.check_region(a), self.check_region(b)
        if a == b:
            raise ValueError("a link joins two different regions")
        with self._lock:
            self._cut.add((a, b))
            if both:
                self._cut.add((b, a))
        self._changed()

    def delay(self, a: str, b: str, ms: float, *, both: bool = True) -> None:
        self.check_region(a), self.check_region(b)
        if a == b:
            raise ValueError("a link joins two different regions")
        if not 0 <= ms <= MAX_DELAY_MS:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY_MS:g} ms")
        with self._lock:
            self._extra_ms[(a, b)] = float(ms)
            if both:
                self._extra_ms[(b, a)] = float(ms)
        self._changed()

    def isolate(self, region: str) -> None:
        self.check_region(region)
        with self._lock:
            self._isolated.add(region)
        self._changed()

    def stop_region(self, region: str) -> None:
        self.check_region(region)
        with self._lock:
            self._stopped.add(region)
        self._changed()

    def start_region(self, region: str) -> None:
        self.check_region(region)
        with self._lock:
            self._stopped.discard(region)
        self._changed()

    def heal(self) -> None:
        """Heal every link fault (cuts, delays, isolation). Stopped regions stay stopped:
        a region outage ends with `start_region` (the fault API's `heal` does both)."""
        with self._lock:
            self._cut.clear()
            self._extra_ms.clear()
            self._isolated.clear()
        self._changed()

    def status(self) -> dict:
        with self._lock:
            return {
                "latency_scale": self.latency_scale,
                "cut": sorted([a, b] for a, b in self._cut),
                "extra_delay_ms": [{"a": a, "b": b, "ms": ms}
                                   for (a, b), ms in sorted(self._extra_ms.items())],
                "isolated": sorted(self._isolated),
                "stopped": sorted(self._stopped),
                "one_way_ms": {f"{a}->{b}": round(self.one_way_ms(a, b), 3)
                               for a in self.regions for b in self.regions if a != b},
            }
