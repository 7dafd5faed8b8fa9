"""Checking while the run goes: per-key checkers fed the history as it is recorded.

The final verdict of a run is always the full offline check of the whole history. This
module only finds violations early, so the progress line can show them and
`gtcheck run --stop-on-violation` can end the run at the first one. It runs, on a key's
sub-history so far, the workload's checkers whose judgement is per key and whose
violations cannot be undone by anything recorded later:

- cheap ones (`CHEAP`: stale SC reads, reads going back in time, values never written,
  ...) each time a read of that key has completed, at most once per `every_s`;
- the linearizability search (`COLD`) once the key has left the hot set
  (workloads.generators.HotKeys: no invocation on it for `cold_after_ops` invocations and
  none in flight).

Why a violation in a prefix is one in the whole history: an operation still in flight is
treated as indefinite (Knossos' `:info`: it may take effect at any time after its
invocation, or never), which is what the offline check also allows for it, and every
completion recorded later only narrows what the operation may have done. A checker whose
verdict needs the final reads (convergence, last-writer-wins, lost adds) or the whole run
(availability, latency) is not run here. The checking happens in a daemon thread fed by a
queue, so the runner's interpreter only pays for a `put`.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from results.history import INVOKE, NEMESIS, Op

# Which of checkers.modes.checkers_for's checkers are per key and prefix-monotone, by
# (mode, workload): (cheap, after each read) and (cold, when the key leaves the hot set).
CHEAP: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("strong", "register"): ("sc-reads", "ec-reads"),
    ("async", "register"): ("monotonic-reads", "read-your-writes", "never-written"),
}
COLD: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("strong", "register"): ("linearizability",),
    ("strong", "counter"): ("linearizability",),
    ("strong", "set"): ("linearizability",),
}
COLD_AFTER_OPS = 200  # invocations elsewhere after which an idle key counts as cold
BUSY_FACTOR = 4.0  # wait this many times as long as the last round of checking took
LINEARIZABILITY_TIMEOUT_S = 10.0  # per key, online: an unfinished search decides nothing


@dataclass
class Violation:
    """The first violation found online: which promise, where, and its explanation."""

    checker: str
    key: Any
    at_s: float          # history time (s since the run started) of the key's last record
    found_s: float       # history time when the online checker found it
    anomaly: dict

    def describe(self) -> str:
        kind = self.anomaly.get("kind", "violation")
        text = self.anomaly.get("explanation") or f"{self.checker} broken on {self.key}"
        return f"{self.checker}: {kind} on {self.key}: {text}"

    def to_json(self) -> dict:
        return {"checker": self.checker, "key": self.key, "at_s": round(self.at_s, 3),
                "found_s": round(self.found_s, 3), "kind": self.anomaly.get("kind"),
                "ops": list(self.anomaly.get("ops") or []),
                "explanation": self.anomaly.get("explanation")}


@dataclass
class _Key:
    ops: list[Op] = field(default_factory=list)
    open: int = 0           # operations in flight
    last_invoke: int = 0    # the global invocation count at its last invocation
    dirty: bool = False     # a read completed since the cheap checkers last ran
    cold_done: bool = False  # the cold checkers ran since its last invocation


def online_checkers(mode: str, workload: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(cheap, cold) checkers for `mode` and `workload`; both empty when none apply."""
    from checkers.modes import checkers_for
    cheap_names, cold_names = CHEAP.get((mode, workload), ()), COLD.get((mode, workload), ())
    if not cheap_names and not cold_names:
        return {}, {}
    every = checkers_for(mode, workload, linearizability_timeout=LINEARIZABILITY_TIMEOUT_S)
    return ({n: every[n] for n in cheap_names if n in every},
            {n: every[n] for n in cold_names if n in every})


class OnlineChecker:
    """Feed it every recorded op (`__call__`); it judges keys in its own thread and calls
    `on_violation` once, with the first `Violation`. `violations` lists what was found
    so far (one per checker and key; the progress line counts them). `close()` stops the
    thread (what is left unjudged, the offline check judges in full anyway); `judge_all()`
    runs every checker on every key now, in the caller's thread (tests, `close` of a
    history read from a file)."""

    def __init__(self, test_json: Mapping[str, Any], cheap: Mapping[str, Any],
                 cold: Mapping[str, Any], *,
                 on_violation: Callable[[Violation], None] | None = None,
                 cold_after_ops: int = COLD_AFTER_OPS, every_s: float = 0.2,
                 now: Callable[[], float] | None = None):
        self.test_json, self.cheap, self.cold = dict(test_json), dict(cheap), dict(cold)
        self.on_violation = on_violation
        self.cold_after_ops, self.every_s = max(1, cold_after_ops), every_s
        self._now = now
        self.keys: dict[Any, _Key] = {}
        self.invocations = 0
        self.last_time_ns = 0
        self.violations: list[Violation] = []
        self.broken: set[tuple[str, Any]] = set()
        self.errors: list[str] = []
        self.refused: str | None = None  # why checking stopped (see `_take`)
        self._key_of: dict[Any, Any] = {}  # process -> key of its operation in flight
        self._inbox: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="gtcheck-online",
                                        daemon=True)
        self._thread.start()

    @property
    def enabled(self) -> bool:
        return bool(self.cheap or self.cold)

    def __call__(self, op: Op) -> None:
        self._inbox.put(op)

    def close(self, timeout_s: float = 30.0) -> None:
        self._inbox.put(None)
        self._thread.join(timeout_s)

    def judge_all(self) -> list[Violation]:
        """After `close`: every recorded op taken, every key judged by every checker."""
        while True:
            try:
                op = self._inbox.get_nowait()
            except queue.Empty:
                break
            if op is not None:
                self._take(op)
        for k in self.keys.values():
            k.dirty = True
        self._judge(final=True)
        return self.violations

    # --- the checking thread ------------------------------------------------------------

    def _loop(self) -> None:
        next_tick = time.monotonic() + self.every_s
        while True:
            try:
                op = self._inbox.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                op = False
            if op is None:
                return  # the offline check judges every key in full next
            if op is not False:
                self._take(op)
                continue
            began = time.monotonic()
            self._judge(final=False)
            spent = time.monotonic() - began
            # At most a fifth of the time checking: keys' histories grow with the run, and
            # the runner's interpreter shares the interpreter lock with this thread.
            next_tick = time.monotonic() + max(self.every_s, BUSY_FACTOR * spent)

    def _take(self, op: Op) -> None:
        """Files `op` under its key (a completion under its invocation's key). Only
        recorded operations are judged: one without its history index (-1, not yet
        numbered, e.g. a remote operation before its clock mapping) would make any
        violation name operations the history does not hold, so checking stops, and
        says why (the offline check judges the whole history anyway)."""
        if self.refused:
            return
        if op.index < 0:
            self.refused = (f"fed an operation not yet recorded (index {op.index}): "
                            "online checking stopped")
            self.errors.append(self.refused)
            return
        if op.process == NEMESIS:
            return
        self.last_time_ns = max(self.last_time_ns, op.time)
        if op.type == INVOKE:
            key = op.key
            self._key_of[op.process] = key
            self.invocations += 1
            k = self.keys.setdefault(key, _Key())
            k.open += 1
            k.last_invoke = self.invocations
            k.cold_done = False
        else:
            key = self._key_of.pop(op.process, op.key)
            k = self.keys.setdefault(key, _Key())
            k.open = max(0, k.open - 1)
            k.dirty = k.dirty or op.f == "read"
        k.ops.append(op)

    def _judge(self, *, final: bool) -> None:
        for key, k in list(self.keys.items()):
            if k.dirty and self.cheap:
                k.dirty = False
                self._run(self.cheap, key, k)
            cold = final or (k.open == 0 and
                             self.invocations - k.last_invoke >= self.cold_after_ops)
            if cold and not k.cold_done and self.cold:
                k.cold_done = True
                self._run(self.cold, key, k)

    def _run(self, checkers: Mapping[str, Any], key: Any, k: _Key) -> None:
        ops = list(k.ops)
        for name, checker in checkers.items():
            if (name, key) in self.broken:
                continue
            try:
                res = checker.check(self.test_json, ops, {})
            except Exception as e:  # noqa: BLE001 -- online checking never stops a run;
                self.errors.append(f"{name} on {key!r}: {type(e).__name__}: {e}")
                continue  # the offline check judges this key in full anyway
            if res.get("valid") is not False:
                continue
            broken = [a for a in res.get("anomalies") or [] if not a.get("expected")]
            anomaly = broken[0] if broken else {"kind": name, "ops": [],
                                                "explanation": f"{name} broken on {key}"}
            self.broken.add((name, key))
            found_s = (self._now() if self._now else self.last_time_ns / 1e9)
            v = Violation(name, key, ops[-1].time / 1e9 if ops else 0.0, found_s, anomaly)
            self.violations.append(v)
            if len(self.violations) == 1 and self.on_violation is not None:
                self.on_violation(v)
