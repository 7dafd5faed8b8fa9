"""The look-ahead at pending reads is a pruning only: verdicts with and without it agree.

The search's look-ahead (`_search.LOOKAHEAD`, the models' `rescuers` / `settled`) declares
a configuration dead when a read not yet invoked can no longer be legal. If it were wrong
it would turn a linearizable history into an invalid one (unsound pruning) or, through
a wrong dead-end record, break counterexamples. These tests compare the verdicts of the
search with the look-ahead on and off on generated histories, plain and with reads
swapped for values other reads of the same key saw (plausible values, the hard case),
and check that the pruning really happens on a history built for it.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from checkers.linearizability import _search, check, get_model
from checkers.linearizability.models import Call
from checkers.linearizability.simulate import simulate

SETTINGS = settings(derandomize=True, max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def swap_reads(ops, rng):
    """Give one or two ok reads the value another ok read of the same key returned."""
    out = list(ops)
    reads = [i for i, op in enumerate(out) if op.type == "ok" and op.f in ("read", "get")]
    for _ in range(rng.randint(1, 2)):
        if len(reads) < 2:
            break
        i, j = rng.sample(reads, 2)
        if out[i].key == out[j].key:
            out[i] = out[i].replace(value=out[j].value)
    return out


def verdict(ops, model, lookahead, monkeypatch):
    monkeypatch.setattr(_search, "LOOKAHEAD", lookahead)
    return check(ops, model, timeout=60)["valid"]


@SETTINGS
@given(model=st.sampled_from(["register", "cas-register", "kv"]),
       seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60),
       concurrency=st.integers(1, 6), crash_rate=st.sampled_from([0.0, 0.05, 0.2]),
       swap=st.booleans())
def test_lookahead_agrees_with_the_plain_search(model, seed, n, concurrency, crash_rate,
                                                swap):
    rng = random.Random(seed)
    ops = simulate(model, n, rng, concurrency=concurrency, keys=2, crash_rate=crash_rate,
                   values=3)
    if swap:
        ops = swap_reads(ops, rng)
    mp = pytest.MonkeyPatch()
    try:
        plain = verdict(ops, model, 0, mp)
        ahead = [verdict(ops, model, la, mp) for la in sorted({_search.LOOKAHEAD, 3})]
    finally:
        mp.undo()
    assert plain in (True, False)
    assert all(a is plain for a in ahead)


def test_both_verdicts_are_seen():
    # the agreement test above must meet invalid histories too, not only valid ones
    seen = set()
    rng = random.Random(11)
    for model in ("register", "cas-register", "kv"):
        for _ in range(30):
            ops = swap_reads(simulate(model, 30, rng, concurrency=4, keys=2, values=3), rng)
            seen.add(check(ops, model)["valid"])
    assert seen == {True, False}


def _kv_calls(appends: int) -> list[Call]:
    """An append y, and `appends` appends still in flight when y returns; then (the
    appends still in flight) a get that saw y and then the appends in one order, and a
    get of a value no order makes (its last piece was never appended). Until y is
    linearized the gets are not yet candidates: only the look-ahead sees them."""
    late = 3 * appends
    calls = [Call(0, 0, "append", "k", "y.", "y.", "ok", None, 0, appends + 1)]
    calls += [Call(i, i, "append", "k", f"a{i}.", f"a{i}.", "ok", None, i, late + i)
              for i in range(1, appends + 1)]
    seen = "y." + "".join(f"a{i}." for i in reversed(range(1, appends + 1)))
    calls.append(Call(100, 100, "get", "k", None, seen, "ok", None, appends + 2,
                      appends + 3))
    calls.append(Call(101, 101, "get", "k", None, seen + "zz.", "ok", None, appends + 4,
                      appends + 5))
    return calls


def test_lookahead_prunes_the_orders_of_concurrent_appends(monkeypatch):
    model = get_model("kv")
    calls = _kv_calls(7)
    monkeypatch.setattr(_search, "LOOKAHEAD", 0)
    plain = _search.search(model, calls, "")
    monkeypatch.setattr(_search, "LOOKAHEAD", 3)
    ahead = _search.search(model, calls, "", track=True)
    assert plain["valid"] is False and ahead["valid"] is False
    assert ahead["stats"]["configurations"] * 20 < plain["stats"]["configurations"]
    # the counterexample names the get that cannot be legal, from the full prefix
    assert ahead["stuck"].index == 101
    assert [c.index for c in ahead["prefix"]] == [0, 7, 6, 5, 4, 3, 2, 1, 100]
