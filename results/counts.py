"""A run's operation counts: the one definition the console, run.log, results.json and
the report all use.

`run_counts(history)` counts client operations by outcome, with the answers a working
region gave on a request's merits (ConditionalCheckFailed, ReplicatedWriteConflict) apart
from failures; `fault_counts` counts the faults that began; `counts_text` and
`rate_warning` are how a run says them. They live here, with the history they count, so
the harness (`suite.core`, which records and prints) and the report (which shows) both
read them from below instead of the report reaching back into the harness.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from results.history import FAULT_ACTIONS, NEMESIS, Op

# Business outcomes: a working region answered and refused on the request's merits. They
# are neither failures of service nor counted as such (availability counts them served:
# checkers.availability.ANSWERED_ERRORS names the same two).
BUSINESS_ERRORS = {"ConditionalCheckFailed": "condition-failed",
                   "ReplicatedWriteConflict": "conflict"}
RATE_SHORTFALL = 0.8    # warn when the achieved client rate is below this share of --rate


def run_counts(history: Sequence[Op]) -> dict[str, int]:
    """The one definition of a run's operation counts (console, run.log, results.json):
    `ops` client operations invoked; `ok`; `condition-failed` / `conflict` (answered
    no on the request's merits); `fail` (other definite failures); `info` (outcome
    unknown, never completed included); `timeouts` (the `info` ones that timed out);
    `records` history lines; `nemesis` fault operations."""
    c = {"ops": 0, "ok": 0, "condition-failed": 0, "conflict": 0, "fail": 0, "info": 0,
         "timeouts": 0, "records": len(history), "nemesis": 0}
    for op in history:
        if op.process == NEMESIS:
            c["nemesis"] += op.type == "invoke"
        else:
            count_op(c, op)
    c["info"] += c["ops"] - c["ok"] - c["condition-failed"] - c["conflict"] - c["fail"] \
        - c["info"]  # invoked, never completed: unknown
    return c


def count_op(c: dict[str, int], op: Op) -> None:
    """Add one client operation to the counts `c` (`run_counts`'s rule)."""
    if op.type == "invoke":
        c["ops"] += 1
    elif op.type == "fail":
        c[BUSINESS_ERRORS.get(str(op.error), "fail")] += 1
    elif op.type in ("ok", "info"):
        c[op.type] += 1
        c["timeouts"] += op.type == "info" and op.error == "timeout"


def fault_counts(history: Sequence[Op]) -> dict[str, int]:
    """How many times each fault began in a run (`results.json` run.faults): the nemesis
    operations that completed ok with a fault-beginning `f` (a fault whose injection
    failed or crashed is not assumed to have happened, as `fault_periods` has it)."""
    counts: dict[str, int] = {}
    for op in history:
        if op.process == NEMESIS and op.type == "ok" and op.f in FAULT_ACTIONS:
            counts[op.f] = counts.get(op.f, 0) + 1
    return counts


def counts_text(c: Mapping[str, int]) -> str:
    """`ops=120 ok=100 condition-failed=8 fail=2 info=10`: business outcomes only when seen."""
    parts = [f"ops={c['ops']}", f"ok={c['ok']}"]
    parts += [f"{k}={c[k]}" for k in ("condition-failed", "conflict") if c.get(k)]
    parts += [f"fail={c['fail']}", f"info={c['info']}"]
    return " ".join(parts)


def rate_warning(run: Mapping[str, Any]) -> str | None:
    """A warning when the main phase issued client operations well below `--rate`."""
    target, achieved = run.get("rate_target"), run.get("rate_achieved")
    if not isinstance(target, (int, float)) or not isinstance(achieved, (int, float)):
        return None
    if run.get("interrupted") or run.get("target_gone") or (run.get("main_phase_s") or 0) < 1:
        return None
    if achieved >= RATE_SHORTFALL * target:
        return None
    return (f"--rate {target:g} ops/s was not reached: {achieved:g} ops/s were issued "
            "(each client thread runs one operation at a time: raise --concurrency, or "
            "the machine or the target is the limit)")
