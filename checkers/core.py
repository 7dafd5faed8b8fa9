"""The checker protocol, composition, and the safety wrapper.

A checker is a pure function of a history: `check(test, history, opts) -> dict` with a
`"valid"` of True, False or "unknown" plus whatever details explain it (as data: the
report renders them, it never recomputes verdicts). `compose` runs several checkers and
merges their verdicts by priority false > unknown > true, leaving out a checker that had
nothing to judge (`not_judged`: what its promise speaks of never happened in the run). `safe` wraps a checker so that
an exception inside it becomes `{"valid": "unknown", "error": ...}` instead of crashing
the run: a run that recorded a history must always end with results.

Checkers never talk to a target; anything they need beyond the history (the emulator's
version metadata, the final reads) is handed to them in `opts`.
"""

from __future__ import annotations

import contextlib
import gc
import time
import traceback
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence, runtime_checkable

from checkers.final_rounds import last_round_final
from results.history import Op

UNKNOWN = "unknown"
Valid = bool | str  # True, False or "unknown"


@runtime_checkable
class Checker(Protocol):
    def check(self, test: Mapping[str, Any], history: Sequence[Op],
              opts: Mapping[str, Any]) -> dict: ...


class FnChecker:
    """Adapts a plain function `(test, history, opts) -> dict` to the Checker protocol."""

    def __init__(self, fn: Callable[[Mapping[str, Any], Sequence[Op], Mapping[str, Any]], dict],
                 name: str | None = None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "checker")

    def check(self, test, history, opts):
        return self.fn(test, history, opts)

    def __repr__(self) -> str:
        return f"FnChecker({self.name})"


def as_checker(c: Checker | Callable) -> Checker:
    if isinstance(c, Checker):
        return c
    if callable(c):
        return FnChecker(c)
    raise TypeError(f"not a checker: {c!r}")


_RANK = {False: 0, UNKNOWN: 1, True: 2}


def merge_valid(values: Sequence[Valid]) -> Valid:
    """false > unknown > true; an empty sequence is valid (nothing was violated)."""
    worst: Valid = True
    for v in values:
        v = v if v in _RANK else UNKNOWN
        if _RANK[v] < _RANK[worst]:
            worst = v
    return worst


def not_judged(reason: str, **details: Any) -> dict:
    """The result of a checker that had nothing to judge because what its promise speaks
    of never happened in the run (A10 without a cut link): "unknown", never evidence
    that the promise held, and left out of a composed verdict (`counts`)."""
    return {"valid": UNKNOWN, "judged": False, "reason": f"not judged: {reason}", **details}


def counts(result: Any) -> bool:
    """Whether a checker result counts toward a composed verdict: every one but a "not
    judged" one (`judged` false) that found no violation. As Elle's per-region results
    (checkers/elle/run.py) and availability's periods: what was not judged neither
    lowers the verdict nor stands as evidence for it."""
    return not (isinstance(result, Mapping) and result.get("judged") is False
                and result.get("valid") is not False)


def merge_results(results: Sequence[Any]) -> Valid:
    """The composed verdict of checker results: `merge_valid` over the ones that count;
    "unknown" when there were results but none judged anything (VALID needs evidence)."""
    results = [r for r in results if isinstance(r, Mapping)]
    counted = [r.get("valid") for r in results if counts(r)]
    if results and not counted:
        return UNKNOWN
    return merge_valid(counted)


class SafeChecker:
    """Runs a checker; an exception becomes valid=unknown with the error, never a crash."""

    def __init__(self, inner: Checker | Callable):
        self.inner = as_checker(inner)

    def check(self, test, history, opts):
        t0 = time.perf_counter()
        try:
            result = dict(self.inner.check(test, history, opts))
            if result.get("valid") not in _RANK:
                result = {**result, "valid": UNKNOWN,
                          "error": f"checker returned valid={result.get('valid')!r}"}
        except Exception as e:  # noqa: BLE001 -- classified: becomes "unknown" with the error
            result = {"valid": UNKNOWN, "error": f"{type(e).__name__}: {e}",
                      "traceback": traceback.format_exc(limit=8)}
        result.setdefault("seconds", round(time.perf_counter() - t0, 6))
        return result


def safe(c: Checker | Callable) -> SafeChecker:
    return c if isinstance(c, SafeChecker) else SafeChecker(c)


class Compose:
    """A named set of checkers; the result holds each one's result and the merged verdict."""

    def __init__(self, checkers: Mapping[str, Checker | Callable]):
        self.checkers = {name: safe(c) for name, c in checkers.items()}

    def check(self, test, history, opts):
        # The final reads are the last final round's (checkers/final_rounds.py), for
        # every checker alike; a history of one round is handed on unchanged.
        history = last_round_final(history)
        results = {name: c.check(test, history, opts) for name, c in self.checkers.items()}
        return {"valid": merge_results(list(results.values())), **results}


def compose(checkers: Mapping[str, Checker | Callable]) -> Compose:
    return Compose(checkers)


@contextlib.contextmanager
def collector_parked() -> Iterator[None]:
    """Judging a history with CPython's cyclic garbage collector parked, then restored.

    A million-operation history is millions of small tracked objects (ops, pairs), and
    the checkers allocate millions more (per-key indexes); the collector's passes walk
    them for nothing, since what the checkers drop is freed by reference counting.
    Measured on the 1M-operation async register history (bench/mode_checkers.py --whole,
    machine load ~30, two runs at different moments, not side by side): judging took
    103.1 CPU s parked against 110.4 s with the collector on, and peaked at 1,239 MB
    against 1,241 MB. So for the checks the objects
    that exist are frozen (`gc.freeze`: never traversed) and collection is off; after,
    the collector is back as it was and what was frozen here is unfrozen (unless the
    process had frozen objects of its own before: they stay as it left them). One place
    uses it: `suite.core.judge` (run, analyze, check --mode)."""
    was_enabled = gc.isenabled()
    had_frozen = gc.get_freeze_count() > 0
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        if not had_frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a phase that makes millions of small objects
    in no reference cycle (a transactional file read and checked, a set check), then
    restored: its full passes over them cost seconds and free nothing (issue 23). Unlike
    `collector_parked`, nothing is frozen."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
