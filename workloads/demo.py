"""The talk's two live demos as workloads: `demo-single-writer` and `demo-multi-writer`.

DAT440 ends with two demos on one counter item (SEMANTICS.md A14, A15, M16):
- single writer: us-east-1 increments the counter five times while the other regions
  read it with SC and EC reads, ten iterations each. Async: the far region's SC reads skip
  intermediate values (the talk saw 0, then 5) and are as fast as EC reads; MRSC: SC reads
  see every increment and cost about a write.
- multi-writer: every region increments the counter five times at once. Async: all
  regions end equal and far below 15 (increments lost by last-writer-wins; the talk ended
  on 5); MRSC: 15 everywhere, some increments retried after
  ReplicatedWriteConflictException and visibly slower.

Each demo is a workload like the others (recorded through boto3, one attempt per
operation; a conflict is retried as a new recorded operation, up to `MAX_ATTEMPTS`), its
checkers are the mode's counter checker plus `DemoChecker`, which rebuilds the talk's
table (value and latency per region per step) from the history and judges the final
values against the mode's promise (async's lost increments are counted, once, by the
counter workload's `lost-increments` checker; the demo shows them in its table). `summarize(history)` prints the table after the run.
Client thread t works in region t mod len(regions), so threads 0..n-1 are one per region.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from results.history import pair
from workloads import demo_tables
from workloads.base import Workload, WorkloadOptions, mode_checkers
from workloads.client import OPS, RegionClient
from workloads.generators import Steps, final_reads
from suite.generator import each_thread, on_threads, phases, reserve

KEY = "demo-counter"
INCREMENTS = 5          # per writing region, as in the talk
READ_ITERATIONS = 10    # per reading region, as in the talk
MAX_ATTEMPTS = 20       # attempts per increment before giving up on a conflict
RETRY_ON = frozenset({"ReplicatedWriteConflict"})


def step_gap_s(latency_scale: float) -> float:
    """Pause between a reader's iterations: at scale 1, ten iterations span several
    us-east-1 -> us-west-2 trips (33 ms one way), so the reads watch replication arrive."""
    return max(0.002, 0.015 * latency_scale)


def _adds(steps: int, gap_s: float) -> Steps:
    ops: list[dict] = []
    for s in range(1, steps + 1):
        ops.append({"f": "add", "key": KEY, "value": 1, "step": s})
        if gap_s > 0 and s < steps:
            ops.append({"type": "sleep", "value": gap_s})
    return Steps(tuple(ops), RETRY_ON, MAX_ATTEMPTS)


def _reads(iterations: int, gap_s: float) -> Steps:
    ops: list[dict] = []
    for s in range(1, iterations + 1):
        ops.append({"f": "read", "key": KEY, "consistent": True, "step": s})
        ops.append({"f": "read", "key": KEY, "consistent": False, "step": s})
        if s < iterations:
            ops.append({"type": "sleep", "value": gap_s})
    return Steps(tuple(ops))


class DemoChecker:
    """Rebuilds the demo's table and judges the final values against the mode's promise.

    Promised in both modes: every region's final SC read agrees (convergence). MRSC, and
    any single-writer run: the final value lies between the acknowledged and the attempted
    increments (none lost). Async multi-writer: increments lost by last-writer-wins are
    the expected anomaly `lost-increment` (reported, not a failure).
    """

    def __init__(self, kind: str, mode: str, regions: Sequence[str]):
        self.kind, self.mode, self.regions = kind, mode, tuple(regions)

    def check(self, test: Any, history: Sequence[Any], opts: Mapping[str, Any]) -> dict:
        if self.kind == "multi-writer":
            table = demo_tables.multi_writer_table(history, self.regions)
        else:
            table = demo_tables.single_writer_table(history, self.regions[0], self.regions[1:])
        adds = [p for p in pair(op for op in history if op.is_client) if p.invoke.f == "add"]
        acknowledged = sum(1 for p in adds if p.type == "ok")
        indefinite = sum(1 for p in adds if p.type == "info")
        conflicts = [p.complete.index for p in adds if p.type == "fail"
                     and p.complete.error == "ReplicatedWriteConflict"]
        final = table["final"]
        errors: list[str] = []
        # A final read that could not be made (every attempt failed or timed out) says
        # nothing about that region: its convergence is unknown, not violated (Knossos:
        # a :fail/:info read constrains nothing). The final phase retries it first
        # (workloads.generators.UntilAnswered).
        missing = [r for r in self.regions if r not in final]
        unknown = ([f"no final SC read answered in {', '.join(missing)}, after every "
                    "retry: convergence there is unknown"] if missing else [])
        values = set(final.values())
        converged = not missing and len(values) == 1
        if final and len(values) > 1:
            errors.append(f"regions did not converge: final values {final}")
        anomalies: list[dict] = []  # the demo's own violations are its errors
        lost: dict[str, int] = {}
        notes: list[str] = []
        must_keep_all = self.mode == "strong" or self.kind == "single-writer"
        for region, v in sorted(final.items()):
            if v > acknowledged + indefinite:
                errors.append(f"{region} ended on {v}, more than the {acknowledged + indefinite} "
                              "increments attempted")
            elif v < acknowledged:
                if must_keep_all:
                    errors.append(f"{region} ended on {v}, below the {acknowledged} "
                                  "acknowledged increments: acknowledged increments were lost")
                else:
                    # Allowed (A14), and counted once, in increments, by the counter
                    # workload's lost-increments checker: here it is only the table's
                    # figure, so the two never add up to a double count.
                    lost[region] = acknowledged - v
                    notes.append(f"{region} ended on {v} although {acknowledged} "
                                 "increments were acknowledged: last-writer-wins dropped "
                                 f"{acknowledged - v} of them (A14)")
        valid: Any = False if errors else ("unknown" if unknown else True)
        return {"valid": valid, "errors": errors, "final": final, "lost": lost,
                **({"reason": unknown[0]} if unknown else {}),
                "notes": notes,
                "converged": converged, "acknowledged": acknowledged,
                "indefinite": indefinite, "conflict_retries": len(conflicts),
                "conflict_ops": conflicts[:50], "anomalies": anomalies,
                "anomaly_counts": {}, "table": demo_tables.to_data(table),
                "grid": demo_tables.grid(table), "text": demo_tables.render(table)}


def _demo(kind: str, opts: WorkloadOptions) -> Workload:
    regions = opts.regions
    n = len(regions)
    gap = step_gap_s(opts.latency_scale)
    one_per_region = lambda t: isinstance(t, int) and t < n  # noqa: E731
    # Warm-up: every region's thread reads the counter once (opening its client and
    # connection), and the demo proper starts only when all have answered, so the
    # regions really increment at the same time, as in the talk. The warm-up reads carry
    # no "step" and stay out of the table.
    warm_up = on_threads(one_per_region,
                         each_thread([{"f": "read", "key": KEY, "consistent": True}]))
    if kind == "multi-writer":
        demo = on_threads(one_per_region, each_thread(_adds(INCREMENTS, 0.0)))
    else:
        # The writer increments in a tight loop, as in the talk; the readers pace their
        # iterations, so they watch the increments arrive (or not) over replication lag.
        demo = reserve(1, _adds(INCREMENTS, 0.0), n - 1,
                       each_thread(_reads(READ_ITERATIONS, gap)), None)
    gen = phases(warm_up, demo)
    demo_checker = DemoChecker(kind, opts.mode, regions)

    def summarize(history: Sequence[Any]) -> str:
        return demo_checker.check({}, history, {})["text"]

    return Workload(
        name=f"demo-{kind}",
        client=RegionClient(opts.table, OPS["counter"], connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s,
                            pool_size=max(4, opts.concurrency)),
        generator=gen,
        final_generator=final_reads([KEY]),
        checkers={**mode_checkers(opts.mode, "counter"), "demo": demo_checker},
        table=opts.table, keys=(KEY,), min_concurrency=n, summarize=summarize)


def single_writer(opts: WorkloadOptions) -> Workload:
    return _demo("single-writer", opts)


def multi_writer(opts: WorkloadOptions) -> Workload:
    return _demo("multi-writer", opts)
