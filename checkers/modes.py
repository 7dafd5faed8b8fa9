"""The full set of checkers for a replication mode and a workload.

`checker_for(mode, workload)` is the one place that says which properties a run is judged
by (SEMANTICS.md; issue 6 item 4): for "strong" (MRSC) the promises are linearizability
(registers, counters and sets) and its readable special cases, counter bounds, no lost
set adds, EC reads that return
written values and never go back in time, and conflicted writes that stay invisible; for
"async" (MREC) the promises are monotonic reads, read-your-writes, convergence,
last-writer-wins, written values only and failed writes invisible, and for registers one
last-writer-wins order explaining every read at once (`checkers.lww`; for counters and sets:
nothing lost that no remote write could have overwritten) and no write relayed across a
cut link (A10, `checkers.relay`), while stale reads, lost
increments and adds that a remote write could explain, the no-relay effect and linearizability violations are
reported as expected anomalies. Both modes get convergence of the final reads,
availability judged against the mode, and latency. The result is a `checkers.core.Compose`,
so each checker's exception becomes "unknown" rather than a crash of the run.
"""

from __future__ import annotations

from typing import Any, Iterable

from checkers import async_props, availability, latency, lww, mrsc
from checkers import observe as ob
from checkers import set as set_checks
from checkers.anomalies import ExpectedAnomalies
from checkers.core import Compose, FnChecker, compose
from checkers.counter import CounterChecker
from checkers.relay import NoRelayChecker
from gtcheck.errors import BadInput

MODES = ("async", "strong")

# Every anomaly kind these checkers report, with what it means (for the report and the
# CLI summary). Whether one is a violation or expected is in each anomaly's "expected".
KINDS = {
    "non-monotonic-read": "reads of an item in one region went back in time",
    "read-your-writes": "an SC read missed a write acknowledged in its own region before it",
    "version-order": "regions saw an item's versions in orders no timestamp order explains",
    "unwritten-value": "a read returned a value no write wrote",
    "read-before-write": ("a read returned a value (or set element) before any write of "
                          "it began"),
    "failed-write-visible": "a read showed a value whose every write definitely failed",
    "conflicted-write-visible": ("a read showed a value whose write was answered "
                                 "ReplicatedWriteConflictException"),
    "divergence": "after the final heal, regions' final reads disagree",
    "lww-winner": "regions converged on a value other than the last writer's",
    "no-lww-order": ("no one last-writer-wins order with per-region visibility explains "
                     "an item's reads"),
    "stale-read": "an SC read missed a write acknowledged before it began",
    "gsi-stale-read": ("a read through a GSI missed a write acknowledged before it began "
                       "(GSIs are eventually consistent in both modes)"),
    "gsi-read-went-back": ("reads through a GSI in one region went back in time (GSI reads "
                           "promise no order)"),
    "no-relay": "during a cut link, a write reached the third region but not the cut one",
    "relayed-write": ("during a cut link, a write crossed it through the third region "
                      "(A10)"),
    "nonlinearizable": "the SC history of a key has no linearization",
    "counter-too-high": "a counter read exceeds every increment invoked by then",
    "counter-too-low": "a counter read is below anything the increments can make",
    "impossible-counter-value": "a counter read no combination of the increments makes",
    "lost-increment": "increments lost from the final counter value (counted per increment)",
    "never-added": "a set read holds an element no add attempted",
    "lost-add": "acknowledged set adds missing from the final reads (counted per element)",
    "resurrected": "a deleted item (or set element) showed again after its delete",
    "unavailable": "a region the mode promises to keep serving mostly failed",
    "served-without-quorum": "an MRSC region without a majority acknowledged a write or SC read",
    # the streams workload (checkers/streams.py)
    "unwritten-record": "a stream record shows a value no write wrote (A07)",
    "failed-write-recorded": "a stream record shows a write that definitely failed (A07)",
    "duplicate-record": "one write appears in two records of a region's stream",
    "broken-chain": "a record's old image is not the new image of the item's record before it",
    "missing-record": "a write a region applied has no record in its stream",
    "record-changed": "two reads of one sequence number returned different records",
    "dropped-stale-write": "a replicated write dropped as stale left no stream record (A07)",
    "stream-order": "regions' streams show a key's writes in different orders (M13)",
}
WORKLOADS = ("register", "counter", "set")
TXN_WORKLOADS = ("list-append", "rw-register")


def observed_checkers(mode: str, canon: Any) -> dict[str, Any]:
    """The checkers every whole-table workload ends with (set-full, streams): convergence
    of the final reads (values made comparable by `canon`), availability and latency.
    An unknown mode is bad input."""
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    return {"convergence": async_props.Convergence(canon, strong=mode == "strong"),
            "availability": availability.AvailabilityChecker(mode),
            "latency": FnChecker(latency.latency_check, "latency")}


def checker_for(mode: str, workload: str, *, linearizability_timeout: float | None = 60.0,
                linearizability: bool = True) -> Compose:
    """The composed checkers for `mode` ("async" | "strong") and `workload`."""
    return compose(checkers_for(mode, workload, linearizability=linearizability,
                                linearizability_timeout=linearizability_timeout))


class _Once:
    """Runs a checker once per history for several `Kinds` views of its result (the
    history is kept referenced, so its identity cannot be reused while cached)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.last: tuple[Any, int, Any, dict] | None = None

    def check(self, test, history, opts) -> dict:
        last = self.last
        if last is not None and last[0] is history and last[1] == len(history) \
                and last[2] is opts:
            return last[3]
        res = self.inner.check(test, history, opts)
        self.last = (history, len(history), opts, res)
        return res


class Kinds:
    """The part of a checker's result about some anomaly kinds: one promise per name in
    the results (and the report), while one computation serves several promises."""

    def __init__(self, inner: Any, kinds: Iterable[str]):
        self.inner, self.kinds = inner, frozenset(kinds)

    def check(self, test, history, opts) -> dict:
        res = self.inner.check(test, history, opts)
        out = {k: v for k, v in res.items() if k not in ("anomalies", "anomaly_counts")}
        listed = [a for a in res.get("anomalies", []) if a["kind"] in self.kinds]
        out["anomalies"] = listed
        out["anomaly_counts"] = {k: n for k, n in (res.get("anomaly_counts") or {}).items()
                                 if k in self.kinds}
        if res.get("valid") is False:
            out["valid"] = False if any(not a["expected"] for a in listed) else True
        return out


def checkers_for(mode: str, workload: str, *, linearizability_timeout: float | None = 60.0,
                 linearizability: bool = True) -> dict[str, Any]:
    """The checkers for `mode` and `workload` by name, uncomposed: what a workload's
    registry entry returns (`suite.registry`: checkers(test) -> {name: checker}). Names
    are the promises the report knows (results/report/_promises.py)."""
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    if workload == "streams":  # every region's DynamoDB stream (checkers/streams.py)
        from checkers.streams import checkers_for as stream_checkers
        return stream_checkers(mode)
    if workload in TXN_WORKLOADS:  # transactions: Elle-style cycle checking by region
        from checkers.elle.run import txn_checkers
        return txn_checkers(mode, workload)
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
            if linearizability:
                checkers["linearizability"] = mrsc.Linearizable(
                    model="counter", timeout=linearizability_timeout)
            checkers["counter"] = CounterChecker("strong")
        else:
            if linearizability:
                checkers["linearizability"] = set_checks.SetLinearizable()
            checkers["set"] = set_checks.SetChecker("strong")
    else:
        expected = _Once(ExpectedAnomalies(workload, linearizability=False))
        if workload == "register":
            order = _Once(FnChecker(async_props.region_order_check, "region-order"))
            values = _Once(FnChecker(async_props.written_values_check, "written-values"))
            checkers["monotonic-reads"] = Kinds(order, ["non-monotonic-read", "version-order"])
            checkers["read-your-writes"] = Kinds(order, ["read-your-writes"])
            checkers["never-written"] = Kinds(values, ["unwritten-value", "read-before-write"])
            checkers["failed-writes"] = Kinds(values, ["failed-write-visible",
                                                       "conflicted-write-visible"])
            checkers["last-writer-wins"] = FnChecker(async_props.lww_check,
                                                     "last-writer-wins")
            checkers["lww-model"] = FnChecker(lww.lww_model_check, "lww-model")
            checkers["stale-reads"] = Kinds(expected, ["stale-read"])
            checkers["no-relay"] = NoRelayChecker(Kinds(expected, ["no-relay"]))
            if linearizability:
                checkers["linearizability-violations"] = mrsc.Linearizable(
                    expected=True, timeout=linearizability_timeout)
        elif workload == "counter":
            checkers["counter"] = CounterChecker("async")
            checkers["stale-reads"] = Kinds(expected, ["stale-read"])
            checkers["lost-increments"] = Kinds(expected, ["lost-increment"])
        else:
            checkers["set"] = set_checks.SetChecker("async")
            checkers["stale-reads"] = Kinds(expected, ["stale-read"])
            checkers["lost-adds"] = Kinds(expected, ["lost-add"])
    checkers["convergence"] = async_props.Convergence(canon, strong=mode == "strong")
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
