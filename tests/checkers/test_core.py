"""The checker protocol: compose's verdict order, the safety wrapper, merge_valid."""

from __future__ import annotations

from checkers.core import Checker, FnChecker, as_checker, compose, merge_valid, safe


def const(valid, **extra):
    return lambda test, history, opts: {"valid": valid, **extra}


def test_merge_valid_ranks_false_over_unknown_over_true():
    assert merge_valid([]) is True
    assert merge_valid([True, True]) is True
    assert merge_valid([True, "unknown"]) == "unknown"
    assert merge_valid(["unknown", False, True]) is False
    assert merge_valid([True, "weird"]) == "unknown"  # anything else counts as unknown


def test_compose_keeps_each_result_and_merges_the_verdict():
    c = compose({"a": const(True, n=1), "b": const("unknown"), "c": const(True)})
    r = c.check({}, [], {})
    assert r["valid"] == "unknown"
    assert r["a"]["valid"] is True and r["a"]["n"] == 1
    assert set(r) == {"valid", "a", "b", "c"}
    assert compose({"x": const(False), "y": const("unknown")}).check({}, [], {})["valid"] is False


def test_a_checker_that_raises_is_unknown_with_the_error():
    def boom(test, history, opts):
        raise KeyError("missing key")

    r = safe(boom).check({}, [], {})
    assert r["valid"] == "unknown"
    assert r["error"] == "KeyError: 'missing key'" and "boom" in r["traceback"]
    r = compose({"ok": const(True), "boom": boom}).check({}, [], {})
    assert r["valid"] == "unknown" and r["ok"]["valid"] is True


def test_a_checker_with_a_bad_verdict_is_unknown():
    r = safe(const("maybe")).check({}, [], {})
    assert r["valid"] == "unknown" and "valid='maybe'" in r["error"]


def test_checkers_receive_test_history_and_opts():
    seen = []
    c = FnChecker(lambda t, h, o: seen.append((t, h, o)) or {"valid": True}, name="spy")
    assert isinstance(c, Checker) and repr(c) == "FnChecker(spy)"
    compose({"spy": c}).check({"seed": 1}, ["op"], {"versions": {}})
    assert seen == [({"seed": 1}, ["op"], {"versions": {}})]
    s = safe(c)
    assert as_checker(c) is c and safe(s) is s
    assert "seconds" in safe(c).check({}, [], {})


def test_a_checker_with_nothing_to_judge_is_left_out_of_the_verdict():
    """`not_judged` (what the promise speaks of never happened, e.g. A10 without a cut
    link): it neither lowers the composed verdict nor stands as evidence for it."""
    from checkers.core import merge_results, not_judged
    nothing = not_judged("no link was cut")
    assert nothing["valid"] == "unknown" and nothing["reason"] == "not judged: no link was cut"
    held = {"valid": True}
    assert merge_results([held, nothing]) is True
    assert merge_results([nothing]) == "unknown"            # VALID needs evidence
    assert merge_results([nothing, {"valid": "unknown"}]) == "unknown"
    assert merge_results([held, {"valid": False, "judged": False}]) is False  # a violation counts
    assert merge_results([]) is True                        # as merge_valid([])
    both = compose({"a": lambda t, h, o: {"valid": True},
                    "b": lambda t, h, o: not_judged("nothing")}).check({}, [], {})
    assert both["valid"] is True and both["b"]["judged"] is False
    alone = compose({"b": lambda t, h, o: not_judged("nothing")}).check({}, [], {})
    assert alone["valid"] == "unknown"


def test_run_conditions_apply_the_same_rule():
    from suite.core import apply_run_conditions
    res = {"valid": True, "run": {}, "checkers": {
        "no-relay": {"valid": "unknown", "judged": False, "reason": "not judged: no cut"},
        "convergence": {"valid": True}}}
    apply_run_conditions(res)
    assert res["valid"] is True
    res["checkers"].pop("convergence")
    apply_run_conditions(res)
    assert res["valid"] == "unknown"
