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

# Every anomaly kind these checkers report, with what it means (for the report and the
# CLI summary). Whether one is a violation or expected is in each anomaly's "expected".
KINDS = {
    "non-monotonic-read": "reads of an item in one region went back in time",
    "read-your-writes": "an SC read missed a write acknowledged in its own region before it",
    "unwritten-value": "a read returned a value no write wrote",
    "read-before-write": "a read returned a value before any write of it began",
    "failed-write-visible": "a read showed a value whose every write definitely failed",
    "conflicted-write-visible": ("a read showed a value whose write was answered "
                                 "ReplicatedWriteConflictException"),
    "divergence": "after the final heal, regions' final reads disagree",
    "lww-winner": "regions converged on a value other than the last writer's",
    "stale-read": "an SC read missed a write acknowledged before it began",
    "no-relay": "during a cut link, a write reached the third region but not the cut one",
    "nonlinearizable": "the SC history of a key has no linearization",
    "counter-too-high": "a counter read exceeds every increment invoked by then",
    "counter-too-low": "a counter read is below anything the increments can make",
    "lost-increment": "the final counter value is below the acknowledged increments",
    "never-added": "a set read holds an element no add attempted",
    "lost-add": "a final set read lacks an acknowledged add",
    "unavailable": "a region the mode promises to keep serving mostly failed",
    "served-without-quorum": "an MRSC region without a majority acknowledged a write or SC read",
}
WORKLOADS = ("register", "counter", "set")


def checker_for(mode: str, workload: str, *, linearizability_timeout: float | None = 60.0,
                linearizability: bool = True) -> Compose:
    """The composed checkers for `mode` ("async" | "strong") and `workload`."""
    return compose(checkers_for(mode, workload, linearizability=linearizability,
                                linearizability_timeout=linearizability_timeout))


def checkers_for(mode: str, workload: str, *, linearizability_timeout: float | None = 60.0,
                 linearizability: bool = True) -> dict[str, Any]:
    """The checkers for `mode` and `workload` by name, uncomposed: what a workload's
    registry entry returns (`suite.registry`: checkers(test) -> {name: checker})."""
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
    return checkers


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
