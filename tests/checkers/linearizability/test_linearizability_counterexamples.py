"""Every key without a linearization gets its own counterexample (issue 13, finding 17).

A valid simulated history over several keys gets one ok read per chosen key changed to
a value the model can never hold (a register never holds -1): that read can never be
linearized, so each invalid key's counterexample must name exactly it, draw only that
key's operations, and carry a prefix that is a legal sequence respecting real time. The
cap (COUNTEREXAMPLES_MAX) is stated and the rest counted; a deadline still gives what
was found."""

from __future__ import annotations

import random

import pytest

from checkers.linearizability import _check, check, get_model, to_calls
from checkers.linearizability.simulate import simulate


def plant_impossible_reads(ops, keys):
    """-> (history, {key: invocation index of its impossible read}), one per key, each in
    the history's second half."""
    out, planted, inv_of = list(ops), {}, {}
    for n, op in enumerate(ops):
        if op.type == "invoke":
            inv_of[op.process] = op.index
        elif (n > len(ops) // 2 and op.type == "ok" and op.f == "read" and op.key in keys
              and op.key not in planted):
            out[n] = op.replace(value=-1)
            planted[op.key] = inv_of[op.process]
    assert set(planted) == set(keys)
    return out, planted


def assert_own_counterexample(ce, key, planted, calls, model):
    assert ce["key"] == key
    assert ce["op"] == planted[key]       # the read of -1: no order lets it return -1
    for i in [ce["op"], *ce["prefix"], *ce["concurrent"]]:
        assert calls[i].key == key, (key, i)
    state = model.init(None)
    for i in ce["prefix"]:                # the prefix is legal in the model...
        ok, state = model.step(state, calls[i])
        assert ok, (key, i)
    prefix = [calls[i] for i in ce["prefix"]]
    for n, a in enumerate(prefix):        # ... and respects real time
        assert all(b.ret_pos is None or b.ret_pos > a.call_pos for b in prefix[n + 1:])
    assert f"history index {planted[key]}" in ce["explanation"]


@pytest.mark.parametrize("workers", [1, 2])
def test_three_invalid_keys_get_three_counterexamples_each_its_own(workers):
    ops = simulate("cas-register", 900, random.Random(11), concurrency=6, keys=6, values=3)
    assert check(ops, "cas-register")["valid"] is True
    bad, planted = plant_impossible_reads(ops, ["k1", "k3", "k4"])
    res = check(bad, "cas-register", workers=workers)
    assert res["valid"] is False
    assert res["invalid_keys"] == ["k1", "k3", "k4"]
    assert [c["key"] for c in res["counterexamples"]] == ["k1", "k3", "k4"]
    assert res["counterexample"] == res["counterexamples"][0]   # compatibility
    assert res["counterexamples_omitted"] == 0
    assert "unchecked_keys" not in res and "unknown_keys" not in res
    model = get_model("cas-register")
    calls = {c.index: c for c in (model.prepare(c) for c in to_calls(bad)) if c}
    for ce in res["counterexamples"]:
        assert_own_counterexample(ce, ce["key"], planted, calls, model)


def test_counterexamples_past_the_cap_are_counted():
    ops = simulate("register", 900, random.Random(12), concurrency=6, keys=5, values=3)
    bad, planted = plant_impossible_reads(ops, ["k0", "k1", "k2", "k4"])
    res = check(bad, "register", counterexamples=2)
    assert res["invalid_keys"] == ["k0", "k1", "k2", "k4"]
    assert [c["key"] for c in res["counterexamples"]] == ["k0", "k1"]
    assert res["counterexamples_omitted"] == 2


def with_an_endless_key(monkeypatch):
    """k1 has an impossible read; k2's search never ends (a stand-in for a key whose
    search takes minutes)."""
    ops = simulate("register", 900, random.Random(13), concurrency=6, keys=3, values=3)
    bad, planted = plant_impossible_reads(ops, ["k1"])
    real = _check.searcher

    def endless(model, calls, init_state, *, track=False):
        if calls and calls[0].key == "k2":
            def forever():
                while True:
                    yield
            return forever()
        return real(model, calls, init_state, track=track)

    monkeypatch.setattr(_check, "searcher", endless)
    monkeypatch.setattr(_check, "sequential", lambda model, calls, init: None)
    return bad, planted


def test_a_deadline_still_reports_what_was_found(monkeypatch):
    """A key the search cannot settle in time stays unknown ("timeout"); the verdict and
    the counterexample found are kept."""
    bad, planted = with_an_endless_key(monkeypatch)
    res = check(bad, "register", timeout=0.5)
    assert res["valid"] is False
    assert [c["key"] for c in res["counterexamples"]] == ["k1"]
    assert res["counterexamples"][0]["op"] == planted["k1"]
    assert res["unknown_keys"] == ["k2"] and res["reason"] == "timeout"


def test_without_a_deadline_the_other_keys_get_a_bounded_extra_time(monkeypatch):
    """After the first invalid key the others get as long again as was spent, at least
    SETTLE_MIN_S; a key still unfinished then is "unchecked", never a guess."""
    monkeypatch.setattr(_check, "SETTLE_MIN_S", 0.2)
    bad, planted = with_an_endless_key(monkeypatch)
    res = check(bad, "register")
    assert res["valid"] is False and res["unchecked_keys"] == ["k2"]
    assert "unknown_keys" not in res
    assert res["counterexamples"][0]["op"] == planted["k1"]


def test_one_counterexample_asked_stops_at_the_first_invalid_key():
    """`gtcheck check` without --json asks for one: the verdict is settled by the first
    invalid key, and the search stops there (as Porcupine's does)."""
    ops = simulate("register", 900, random.Random(12), concurrency=6, keys=5, values=3)
    bad, planted = plant_impossible_reads(ops, ["k0", "k1", "k2", "k4"])
    res = check(bad, "register", counterexamples=1)
    assert res["valid"] is False
    assert len(res["counterexamples"]) == 1
    assert res["counterexample"]["key"] == res["invalid_keys"][0]
