"""Each anomaly class: a minimal history that has it and a near-identical one that does
not (Adya's and Elle's canonical examples), with verdict, name and explanation; then
generated histories: a strictly serializable simulator is never flagged, and one planted
anomaly of each class is always flagged and named."""

import random

import pytest

from checkers.elle import check, simulate, txn

OK, FAIL = "ok", "fail"


def hist(*steps, concurrent=()):
    """Transactions as (process, type, mops); each runs alone, one after another, except
    those whose positions are grouped in `concurrent` (their intervals overlap)."""
    ops, t = [], 0
    groups = {i: g for g in concurrent for i in g}
    done = set()
    for i, (p, typ, mops) in enumerate(steps):
        if i in done:
            continue
        group = groups.get(i, (i,))
        for j in group:
            ops.append({"type": "invoke", "process": steps[j][0], "time": t,
                        "value": [[f, k, None if f == "r" else v] for f, k, v in steps[j][2]]})
        t += 1
        for j in group:
            p2, typ2, mops2 = steps[j]
            ops.append({"type": typ2, "process": p2, "time": t,
                        "value": [list(m) for m in mops2]})
            done.add(j)
        t += 1
    for i, op in enumerate(ops):
        op["index"] = i
    return txn.pair(ops)


def judge(txns, workload="list-append", **kw):
    return check.check(txns, workload, **kw)


A = "append"
PAIRS = {
    # name: (history with it, the near-identical one without it, words the explanation has)
    "G0": (hist((0, OK, [(A, "x", 1), (A, "y", 1)]), (1, OK, [(A, "x", 2), (A, "y", 2)]),
                (2, OK, [("r", "x", [1, 2]), ("r", "y", [2, 1])]), concurrent=[(0, 1)]),
           hist((0, OK, [(A, "x", 1), (A, "y", 1)]), (1, OK, [(A, "x", 2), (A, "y", 2)]),
                (2, OK, [("r", "x", [1, 2]), ("r", "y", [1, 2])]), concurrent=[(0, 1)]),
           ["ww", "right after"]),
    "G1a": (hist((0, FAIL, [(A, "x", 1)]), (1, OK, [("r", "x", [1])])),
            hist((0, OK, [(A, "x", 1)]), (1, OK, [("r", "x", [1])])),
            ["failed", "T1"]),
    "G1b": (hist((0, OK, [(A, "x", 1), (A, "x", 2)]), (1, OK, [("r", "x", [1])]),
                 concurrent=[(0, 1)]),
            hist((0, OK, [(A, "x", 1), (A, "x", 2)]), (1, OK, [("r", "x", [1, 2])]),
                 concurrent=[(0, 1)]),
            ["intermediate", "ending in 1"]),
    "G1c": (hist((0, OK, [(A, "x", 1), ("r", "y", [1])]),
                 (1, OK, [(A, "y", 1), ("r", "x", [1])]), concurrent=[(0, 1)]),
            hist((0, OK, [(A, "x", 1), ("r", "y", [1])]),
                 (1, OK, [(A, "y", 1), ("r", "x", [])]), concurrent=[(0, 1)]),
            ["wr:"]),
    "G-single-item": (hist((0, OK, [(A, "x", 1), (A, "y", 1)]),
                           (1, OK, [("r", "x", [1]), ("r", "y", [])]), concurrent=[(0, 1)]),
                      hist((0, OK, [(A, "x", 1), (A, "y", 1)]),
                           (1, OK, [("r", "x", [1]), ("r", "y", [1])]), concurrent=[(0, 1)]),
                      ["rw:", "wr:", "initial empty state of key y"]),
    "G2-item": (hist((0, OK, [("r", "x", []), (A, "y", 1)]),
                     (1, OK, [("r", "y", []), (A, "x", 1)]), concurrent=[(0, 1)]),
                hist((0, OK, [("r", "x", []), (A, "y", 1)]),
                     (1, OK, [("r", "y", [1]), (A, "x", 1)]), concurrent=[(0, 1)]),
                ["rw:"]),
    "lost-update": (hist((0, OK, [(A, "x", 0)]), (1, OK, [("r", "x", [0]), (A, "x", 1)]),
                         (2, OK, [("r", "x", [0]), (A, "x", 2)]), concurrent=[(1, 2)]),
                    hist((0, OK, [(A, "x", 0)]), (1, OK, [("r", "x", [0]), (A, "x", 1)]),
                         (2, OK, [("r", "x", [0, 1]), (A, "x", 2)])),
                    ["same version [0]"]),
    "duplicate-elements": (hist((0, OK, [(A, "x", 1)]), (1, OK, [("r", "x", [1, 1])])),
                           hist((0, OK, [(A, "x", 1)]), (1, OK, [("r", "x", [1])])),
                           ["more than once"]),
    "internal": (hist((0, OK, [(A, "x", 1), ("r", "x", [])]), (1, OK, [("r", "x", [1])])),
                 hist((0, OK, [(A, "x", 1), ("r", "x", [1])]), (1, OK, [("r", "x", [1])])),
                 ["its own earlier reads and writes"]),
    "incompatible-order": (hist((0, OK, [(A, "x", 1)]), (1, OK, [(A, "x", 2)]),
                                (2, OK, [("r", "x", [1, 2])]), (3, OK, [("r", "x", [2, 1])]),
                                concurrent=[(0, 1), (2, 3)]),
                           hist((0, OK, [(A, "x", 1)]), (1, OK, [(A, "x", 2)]),
                                (2, OK, [("r", "x", [1, 2])]), (3, OK, [("r", "x", [1, 2])]),
                                concurrent=[(0, 1), (2, 3)]),
                           ["two different timelines"]),
    "future-read": (hist((0, OK, [("r", "x", [1]), (A, "x", 1)]), (1, OK, [("r", "x", [1])])),
                    hist((0, OK, [("r", "x", []), (A, "x", 1)]), (1, OK, [("r", "x", [1])])),
                    ["only appends later"]),
    "dirty-update": (hist((0, FAIL, [(A, "x", 1)]), (1, OK, [(A, "x", 2)]),
                          (2, OK, [("r", "x", [1, 2])])),
                     hist((0, OK, [(A, "x", 1)]), (1, OK, [(A, "x", 2)]),
                          (2, OK, [("r", "x", [1, 2])])),
                     ["failed transaction"]),
    "G-single-item-realtime": (hist((0, OK, [(A, "x", 1)]), (1, OK, [("r", "x", [])])),
                               hist((0, OK, [(A, "x", 1)]), (1, OK, [("r", "x", [1])])),
                               ["realtime:", "completed before"]),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_minimal_history_has_it_and_its_twin_does_not(name):
    bad, good, words = PAIRS[name]
    res = judge(bad)
    assert res["valid"] is False, res
    assert name in res["anomaly_types"], res["anomaly_types"]
    sentences = [s for s in res["explanations"] if s.startswith(name)]
    assert sentences, res["explanations"]
    for w in words:
        assert any(w in s for s in sentences), (w, sentences)
    twin = judge(good)
    assert twin["valid"] is True, twin
    assert twin["anomaly_types"] == []


def test_realtime_anomaly_is_allowed_by_serializable_but_not_strict():
    stale, _, _ = PAIRS["G-single-item-realtime"]
    assert judge(stale, consistency_models=["serializable"])["valid"] is True
    strict = judge(stale)
    assert strict["valid"] is False
    assert strict["strongest_consistent"] == "serializable"
    assert strict["weakest_violated"] == "strict-serializable"


def test_verdict_names_strongest_consistent_and_weakest_violated_models():
    skew, _, _ = PAIRS["G2-item"]
    res = judge(skew, consistency_models=["snapshot-isolation"])
    assert res["valid"] is True  # write skew is allowed by snapshot isolation
    assert res["strongest_consistent"] == "snapshot-isolation"
    assert res["weakest_violated"] == "serializable"
    dirty, _, _ = PAIRS["G1b"]
    res = judge(dirty, consistency_models=["read-uncommitted"])
    assert res["valid"] is True and res["weakest_violated"] == "read-committed"


def test_rw_register_cyclic_versions_from_process_order():
    # each process writes, then reads the other's value: no single version order
    h = hist((1, OK, [("w", "x", 100)]), (2, OK, [("w", "x", 200)]),
             (1, OK, [("r", "x", 200)]), (2, OK, [("r", "x", 100)]),
             concurrent=[(0, 1), (2, 3)])
    res = judge(h, "rw-register", sequential_keys=True)
    assert res["valid"] is False and "cyclic-versions" in res["anomaly_types"]
    assert judge(h, "rw-register")["valid"] is True  # no order inferred without it


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("workload", ["list-append", "rw-register"])
def test_serializable_simulator_is_never_flagged(seed, workload):
    h = simulate.serializable(random.Random(seed), 600, workload=workload, keys=5,
                              info_rate=0.05, fail_rate=0.05)
    res = judge(h, workload)
    assert res["valid"] is True, res["anomaly_types"]
    assert res["edges"] > 600  # the history was really tested


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", simulate.KINDS)
def test_planted_anomaly_is_always_flagged_and_named(kind, seed):
    rng = random.Random(seed)
    base = simulate.serializable(rng, 400, keys=5)
    h, name = simulate.plant(kind, base, rng)
    assert judge(base)["valid"] is True  # the anomaly is the planted one
    res = judge(h)
    assert res["valid"] is False
    assert name in res["anomaly_types"], (name, res["anomaly_types"])
    planted = {("planted-" + kind, k) for k in ("x", "y")}
    for case in res["anomalies"][name]:  # found on the planted keys
        if isinstance(case, dict) and "steps" in case:
            assert {s["key"] for s in case["steps"] if "key" in s} <= planted
        elif isinstance(case, dict) and "key" in case:
            assert case["key"] in planted
        elif isinstance(case, dict) and "mop" in case:
            assert case["mop"][1] in planted


def test_each_named_target_says_what_it_forbids():
    from checkers.elle import models
    f = {m: set(models.forbids(m)) for m in models.ALL_TARGETS}
    # (garbage-read, a read of a value nobody wrote: no model admits it)
    assert f["read-uncommitted"] == {"G0", "duplicate-elements", "cyclic-versions",
                                     "garbage-read", "reordered-appends"}
    # Adya: PL-2 (read committed) adds G1a, G1b, G1c to PL-1
    assert f["read-committed"] - f["read-uncommitted"] >= {"G1a", "G1b", "G1c",
                                                          "incompatible-order",
                                                          "dirty-update", "future-read"}
    assert "G-single-item" in f["snapshot-isolation"]
    assert "G2-item" not in f["snapshot-isolation"]  # write skew is allowed by SI
    assert f["serializable"] - f["snapshot-isolation"] >= {"G2-item"}
    assert not any(a.endswith("-realtime") for a in f["serializable"])
    assert {"G-single-item-realtime", "G1c-realtime"} <= f["strict-serializable"]
    assert f["serializable-in-writing-region"] == f["serializable"]
    # each is stronger than the one before it
    chain = list(models.TARGETS)
    for weaker, stronger in zip(chain, chain[1:]):
        assert f[weaker] < f[stronger], (weaker, stronger)


def test_a_search_out_of_budget_is_reported_not_hidden():
    rng = random.Random(3)
    h, _ = simulate.plant("G2-item", simulate.serializable(rng, 200, keys=4), rng)
    res = check.check(h, "list-append", budget=0)
    assert "cycle-search-timeout" in res["anomaly_types"]
    assert res["valid"] is not True
    assert any(s.startswith("cycle-search-timeout") for s in res["explanations"])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", simulate.RW_KINDS)
def test_planted_rw_register_anomaly_is_always_flagged_and_named(kind, seed):
    rng = random.Random(seed)
    base = simulate.serializable(rng, 400, workload="rw-register", keys=5)
    h, name = simulate.plant(kind, base, rng, workload="rw-register")
    res = judge(h, "rw-register")
    assert res["valid"] is False
    assert name in res["anomaly_types"], (name, res["anomaly_types"])
    assert judge(base, "rw-register")["valid"] is True


def test_a_weaker_check_vouches_for_no_stronger_model():
    stale, fresh, _ = PAIRS["G-single-item-realtime"]
    res = judge(fresh, consistency_models=["serializable"])
    assert res["valid"] is True and res["strongest_consistent"] == "serializable"
    assert judge(fresh)["strongest_consistent"] == "strict-serializable"
