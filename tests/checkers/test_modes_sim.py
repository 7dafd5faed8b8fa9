"""The composed per-mode checkers judged on simulated executions with known verdicts:
a linearizable single-copy store (what MRSC promises) and an async last-writer-wins
multi-region store with replication delay, skewed clocks and a cut link."""

import pytest

from checkers.modes import anomaly_summary, checker_for
from suite.errors import BadInput
from tests.checkers.build import History
from tests.checkers.simulate import REGIONS, simulate, simulate_with_versions

TEST = {"regions": list(REGIONS)}
CUT = [("us-east-1", "us-east-2", 200, 600)]
WORKLOADS = ("register", "counter", "set")


def verdicts(result):
    return {k: v["valid"] for k, v in result.items() if isinstance(v, dict)}


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_linearizable_store_passes_mrsc(workload, seed):
    ops = simulate(store="linearizable", workload=workload, seed=seed, conflict_p=0.05,
                   crash_p=0.05, isolations=[("us-west-2", 300, 600)])
    r = checker_for("strong", workload).check(TEST, ops, {})
    assert r["valid"] is True, (verdicts(r), anomaly_summary(r))
    assert anomaly_summary(r) == {}
    if workload == "register":
        assert r["linearizability"]["linearizability"]["valid"] is True
    rows = r["availability"]["regions"]["us-west-2"]
    isolated = [row for row in rows if row["fault"] and "isolate" in row["fault"]]
    # The rows hold the isolation while it is possibly in force: from its injection's
    # invocation (half a ms before the simulated store isolates) until the heal is
    # answered (half a ms after it ends); what succeeded there began in those margins.
    from results.history import pair
    from tests.checkers.simulate import MS
    margins = [p for p in pair(ops) if p.invoke.process != "nemesis" and p.type == "ok"
               and p.invoke.region == "us-west-2" and p.invoke.f != "read"
               and (300 * MS - MS // 2 <= p.invoke.time < 300 * MS
                    or 600 * MS <= p.invoke.time < 600 * MS + MS // 2)]
    assert isolated and all(not row["expected_available"] for row in isolated)
    assert sum(row["ok"] for row in isolated) <= len(margins) + sum(
        1 for p in pair(ops) if p.invoke.process != "nemesis" and p.type == "ok"
        and p.invoke.region == "us-west-2" and p.invoke.f == "read"
        and (300 * MS - MS // 2 <= p.invoke.time < 300 * MS
             or 600 * MS <= p.invoke.time < 600 * MS + MS // 2))


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_async_store_passes_async_promises_and_fails_mrsc(workload, seed):
    skew = {"us-east-2": -30} if seed % 2 else {}
    ops, versions = simulate_with_versions(store="async", workload=workload, seed=seed,
                                           crash_p=0.05, cuts=CUT, skew_ms=skew)
    r = checker_for("async", workload, linearizability=False).check(
        TEST, ops, {"versions": versions})
    assert r["valid"] is True, (verdicts(r), anomaly_summary(r))
    summary = anomaly_summary(r)
    assert summary and all(row["violations"] == 0 for row in summary.values())
    assert summary["stale-read"]["expected"] > 0   # the cut makes staleness certain
    if workload == "counter":
        assert summary["lost-increment"]["expected"] > 0
    strong = checker_for("strong", workload).check(TEST, ops, {})
    assert strong["valid"] is False
    assert any(row["violations"] for row in anomaly_summary(strong).values())
    if workload == "register":
        assert strong["linearizability"]["valid"] is False
        assert anomaly_summary(strong)["nonlinearizable"]["violations"] > 0


def test_async_register_shows_no_relay_and_lww_uses_versions():
    found = 0
    for seed in range(6):
        ops, versions = simulate_with_versions(store="async", workload="register", seed=seed,
                                               cuts=CUT, read_p=0.7)
        r = checker_for("async", "register", linearizability=False).check(
            TEST, ops, {"versions": versions})
        assert r["valid"] is True
        assert r["last-writer-wins"]["used_versions"] is True
        assert r["last-writer-wins"]["keys_judged"] == 3
        found += anomaly_summary(r).get("no-relay", {}).get("expected", 0)
    assert found > 0


def test_async_store_with_tampered_final_state_fails():
    ops, versions = simulate_with_versions(store="async", workload="register", seed=5,
                                           cuts=CUT)
    # a region reports a different winner than the one its final read returned
    region, per = next(iter(versions.items()))
    key = next(iter(per))
    versions[region][key] = {**per[key], "value": -1, "timestamp": 10**30}
    r = checker_for("async", "register", linearizability=False).check(
        TEST, ops, {"versions": versions})
    assert r["valid"] is False and r["last-writer-wins"]["anomaly_counts"] == {"lww-winner": 1}


def test_same_seed_same_history():
    a = simulate(store="async", workload="set", seed=9, cuts=CUT)
    b = simulate(store="async", workload="set", seed=9, cuts=CUT)
    assert [o.to_dict() for o in a] == [o.to_dict() for o in b]
    c = simulate(store="async", workload="set", seed=10, cuts=CUT)
    assert [o.to_dict() for o in a] != [o.to_dict() for o in c]


def test_checker_for_rejects_unknown_names():
    with pytest.raises(BadInput, match="unknown mode"):
        checker_for("eventual", "register")
    with pytest.raises(BadInput, match="no checkers for workload"):
        checker_for("async", "bank")


def test_checker_sets_per_mode():
    assert set(checker_for("strong", "register").checkers) == {
        "linearizability", "sc-reads", "ec-reads", "failed-writes", "convergence",
        "availability", "latency"}
    assert set(checker_for("async", "register").checkers) == {
        "monotonic-reads", "read-your-writes", "never-written", "failed-writes",
        "last-writer-wins", "lww-model", "stale-reads", "no-relay",
        "linearizability-violations", "convergence", "availability", "latency"}
    assert set(checker_for("async", "counter").checkers) == {
        "counter", "stale-reads", "lost-increments", "convergence", "availability",
        "latency"}
    assert set(checker_for("async", "set").checkers) == {
        "set", "stale-reads", "lost-adds", "convergence", "availability", "latency"}


def test_promise_views_split_one_computation():
    h = (History().write("k", 0, 5, 1, region="us-east-2")
         .write("k", 10, 15, 2, region="us-east-2").read("k", 20, 22, 1, region="us-east-2")
         .read("k", 30, 31, 99, region="us-east-1"))
    r = checker_for("async", "register").check(TEST, h.ops(), {})
    assert r["read-your-writes"]["valid"] is False
    assert r["read-your-writes"]["anomaly_counts"] == {"read-your-writes": 1}
    assert r["monotonic-reads"]["valid"] is True
    assert r["monotonic-reads"]["anomaly_counts"] == {}
    assert r["never-written"]["anomaly_counts"] == {"unwritten-value": 1}
    assert r["failed-writes"]["valid"] is True
    assert r["stale-reads"]["valid"] is True and r["valid"] is False
    assert set(checker_for("strong", "set").checkers) == {
        "linearizability", "set", "convergence", "availability", "latency"}


@pytest.mark.parametrize("workload", WORKLOADS)
def test_results_are_json_data(workload):
    import json
    for store, mode in (("async", "strong"), ("async", "async"), ("linearizable", "strong")):
        ops, versions = simulate_with_versions(store=store, workload=workload, seed=7,
                                               cuts=CUT if store == "async" else [])
        r = checker_for(mode, workload).check(TEST, ops, {"versions": versions})
        assert json.loads(json.dumps(r))["valid"] == r["valid"]


def test_malformed_values_make_a_checker_unknown_not_a_crash():
    h = History().op("add", "c", 0, 5, value=1).read("c", 10, 11, "seven")
    r = checker_for("strong", "counter").check(TEST, h.ops(), {})
    assert r["counter"]["valid"] == "unknown"
    assert "counter value is not a number: 'seven'" in r["counter"]["error"]
    # no counter state is "seven": the linearizability search says so
    assert r["linearizability"]["valid"] is False and r["valid"] is False


def test_checkers_for_plugs_into_the_harness_compose_with_stats():
    from checkers.core import compose
    from checkers.modes import checkers_for
    from checkers.stats import stats
    ops = simulate(store="linearizable", workload="counter", seed=4)
    named = dict(checkers_for("strong", "counter"))
    named.setdefault("stats", stats)
    r = compose(named).check(TEST, ops, {})
    assert r["valid"] is True and r["stats"]["valid"] is True
    assert set(r) == {"valid", "linearizability", "counter", "convergence", "availability",
                      "latency", "stats"}
