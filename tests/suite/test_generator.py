"""Generators, pinned down by exact simulated operation lists (no target involved)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from results.history import Op, validate
from suite import generator as g
from suite.errors import BadInput, GeneratorError

MS = 1_000_000
S = 1_000_000_000


def brief(history):
    """(type, process, f, time in ns) per operation: the shape the tests compare."""
    return [(op["type"], op["process"], op["f"], op["time"]) for op in history]


def inv(history):
    return [(op["process"], op["f"], op["time"]) for op in g.invocations(history)]


# --- coercion ----------------------------------------------------------------------------

def test_a_dict_is_one_operation():
    h = g.simulate({"f": "read", "key": "k1"}, concurrency=2)
    assert brief(h) == [("invoke", 0, "read", 0), ("ok", 0, "read", MS)]
    assert h[0]["key"] == "k1" and h[1]["key"] == "k1"


def test_a_list_runs_its_elements_in_order_without_waiting():
    h = g.simulate([{"f": "a"}, {"f": "b"}], concurrency=2, nemesis=False)
    assert brief(h) == [("invoke", 0, "a", 0), ("invoke", 1, "b", 0),
                        ("ok", 0, "a", MS), ("ok", 1, "b", MS)]


def test_a_callable_is_called_per_operation_until_it_returns_none():
    calls = []

    def writes(test, ctx):
        calls.append(ctx.time)
        return {"f": "write", "value": len(calls)} if len(calls) <= 3 else None

    h = g.simulate(g.clients(writes), concurrency=1, nemesis=False)
    assert [(op["type"], op["value"], op["time"]) for op in h] == [
        ("invoke", 1, 0), ("ok", 1, MS), ("invoke", 2, MS), ("ok", 2, 2 * MS),
        ("invoke", 3, 2 * MS), ("ok", 3, 3 * MS)]
    # The fourth call ended it; asking while the only thread was busy called nothing.
    assert len(calls) == 4


def test_a_zero_argument_callable_works_too():
    n = iter(range(2))

    def adds():
        v = next(n, None)
        return None if v is None else {"f": "add", "value": v}

    h = g.simulate(adds, concurrency=1, nemesis=False)
    assert [op["value"] for op in g.invocations(h)] == [0, 1]


def test_non_generators_are_rejected_clearly():
    with pytest.raises(BadInput, match="not a generator"):
        g.as_gen(42)


# --- limits and repetition ---------------------------------------------------------------

def test_limit_and_repeat():
    h = g.simulate(g.clients(g.limit(5, g.repeat({"f": "read"}))), concurrency=2)
    assert brief(h) == [
        ("invoke", 0, "read", 0), ("invoke", 1, "read", 0),
        ("ok", 0, "read", MS), ("ok", 1, "read", MS),
        ("invoke", 0, "read", MS), ("invoke", 1, "read", MS),
        ("ok", 0, "read", 2 * MS), ("ok", 1, "read", 2 * MS),
        ("invoke", 0, "read", 2 * MS), ("ok", 0, "read", 3 * MS)]


def test_repeat_n_times():
    h = g.simulate(g.repeat({"f": "w"}, 3), concurrency=1, nemesis=False)
    assert inv(h) == [(0, "w", 0), (0, "w", MS), (0, "w", 2 * MS)]


def test_cycle_restarts_from_the_original_value():
    h = g.simulate(g.cycle([{"f": "a"}, {"f": "b"}], 2), concurrency=1, nemesis=False)
    assert [f for _, f, _ in inv(h)] == ["a", "b", "a", "b"]


def test_an_empty_cycle_ends():
    assert g.simulate(g.cycle([]), concurrency=1) == []


def test_time_limit_cuts_at_first_op_plus_dt():
    h = g.simulate(g.time_limit(0.0035, g.repeat({"f": "r"})), concurrency=1, nemesis=False)
    assert inv(h) == [(0, "r", 0), (0, "r", MS), (0, "r", 2 * MS), (0, "r", 3 * MS)]


def test_delay_spaces_operations_exactly():
    h = g.simulate(g.delay(0.01, g.limit(3, g.repeat({"f": "r"}))), concurrency=2,
                   nemesis=False)
    # Operations also rotate over the threads: the longest-free thread goes next.
    assert inv(h) == [(0, "r", 0), (1, "r", 10 * MS), (0, "r", 20 * MS)]


def test_operations_rotate_over_threads_longest_free_first():
    h = g.simulate(g.clients(g.delay(0.01, g.limit(6, g.repeat({"f": "r"})))), concurrency=3)
    assert [p for p, _, _ in inv(h)] == [0, 1, 2, 0, 1, 2]


def test_sleep_occupies_a_thread_and_is_not_recorded():
    h = g.simulate(g.nemesis([{"f": "isolate", "value": {"region": "us-east-2"}},
                              g.sleep(1), {"f": "heal"}]), concurrency=1)
    assert brief(h) == [("invoke", "nemesis", "isolate", 0), ("ok", "nemesis", "isolate", MS),
                        ("invoke", "nemesis", "heal", MS + S),
                        ("ok", "nemesis", "heal", 2 * MS + S)]


def test_map_ops_transforms_every_operation():
    h = g.simulate(g.map_ops(lambda op: {**op, "final": True}, [{"f": "read"}]),
                   concurrency=1, nemesis=False)
    assert all(op["final"] for op in h)


# --- phases and threads ------------------------------------------------------------------

def test_phases_wait_for_every_operation_to_complete():
    h = g.simulate(g.phases({"f": "a"}, {"f": "b"}), concurrency=2, nemesis=False)
    assert brief(h) == [("invoke", 0, "a", 0), ("ok", 0, "a", MS),
                        ("invoke", 1, "b", MS), ("ok", 1, "b", 2 * MS)]


def test_each_thread_gives_every_thread_its_own_copy():
    h = g.simulate(g.each_thread({"f": "w"}), concurrency=2)
    assert inv(h) == [(0, "w", 0), (1, "w", 0), ("nemesis", "w", 0)]


def test_each_thread_within_clients_skips_the_nemesis():
    h = g.simulate(g.clients(g.each_thread([{"f": "a"}, {"f": "b"}])), concurrency=2)
    assert inv(h) == [(0, "a", 0), (1, "a", 0), (0, "b", MS), (1, "b", MS)]


def test_reserve_splits_threads_between_generators():
    h = g.simulate(g.clients(g.limit(6, g.reserve(1, g.repeat({"f": "write"}),
                                                  g.repeat({"f": "read"})))),
                   concurrency=3)
    assert inv(h) == [(0, "write", 0), (1, "read", 0), (2, "read", 0),
                      (0, "write", MS), (1, "read", MS), (2, "read", MS)]


def test_reserve_rejects_bad_arguments():
    with pytest.raises(BadInput):
        g.reserve(1, {"f": "w"})
    with pytest.raises(BadInput):
        g.reserve(-1, {"f": "w"}, {"f": "r"})


def test_clients_and_nemesis_run_side_by_side():
    main = g.clients_and_nemesis(g.limit(3, g.repeat({"f": "read"})),
                                 [{"f": "isolate"}, {"f": "heal"}])
    h = g.simulate(main, concurrency=2)
    assert brief(h) == [
        ("invoke", 0, "read", 0), ("invoke", 1, "read", 0),
        ("invoke", "nemesis", "isolate", 0),
        ("ok", 0, "read", MS), ("ok", 1, "read", MS), ("ok", "nemesis", "isolate", MS),
        ("invoke", 0, "read", MS), ("invoke", "nemesis", "heal", MS),
        ("ok", 0, "read", 2 * MS), ("ok", "nemesis", "heal", 2 * MS)]


def test_on_threads_with_a_predicate():
    odd = g.on_threads(lambda t: isinstance(t, int) and t % 2 == 1,
                       g.limit(2, g.repeat({"f": "r"})))
    h = g.simulate(odd, concurrency=4)
    assert inv(h) == [(1, "r", 0), (3, "r", 0)]


def test_any_of_takes_the_soonest_operation():
    gen = g.any_of(g.Once({"f": "later", "time": 3 * MS}), {"f": "now"})
    h = g.simulate(gen, concurrency=1, nemesis=False)
    assert inv(h) == [(0, "now", 0), (0, "later", 3 * MS)]


# --- randomness ----------------------------------------------------------------------------

def test_stagger_is_seeded_and_spaces_operations_by_about_dt():
    def run(seed):
        gen = g.clients(g.limit(200, g.stagger(0.01, g.repeat({"f": "r"}), seed=seed)))
        return g.simulate(gen, concurrency=50, nemesis=False)

    a, b, c = run(1), run(1), run(2)
    assert a == b
    assert inv(a) != inv(c)
    times = [t for _, _, t in inv(a)]
    gaps = [y - x for x, y in zip(times, times[1:])]
    assert all(0 <= gap < 20 * MS for gap in gaps)
    assert 7 * MS < sum(gaps) / len(gaps) < 13 * MS  # mean dt = 10 ms


def test_rate_is_stagger_by_the_inverse():
    assert g.rate(100, {"f": "r"}, seed=3) == g.stagger(0.01, {"f": "r"}, seed=3)
    with pytest.raises(BadInput):
        g.rate(0, {"f": "r"}, seed=1)


def test_mix_is_seeded_and_drops_exhausted_generators():
    def run(seed):
        gen = g.mix([g.limit(4, g.repeat({"f": "a"})), g.limit(6, g.repeat({"f": "b"}))],
                    seed=seed)
        return [f for _, f, _ in inv(g.simulate(gen, concurrency=1, nemesis=False))]

    fs = run(7)
    assert fs == run(7)
    assert sorted(fs) == ["a"] * 4 + ["b"] * 6
    assert any(run(s) != fs for s in range(8, 20))


def test_seeded_functions_are_pure():
    gen = g.seeded(lambda rng: {"f": "write", "value": rng.randrange(1000)}, seed=5)
    first = g.simulate(g.limit(5, gen), concurrency=1, nemesis=False)
    again = g.simulate(g.limit(5, gen), concurrency=1, nemesis=False)
    assert first == again
    assert len({op["value"] for op in g.invocations(first)}) > 1


def test_random_completions_retire_crashed_processes():
    complete = g.random_completions(11, p_fail=0.2, p_info=0.3)
    h = g.simulate(g.clients(g.limit(60, g.repeat({"f": "w"}))), concurrency=3,
                   complete=complete)
    again = g.simulate(g.clients(g.limit(60, g.repeat({"f": "w"}))), concurrency=3,
                       complete=g.random_completions(11, p_fail=0.2, p_info=0.3))
    assert h == again
    types = {op["type"] for op in h}
    assert {"ok", "fail", "info"} <= types
    crashes = [(i, op["process"]) for i, op in enumerate(h) if op["type"] == "info"]
    for i, p in crashes:
        # The thread continues as p + concurrency; p itself never invokes again.
        later = [op["process"] for op in g.invocations(h[i + 1:]) if op["process"] % 3 == p % 3]
        assert p not in later
        assert later == [] or later[0] == p + 3
    assert any(op["process"] >= 3 for op in g.invocations(h))
    validate([Op.from_dict({**op, "index": i}) for i, op in enumerate(h)])


# --- updates and stuck generators ----------------------------------------------------------

@dataclass(frozen=True)
class UntilOk(g.Generator):
    """Test generator: writes until one write completes ok (needs updates to stop)."""

    done: bool = False

    def op(self, test, ctx):
        if self.done:
            return None
        op = g.fill_in_op({"f": "write"}, ctx)
        return op if op is None or op is g.PENDING else (op, self)

    def update(self, test, ctx, event):
        return UntilOk(True) if event["type"] == "ok" else self


def test_updates_reach_generators_through_combinators():
    complete = g.random_completions(3, p_fail=0.6, p_info=0.0)
    h = g.simulate(g.clients(g.limit(100, UntilOk())), concurrency=1, nemesis=False,
                   complete=complete)
    assert h[-1]["type"] == "ok"
    assert [op["type"] for op in h].count("ok") == 1
    assert len(h) > 2  # at least one failure came first with this seed


def test_a_generator_pending_forever_is_an_error():
    @dataclass(frozen=True)
    class Stuck(g.Generator):
        def op(self, test, ctx):
            return g.PENDING

    with pytest.raises(GeneratorError, match="pending with nothing in flight"):
        g.simulate(Stuck(), concurrency=1)


def test_a_generator_restricted_to_no_threads_is_empty_not_stuck():
    # The nemesis thread's copy of each_thread(clients(...)) has no thread it may use.
    h = g.simulate(g.each_thread(g.clients({"f": "read"})), concurrency=1)
    assert inv(h) == [(0, "read", 0)]
    assert g.simulate(g.clients(lambda: {"f": "read"}), concurrency=0) == []
