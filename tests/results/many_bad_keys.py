"""A strong register run whose history has no linearization on several keys, judged by
the real checkers: a simulated valid MRSC run (tests.results.fixtures) with one SC read
per chosen key changed to a value no one wrote, then re-judged as `gtcheck analyze`
does. Shared by the report's unit and browser tests."""

from __future__ import annotations

from pathlib import Path

from results.history import read_jsonl, write_jsonl
from suite import core
from tests.results.fixtures import make_run


def make_run_with_bad_keys(store: str | Path, *, n_keys: int = 3, seed: int = 5,
                           timestamp: str | None = None) -> tuple[Path, dict]:
    """-> (run dir, {key: history index of the invocation of its impossible read})."""
    kw = {"timestamp": timestamp} if timestamp else {}
    run = make_run(store, seed=seed, workload="register", mode="strong", valid=True, **kw)
    ops = read_jsonl(run / "history.jsonl")
    completion_of: dict[int, int] = {}
    open_: dict = {}
    for n, op in enumerate(ops):
        if op.type == "invoke":
            open_[op.process] = n
        elif op.process in open_:
            completion_of[n] = open_.pop(op.process)
    planted: dict = {}
    for n, op in enumerate(ops[len(ops) // 2:], start=len(ops) // 2):
        if (len(planted) < n_keys and op.type == "ok" and op.f == "read" and op.consistent
                and op.value is not None and op.key not in planted):
            ops[n] = op.replace(value=-1)   # the workload never writes -1
            planted[op.key] = ops[completion_of[n]].index
    assert len(planted) == n_keys, planted
    write_jsonl(run / "history.jsonl", ops)
    core.analyze_run(run)
    return run, planted
