"""The search's budget and memory: what its deadline is measured on, and how many keys it
holds at once (issue 19's and issue 23's 1M-operation figures).

`check(..., clock=...)` reads its deadline on the clock given: a clock that does not
move never times out, one that has passed the deadline at once gives "unknown" for
every key. The MRSC checkers measure their built-in budget in the search's own CPU
seconds (`time.thread_time`), so a verdict does not depend on how busy the machine is.
At most `ACTIVE_MAX` keys are searched at once; every key still gets its verdict, and an
invalid key that comes after more than `ACTIVE_MAX` overlapping valid keys is found."""

from __future__ import annotations

import random
import time

import checkers.linearizability as lin
from checkers import mrsc
from checkers.linearizability import _check, check
from checkers.linearizability.simulate import simulate


def history(keys: int, seed: int = 5):
    return simulate("cas-register", 40 * keys, random.Random(seed), concurrency=8,
                    keys=keys, values=3)


def test_a_clock_that_does_not_move_never_times_out():
    ops = history(4)
    res = check(ops, "cas-register", timeout=1e-9, clock=lambda: 0.0)
    assert res["valid"] is True
    assert "unknown_keys" not in res


def test_a_clock_past_the_deadline_leaves_every_key_unknown():
    ops = history(4)
    ticks = iter(range(0, 10**9, 10))      # every reading 10 s later than the last
    res = check(ops, "cas-register", timeout=5, clock=lambda: next(ticks))
    assert res["valid"] == "unknown"
    assert res["reason"] == "timeout"
    assert len(res["unknown_keys"]) == res["keys"] == 4


def test_mrsc_budget_is_cpu_time_of_the_search(monkeypatch):
    seen = {}
    real = _check.check

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(lin, "check", spy)
    ops = history(3)
    res = mrsc.Linearizable(timeout=60).check({}, ops, {})
    assert res["valid"] is True
    assert seen["clock"] is time.thread_time and seen["timeout"] == 60


def test_more_overlapping_keys_than_active_max_all_judged_and_a_late_invalid_one_found():
    n = _check.ACTIVE_MAX * 2 + 3
    ops = history(n)
    res = check(ops, "cas-register")
    assert res["valid"] is True and res["keys"] == n
    # the last key (in key order) reads a value no write wrote: invalid, found although
    # it begins only after the first ACTIVE_MAX keys' searches are done
    last = sorted({op.key for op in ops}, key=lambda k: (type(k).__name__, repr(k)))[-1]
    at = max(i for i, op in enumerate(ops) if op.key == last and op.type == "ok"
             and op.f == "read")
    bad = list(ops)
    bad[at] = ops[at].replace(value=-1)
    res = check(bad, "cas-register")
    assert res["valid"] is False
    assert res["invalid_keys"] == [last]
