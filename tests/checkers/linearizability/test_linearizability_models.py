"""Unit tests of the models and of `check` on small hand-written histories.

Each history is written as (process, type, f, value[, key]) events in real-time order, so
the expected verdict can be argued by hand in the comment next to it.
"""

import pytest

from checkers.linearizability import MODELS, Model, check, checker, get_model, to_calls
from checkers.linearizability.models import Call
from results.history import Op
from suite.errors import BadInput


def H(*events, key="k"):
    ops = []
    for i, ev in enumerate(events):
        p, t, f, v = ev[:4]
        k = ev[4] if len(ev) > 4 else key
        err = "ConditionalCheckFailed" if (t == "fail" and f == "cas") else None
        ops.append(Op(index=i, time=i, type=t, process=p, f=f, key=k, value=v, error=err))
    return ops


def test_models_by_name_and_unknown_name():
    assert set(MODELS) == {"register", "cas-register", "counter", "set", "kv"}
    assert get_model("register") is MODELS["register"]
    with pytest.raises(BadInput, match="unknown model"):
        get_model("queue")


def test_sequential_register_reads_last_write():
    ok = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
           (1, "invoke", "read", None), (1, "ok", "read", 1))
    assert check(ok, "register")["valid"] is True
    stale = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
              (0, "invoke", "write", 2), (0, "ok", "write", 2),
              (1, "invoke", "read", None), (1, "ok", "read", 1))
    r = check(stale, "register")
    assert r["valid"] is False
    ce = r["counterexample"]
    assert ce["key"] == "k" and ce["op"] == 4
    assert ce["prefix"] == [0, 2] and ce["states"] == ["2"]
    assert ce["concurrent"] == [] and "cannot be linearized" in ce["explanation"]


def test_concurrent_read_may_see_either_value():
    # the read overlaps the write of 2: both 1 and 2 are fine, 3 is not
    for seen, want in ((1, True), (2, True), (3, False)):
        h = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
              (0, "invoke", "write", 2), (1, "invoke", "read", None),
              (1, "ok", "read", seen), (0, "ok", "write", 2))
        assert check(h, "register")["valid"] is want, seen


def test_register_starts_at_initial():
    h = H((1, "invoke", "read", None), (1, "ok", "read", 7))
    assert check(h, "register")["valid"] is False
    assert check(h, "register", initial=7)["valid"] is True


def test_info_write_stays_open_to_the_end():
    # the crashed write of 2 may take effect at any point after its invocation, even
    # long after its (info) completion
    h = H((0, "invoke", "write", 2), (0, "info", "write", 2),
          (1, "invoke", "read", None), (1, "ok", "read", None),
          (1, "invoke", "read", None), (1, "ok", "read", 2),
          (1, "invoke", "read", None), (1, "ok", "read", 2))
    assert check(h, "register")["valid"] is True
    # but once seen, it cannot be unseen
    h2 = H((0, "invoke", "write", 2), (0, "info", "write", 2),
           (1, "invoke", "read", None), (1, "ok", "read", 2),
           (1, "invoke", "read", None), (1, "ok", "read", None))
    assert check(h2, "register")["valid"] is False


def test_failed_write_did_not_happen():
    h = H((0, "invoke", "write", 2), (0, "fail", "write", 2),
          (1, "invoke", "read", None), (1, "ok", "read", 2))
    assert check(h, "register")["valid"] is False


def test_failed_cas_is_a_read_that_the_compare_did_not_match():
    base = [(0, "invoke", "write", 1), (0, "ok", "write", 1)]
    # cas [1 3] failed while the register surely held 1: impossible
    assert check(H(*base, (1, "invoke", "cas", [1, 3]), (1, "fail", "cas", [1, 3])),
                 "cas-register")["valid"] is False
    # cas [2 3] failed: fine (the register held 1)
    assert check(H(*base, (1, "invoke", "cas", [2, 3]), (1, "fail", "cas", [2, 3])),
                 "cas-register")["valid"] is True
    # an ok cas [2 3] is impossible, an ok cas [1 3] moves the register to 3
    assert check(H(*base, (1, "invoke", "cas", [2, 3]), (1, "ok", "cas", [2, 3])),
                 "cas-register")["valid"] is False
    assert check(H(*base, (1, "invoke", "cas", [1, 3]), (1, "ok", "cas", [1, 3]),
                   (1, "invoke", "read", None), (1, "ok", "read", 3)),
                 "cas-register")["valid"] is True


def test_cas_failed_for_another_reason_changed_nothing_and_says_nothing():
    ops = [Op(0, 0, "invoke", 0, "write", "k", 1), Op(1, 1, "ok", 0, "write", "k", 1),
           Op(2, 2, "invoke", 1, "cas", "k", [1, 3]),
           Op(3, 3, "fail", 1, "cas", "k", [1, 3], error="ReplicatedWriteConflict")]
    assert check(ops, "cas-register")["valid"] is True


def test_crashed_cas_may_or_may_not_have_happened():
    base = [(0, "invoke", "write", 1), (0, "ok", "write", 1),
            (1, "invoke", "cas", [1, 5]), (1, "info", "cas", [1, 5])]
    for seen in (1, 5):
        assert check(H(*base, (2, "invoke", "read", None), (2, "ok", "read", seen)),
                     "cas-register")["valid"] is True
    assert check(H(*base, (2, "invoke", "read", None), (2, "ok", "read", 4)),
                 "cas-register")["valid"] is False


def test_crashed_write_observed_only_by_a_failed_cas_is_kept():
    # the failed cas [1 2] can only be explained by the crashed write of 9 having happened
    h = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
          (1, "invoke", "write", 9), (1, "info", "write", 9),
          (2, "invoke", "cas", [1, 2]), (2, "fail", "cas", [1, 2]))
    assert check(h, "cas-register")["valid"] is True
    # without the crashed write it is not linearizable
    h2 = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
           (2, "invoke", "cas", [1, 2]), (2, "fail", "cas", [1, 2]))
    assert check(h2, "cas-register")["valid"] is False


def test_register_rejects_cas_and_bad_cas_values():
    with pytest.raises(BadInput, match="no operation 'cas'"):
        check(H((0, "invoke", "cas", [1, 2]), (0, "ok", "cas", [1, 2])), "register")
    with pytest.raises(BadInput, match=r"needs value \[old, new\]"):
        check(H((0, "invoke", "cas", 3), (0, "ok", "cas", 3)), "cas-register")


def test_counter_info_add_contributes_zero_or_its_amount():
    base = [(0, "invoke", "add", 1), (0, "ok", "add", 1),
            (1, "invoke", "add", 10), (1, "info", "add", 10)]
    for seen, want in ((1, True), (11, True), (10, False), (12, False)):
        h = H(*base, (2, "invoke", "read", None), (2, "ok", "read", seen))
        assert check(h, "counter")["valid"] is want, seen
    # a failed add contributes nothing
    h = H((0, "invoke", "add", 4), (0, "fail", "add", 4),
          (2, "invoke", "read", None), (2, "ok", "read", 4))
    assert check(h, "counter")["valid"] is False


def test_set_reads_the_whole_set():
    h = H((0, "invoke", "add", 1), (0, "ok", "add", 1),
          (1, "invoke", "add", 2), (2, "invoke", "read", None), (2, "ok", "read", [1]),
          (1, "ok", "add", 2), (2, "invoke", "read", None), (2, "ok", "read", [2, 1]))
    assert check(h, "set")["valid"] is True
    lost = H((0, "invoke", "add", 1), (0, "ok", "add", 1),
             (2, "invoke", "read", None), (2, "ok", "read", []))
    assert check(lost, "set")["valid"] is False


def test_kv_per_key_and_whole_map_agree():
    h = H((0, "invoke", "append", "x", "a"), (0, "ok", "append", "x", "a"),
          (1, "invoke", "put", "y", "b"), (1, "ok", "put", "y", "b"),
          (0, "invoke", "append", "z", "a"), (0, "ok", "append", "z", "a"),
          (2, "invoke", "get", None, "a"), (2, "ok", "get", "xz", "a"),
          (2, "invoke", "get", None, "b"), (2, "ok", "get", "y", "b"))
    assert check(h, "kv")["valid"] is True
    assert check(h, "kv", partition=False)["valid"] is True
    bad = h[:-1] + [h[-1].replace(value="")]
    r = check(bad, "kv")
    assert r["valid"] is False and r["invalid_keys"] == ["b"] and r["keys"] == 2
    assert check(bad, "kv", partition=False)["valid"] is False


def test_partition_by_key_checks_keys_independently():
    # per key each read is fine; mixing keys in one register would not be
    h = H((0, "invoke", "write", 1, "a"), (0, "ok", "write", 1, "a"),
          (1, "invoke", "write", 2, "b"), (1, "ok", "write", 2, "b"),
          (2, "invoke", "read", None, "a"), (2, "ok", "read", 1, "a"))
    r = check(h, "register")
    assert r["valid"] is True and r["keys"] == 2
    assert check(h, "register", partition=False)["valid"] is True


def test_timeout_gives_unknown_never_a_guess():
    from checkers.linearizability.simulate import simulate
    import random
    ops = simulate("cas-register", 3000, random.Random(3), concurrency=30, values=3)
    r = check(ops, "cas-register", timeout=1e-9)
    assert r["valid"] == "unknown" and r["reason"] == "timeout"
    with pytest.raises(BadInput, match="timeout"):
        check(ops, "cas-register", timeout=-1)


def test_empty_history_and_nemesis_ops_are_fine():
    assert check([], "register")["valid"] is True
    ops = [Op(0, 0, "invoke", "nemesis", "isolate", None, {"region": "r"}),
           Op(1, 1, "ok", "nemesis", "isolate", None, {"region": "r"})]
    assert check(ops, "register")["valid"] is True


def test_a_custom_model_object():
    class Toggle(Model):
        """A bit flipped by `flip` and read by `read`."""
        name = "toggle"
        fs = frozenset(("flip", "read"))
        default_initial = False

        def step(self, state, call: Call):
            if call.f == "read":
                return call.out == state, state
            return True, not state

    h = H((0, "invoke", "flip", None), (0, "ok", "flip", None),
          (1, "invoke", "read", None), (1, "ok", "read", True))
    assert check(h, Toggle())["valid"] is True
    assert check(h[:2] + [h[2], h[3].replace(value=False)], Toggle())["valid"] is False


def test_checker_protocol_adapter():
    h = H((0, "invoke", "write", 1), (0, "ok", "write", 1),
          (1, "invoke", "read", None), (1, "ok", "read", 2))
    assert checker("register").check({}, h, {})["valid"] is False
    assert checker("register").check({}, h, {"initial": 2})["valid"] is False


def test_crashed_cas_that_is_a_no_op_now_can_still_take_effect_later():
    # the crashed cas [2 3] does nothing at first (the register is nil), but it stays open
    # and may take effect after the write of 2: the read of 3 needs exactly that
    h = H((0, "invoke", "cas", [2, 3]), (0, "info", "cas", [2, 3]),
          (1, "invoke", "write", 2), (1, "ok", "write", 2),
          (1, "invoke", "read", None), (1, "ok", "read", 3))
    assert check(h, "cas-register")["valid"] is True


def test_worker_processes_give_the_same_result():
    import random
    from checkers.linearizability.simulate import impossible_read, simulate
    ops = simulate("register", 2000, random.Random(5), concurrency=10, keys=8)
    assert check(ops, "register", workers=2)["valid"] is True
    bad = impossible_read(ops, "register", random.Random(6))
    one, two = check(bad, "register"), check(bad, "register", workers=2)
    assert one["valid"] is two["valid"] is False
    assert one["counterexample"] == two["counterexample"]
    assert one["invalid_keys"] == two["invalid_keys"]
    with pytest.raises(BadInput, match="workers"):
        check(ops, "register", workers=0)


def test_the_incrementally_kept_prefix_is_a_legal_linearization():
    """The longest prefix is kept incrementally (only what changed on the stack is
    copied): on invalid histories it must still be a legal sequence in the model that
    respects real time, and a second search from scratch must find the same."""
    import random
    from checkers.linearizability import _search
    from checkers.linearizability.simulate import impossible_read, simulate
    model = get_model("cas-register")
    for seed in range(6):
        ops = simulate("cas-register", 400, random.Random(seed), concurrency=6, keys=1)
        bad = impossible_read(ops, "cas-register", random.Random(seed + 100))
        res = check(bad, "cas-register")
        assert res["valid"] is False
        ce = res["counterexample"]
        calls = {c.index: c for c in (model.prepare(c) for c in to_calls(bad)) if c}
        prefix = [calls[i] for i in ce["prefix"]]
        state = model.init(None)
        for c in prefix:
            ok, state = model.step(state, c)
            assert ok, (seed, c)
        for i, a in enumerate(prefix):
            for b in prefix[i + 1:]:
                assert b.ret_pos is None or b.ret_pos > a.call_pos, (seed, a, b)
        kept = list(calls.values())
        again = _search.search(model, kept, model.init(None), track=True)
        assert [c.index for c in again["prefix"]] == ce["prefix"]


def test_a_model_given_as_plain_functions():
    from types import SimpleNamespace
    # Porcupine style: a struct of pure functions
    toggle = SimpleNamespace(
        name="toggle", init=lambda initial: False,
        step=lambda state, call: ((call.out == state, state) if call.f == "read"
                                  else (True, not state)))
    h = H((0, "invoke", "flip", None), (0, "ok", "flip", None),
          (1, "invoke", "read", None), (1, "ok", "read", True))
    assert check(h, toggle)["valid"] is True
    assert check(h[:3] + [h[3].replace(value=False)], toggle)["valid"] is False
    listy = SimpleNamespace(init=lambda initial: [], step=lambda state, call: (True, [1]))
    with pytest.raises(BadInput, match="init returned an unhashable state"):
        check(h, listy)
    listy.init = lambda initial: ()
    with pytest.raises(BadInput, match="step returned an unhashable state"):
        check(h, listy)


def test_a_sequential_partition_needs_no_search_and_reports_what_the_search_would():
    """Keys whose calls never overlap (and none crashed) have one order: stepping it is
    the verdict. Same verdict, stuck call, prefix and states as the search."""
    import random
    from checkers.linearizability import _search
    model = get_model("cas-register")
    rng = random.Random(4)
    for trial in range(40):
        ops, t, state = [], 0, None
        for i in range(12):
            f = rng.choice(["read", "write", "cas"])
            v = (rng.randrange(3) if f == "write" else
                 [rng.randrange(3), rng.randrange(3)] if f == "cas" else None)
            out = state if f == "read" else v
            if f == "read" and rng.random() < 0.1:
                out = 7  # never written: invalid from here
            typ = "ok"
            if f == "cas":
                typ = "ok" if state == v[0] else "fail"
                if typ == "ok":
                    state = v[1]
            elif f == "write":
                state = v
            ops += [Op(2 * i, t, "invoke", i % 3, f, "k", v),
                    Op(2 * i + 1, t + 1, typ, i % 3, f, "k", out,
                       error="ConditionalCheckFailed" if typ == "fail" else None)]
            t += 2
        calls = [c for c in (model.prepare(c) for c in to_calls(ops)) if c is not None]
        fast = _search.sequential(model, calls, None)
        slow = _search.search(model, calls, None, track=True)
        assert fast is not None and fast["valid"] is slow["valid"], trial
        if fast["valid"] is False:
            assert fast["stuck"] is slow["stuck"]
            assert fast["prefix"] == slow["prefix"] and fast["states"] == slow["states"]
    # overlapping calls or a crashed one: search
    ops = [Op(0, 0, "invoke", 0, "write", "k", 1), Op(1, 1, "invoke", 1, "read", "k", None),
           Op(2, 2, "ok", 0, "write", "k", 1), Op(3, 3, "ok", 1, "read", "k", 1)]
    assert _search.sequential(model, to_calls(ops), None) is None
