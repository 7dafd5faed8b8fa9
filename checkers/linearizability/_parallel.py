"""Checking independent keys in several worker processes (for large histories).

Partitions are independent, so they can be searched in parallel. The workers are forked
(they inherit the prepared partitions, nothing is serialised on the way in) and each sends
back its keys' summaries as JSON over a pipe (plain data only; no pickle). Keys are dealt
to workers largest first, each to the least loaded worker. Each worker applies the same
deadline and the same "settle after the first invalid key" rule as the in-process path.
Fork only exists on POSIX; elsewhere, and for one worker, the in-process path is used.
"""

from __future__ import annotations

import json
import os
from typing import Any, Hashable

from checkers.linearizability._check import summaries
from checkers.linearizability.models import Call, Model


def _deal(parts: dict[Hashable, list[Call]], workers: int) -> list[list[Hashable]]:
    shares: list[list[Hashable]] = [[] for _ in range(workers)]
    load = [0] * workers
    for k in sorted(parts, key=lambda k: -len(parts[k])):
        w = load.index(min(load))
        shares[w].append(k)
        load[w] += len(parts[k])
    return [s for s in shares if s]


def summaries_in_workers(model: Model, parts: dict[Hashable, list[Call]],
                         init_state: Hashable, deadline: float | None,
                         workers: int) -> dict[Hashable, dict]:
    if not hasattr(os, "fork"):
        return summaries(model, parts, init_state, deadline)
    children: list[tuple[int, int, list[Hashable]]] = []
    for share in _deal(parts, workers):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: check its share, send the summaries, exit at once
            code = 0
            try:
                os.close(r)
                got = summaries(model, {k: parts[k] for k in share}, init_state, deadline)
                data: Any = [got[k] for k in share]
            except BaseException as e:  # noqa: BLE001 -- reported to the parent as data
                data = {"error": f"{type(e).__name__}: {e}"}
                code = 1
            try:
                with os.fdopen(w, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, default=repr)
            finally:
                os._exit(code)
        os.close(w)
        children.append((pid, r, share))
    results: dict[Hashable, dict] = {}
    for pid, r, share in children:
        with os.fdopen(r, encoding="utf-8") as fh:
            text = fh.read()
        os.waitpid(pid, 0)
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = {"error": "worker died without a result"}
        if isinstance(data, dict):  # the worker failed: its keys are unknown, with why
            for k in share:
                results[k] = {"valid": "unknown", "dropped": 0, "reason": data["error"]}
        else:
            for k, summary in zip(share, data):
                if "counterexample" in summary:
                    summary["counterexample"]["key"] = k
                results[k] = summary
    return {k: results[k] for k in parts}
