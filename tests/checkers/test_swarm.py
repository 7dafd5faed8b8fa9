"""Swarm tests: random simulation parameters per example (crash, conflict, read and EC
rates, cut windows, clock skew), each a deterministic seeded run. A linearizable store must
always satisfy every MRSC promise, an async LWW store every async promise; a failing
example prints its parameters, which reproduce it exactly."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkers.modes import anomaly_summary, checker_for
from tests.checkers.simulate import REGIONS, simulate, simulate_with_versions

TEST = {"regions": list(REGIONS)}
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

common = dict(
    workload=st.sampled_from(["register", "counter", "set"]),
    seed=st.integers(0, 10_000),
    read_p=st.sampled_from([0.3, 0.5, 0.7]),
    ec_p=st.sampled_from([0.0, 0.3, 0.8]),
    crash_p=st.sampled_from([0.0, 0.05, 0.2]),
    keys=st.integers(1, 4),
)


@pytest.mark.slow
@SETTINGS
@given(conflict_p=st.sampled_from([0.0, 0.1]), isolated=st.sampled_from([None, *REGIONS]),
       **common)
def test_linearizable_store_always_satisfies_mrsc(workload, seed, read_p, ec_p, crash_p, keys,
                                                  conflict_p, isolated):
    ops = simulate(store="linearizable", workload=workload, seed=seed, read_p=read_p,
                   ec_p=ec_p, crash_p=crash_p, keys=keys, duration_ms=400,
                   conflict_p=conflict_p,
                   isolations=[(isolated, 100, 250)] if isolated else [])
    r = checker_for("strong", workload).check(TEST, ops, {})
    assert r["valid"] is True, anomaly_summary(r)


@pytest.mark.slow
@SETTINGS
@given(cut=st.sampled_from([None, ("us-east-1", "us-east-2"), ("us-east-2", "us-west-2")]),
       skew=st.sampled_from([0, -40, 25]), replication_ms=st.sampled_from([5, 40, 150]),
       **common)
def test_async_store_always_satisfies_async_promises(workload, seed, read_p, ec_p, crash_p,
                                                     keys, cut, skew, replication_ms):
    ops, versions = simulate_with_versions(
        store="async", workload=workload, seed=seed, read_p=read_p, ec_p=ec_p,
        crash_p=crash_p, keys=keys, duration_ms=400, replication_ms=replication_ms,
        cuts=[(*cut, 100, 300)] if cut else [], skew_ms={"us-west-2": skew} if skew else {})
    r = checker_for("async", workload).check(TEST, ops, {"versions": versions})
    assert r["valid"] is True, anomaly_summary(r)
    assert all(row["violations"] == 0 for row in anomaly_summary(r).values())
