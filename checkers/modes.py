"""The full set of checkers for a replication mode and a workload.

`checker_for(mode, workload)` is the one place that says which properties a run is judged
by (SEMANTICS.md; issue 6 item 4): for "strong" (MRSC) the promises are linearizability
and its readable special cases, counter bounds, no lost set adds, EC reads that return
written values and never go back in time, and conflicted writes that stay invisible; for
"async" (MREC) the promises are monotonic reads, read-your-writes, convergence,
last-writer-wins, written values only and failed writes invisible, while stale reads,
lost increments and adds, the no-relay effect and linearizability violations are
reported as expected anomalies. Both modes get convergence of the final reads,
availability judged against the mode, and latency. The result is a `checkers.core.Compose`,
so each checker's exception becomes "unknown" rather than a crash of the run.
"""

from __future__ import annotations

from typing import Any

from checkers import async_props, availability, latency, mrsc
from checkers import observe as ob
from checkers import set as set_checks
from checkers.anomalies import ExpectedAnomalies
from checkers.core import Compose, FnChecker, compose
from checkers.counter import CounterChecker
from suite.errors import BadInput

MODES = ("async", "strong")
WORKLOADS = ("register", "counter", "set")


def checker_for(mode: str, workload: str, *, linearizability_timeout: float | None = 60.0,
                linearizability: bool = True) -> Compose:
    """The composed checkers for `mode` ("async" | "strong") and `workload`."""
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    if workload not in WORKLOADS:
        raise BadInput(f"no checkers for workload {workload!r} "
                       f"(expected one of {', '.join(WORKLOADS)})")
    canon = set_checks.canon if workload == "set" else ob.freeze
    checkers: dict[str, Any] = {}
    if mode == "strong":
        if workload == "register":
            if linearizability:
                checkers["linearizability"] = mrsc.Linearizable(
                    timeout=linearizability_timeout)
            checkers["sc-reads"] = FnChecker(mrsc.sc_reads_check, "sc-reads")
            checkers["ec-reads"] = FnChecker(mrsc.ec_reads_check, "ec-reads")
            checkers["failed-writes"] = FnChecker(mrsc.failed_writes_check, "failed-writes")
        elif workload == "counter":
            checkers["counter"] = CounterChecker("strong")
        else:
            checkers["set"] = set_checks.SetChecker("strong")
    else:
        if workload == "register":
            checkers["region-order"] = FnChecker(async_props.region_order_check,
                                                 "region-order")
            checkers["written-values"] = FnChecker(async_props.written_values_check,
                                                   "written-values")
            checkers["last-writer-wins"] = FnChecker(async_props.lww_check,
                                                     "last-writer-wins")
        elif workload == "counter":
            checkers["counter"] = CounterChecker("async")
        else:
            checkers["set"] = set_checks.SetChecker("async")
        checkers["expected-anomalies"] = ExpectedAnomalies(
            workload, linearizability=linearizability,
            linearizability_timeout=linearizability_timeout)
    checkers["convergence"] = async_props.Convergence(canon)
    checkers["availability"] = availability.AvailabilityChecker(mode)
    checkers["latency"] = FnChecker(latency.latency_check, "latency")
    return compose(checkers)


def anomaly_summary(composed: dict) -> dict[str, dict[str, int]]:
    """Counts per anomaly kind over a composed result, split into violations (promises
    broken) and expected (allowed by the mode): {kind: {"violations", "expected"}}."""
    out: dict[str, dict[str, int]] = {}
    for name, res in composed.items():
        if not isinstance(res, dict):
            continue
        listed = res.get("anomalies") or []
        expected_kinds = {a["kind"]: a["expected"] for a in listed}
        for kind, n in (res.get("anomaly_counts") or {}).items():
            row = out.setdefault(kind, {"violations": 0, "expected": 0})
            row["expected" if expected_kinds.get(kind) else "violations"] += n
    return out
