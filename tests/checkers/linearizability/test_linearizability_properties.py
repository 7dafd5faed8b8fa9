"""Property tests: simulated executions are linearizable, impossible reads are not, and
on small histories the search agrees with brute force over every order.

Histories come from `checkers.linearizability.simulate` (a concurrent execution of a
sequential object with random linearization points and random crashes). Hypothesis is
derandomised so the tests are deterministic; the seed it draws drives a
`random.Random` passed explicitly.
"""

import itertools
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from checkers.linearizability import check, get_model, to_calls
from checkers.linearizability.models import INFO
from checkers.linearizability.simulate import WORKLOADS, impossible_read, simulate
from results.history import validate

PROPS = settings(derandomize=True, max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])

models = st.sampled_from(WORKLOADS)


@PROPS
@given(model=models, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120),
       concurrency=st.integers(1, 8), keys=st.integers(1, 3),
       crash_rate=st.sampled_from([0.0, 0.05, 0.2]))
def test_simulated_histories_are_linearizable(model, seed, n, concurrency, keys, crash_rate):
    ops = simulate(model, n, random.Random(seed), concurrency=concurrency, keys=keys,
                   crash_rate=crash_rate, values=3)
    validate(ops)
    result = check(ops, model, timeout=30)
    assert result["valid"] is True, result


@PROPS
@given(model=models, seed=st.integers(0, 2**32 - 1), n=st.integers(2, 120),
       concurrency=st.integers(1, 8), crash_rate=st.sampled_from([0.0, 0.05, 0.2]))
def test_an_impossible_read_is_not_linearizable(model, seed, n, concurrency, crash_rate):
    rng = random.Random(seed)
    ops = simulate(model, n, rng, concurrency=concurrency, crash_rate=crash_rate, values=3)
    bad = impossible_read(ops, model, rng)
    if bad is None:
        return  # no ok read to corrupt in this history
    result = check(bad, model, timeout=30)
    assert result["valid"] is False, result
    ce = result["counterexample"]
    assert ce["op"] is not None and ce["states"]


def brute_force(ops, model_name, initial=None):
    """Linearizable iff some subset of the crashed calls plus all definite calls has an
    order respecting real time in which every step is legal (every order is tried)."""
    model = get_model(model_name)
    calls = [c for c in (model.prepare(c) for c in to_calls(ops)) if c is not None]
    definite = [c for c in calls if c.status != INFO]
    crashed = [c for c in calls if c.status == INFO]
    init = model.init(initial)

    def respects_real_time(order):
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if b.ret_pos is not None and b.ret_pos < a.call_pos:
                    return False  # b returned before a was invoked, but comes after it
        return True

    for k in range(len(crashed) + 1):
        for chosen in itertools.combinations(crashed, k):
            for order in itertools.permutations(definite + list(chosen)):
                if not respects_real_time(order):
                    continue
                state, ok = init, True
                for c in order:
                    ok, state = model.step(state, c)
                    if not ok:
                        break
                if ok:
                    return True
    return False


def corrupt(ops, rng, model_name):
    """Change a few completions' values at random (may or may not break the history)."""
    out = list(ops)
    for _ in range(rng.randint(0, 2)):
        done = [i for i, op in enumerate(out) if op.type == "ok" and op.f in ("read", "get")]
        if not done:
            break
        i = rng.choice(done)
        pool = {"set": [[], [0], [1], [0, 1]], "kv": ["", "a0.", "p1."],
                "counter": [0, 1, 2, 3, 4]}.get(model_name, [None, 0, 1, 2])
        out[i] = out[i].replace(value=rng.choice(pool))
    return out


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(model=models, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6),
       concurrency=st.integers(1, 4), crash_rate=st.sampled_from([0.0, 0.3, 0.6]))
def test_small_histories_agree_with_brute_force(model, seed, n, concurrency, crash_rate):
    rng = random.Random(seed)
    ops = simulate(model, n, rng, concurrency=concurrency, crash_rate=crash_rate, values=3,
                   mean_duration=2.0)
    ops = corrupt(ops, rng, model)
    want = brute_force(ops, model)
    assert check(ops, model)["valid"] is want
    assert check(ops, model, partition=False)["valid"] is want


def test_brute_force_is_not_vacuous():
    # the cross-check above must see both verdicts
    seen = set()
    rng = random.Random(7)
    for model in WORKLOADS:
        for _ in range(40):
            ops = corrupt(simulate(model, 5, rng, concurrency=3, values=3), rng, model)
            seen.add(brute_force(ops, model))
    assert seen == {True, False}
