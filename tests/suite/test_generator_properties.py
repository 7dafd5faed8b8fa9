"""Properties of any generator built from the combinators, checked by the simulator:
whatever the tree and the completions, the history is well formed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from results.history import Op, validate
from suite import generator as g

fs = st.sampled_from(["read", "write", "cas"])
leaf = st.builds(lambda f: {"f": f}, fs)


def combinators(children):
    return st.one_of(
        st.builds(g.limit, st.integers(0, 6), children),
        st.builds(lambda c: g.repeat(c, 3), children),
        st.builds(lambda c: g.cycle(c, 2), children),
        st.builds(lambda n, c: g.time_limit(n / 1000, c), st.integers(1, 20), children),
        st.builds(lambda s, c: g.stagger(0.002, c, seed=s), st.integers(0, 99), children),
        st.builds(lambda c: g.delay(0.001, c), children),
        st.builds(lambda s, a, b: g.mix([a, b], seed=s), st.integers(0, 99), children, children),
        st.builds(lambda a, b: g.any_of(a, b), children, children),
        st.builds(lambda a, b: g.phases(a, b), children, children),
        st.builds(g.each_thread, children),
        st.builds(lambda a, b: g.reserve(1, a, b), children, children),
        st.builds(g.clients, children),
        st.builds(lambda a, b: [a, g.sleep(0.001), b], children, children),
    )


trees = st.recursive(leaf, combinators, max_leaves=6)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(trees, st.integers(1, 4), st.integers(0, 2**32))
def test_simulated_histories_are_well_formed(tree, concurrency, seed):
    complete = g.random_completions(seed, p_fail=0.2, p_info=0.2)
    # Bounded: repeat/cycle/limit keep every tree finite; max_ops guards regardless.
    h = g.simulate(tree, concurrency=concurrency, complete=complete, max_ops=2000)
    ops = [Op.from_dict({**op, "index": i}) for i, op in enumerate(h)]
    validate(ops)  # one op in flight per process, completions match, no reuse after info
    assert all(a["time"] <= b["time"] for a, b in zip(h, h[1:]))
    assert all(op["type"] in ("invoke", "ok", "fail", "info") for op in h)
    # The same seed and tree give the same history.
    again = g.simulate(tree, concurrency=concurrency,
                       complete=g.random_completions(seed, p_fail=0.2, p_info=0.2),
                       max_ops=2000)
    assert again == h
