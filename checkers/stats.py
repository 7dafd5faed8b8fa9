"""The stats checker: how many operations of each kind succeeded, failed or were unknown.

Counts ok / fail / info completions per `f`, and per region and `f`, for client
operations (an invocation the history never completed counts as info: its outcome is
unknown); nemesis operations are counted apart. It judges almost nothing: a run in which
no client operation succeeded at all is "unknown" (it exercised nothing, so it proves
nothing), anything else is valid. The numbers are what a reader checks first when a
verdict looks too good ("valid, but 95 % of writes failed").
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

from checkers.observe import client_pairs
from results.history import NEMESIS, Op, pair

def _counts() -> dict[str, int]:
    return {"count": 0, "ok": 0, "fail": 0, "info": 0}


def _add(c: dict[str, int], outcome: str) -> None:
    c["count"] += 1
    c[outcome] += 1


def _with_rates(c: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = dict(c)
    out["ok_fraction"] = round(c["ok"] / c["count"], 6) if c["count"] else None
    return out


def check(test: Mapping[str, Any], history: Sequence[Op], opts: Mapping[str, Any]) -> dict:
    by_f: dict[str, dict[str, int]] = defaultdict(_counts)
    by_region: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(_counts))
    nemesis: dict[str, dict[str, int]] = defaultdict(_counts)
    total = _counts()
    # the client pairs every checker of a composed check shares (`client_pairs`), and
    # the few nemesis operations paired apart (pairing is per process): pairing the
    # whole history once more cost about a second at 1M operations (issue 23)
    for p in pair([op for op in history if op.process == NEMESIS]):
        _add(nemesis[p.invoke.f], p.type)
    for p in client_pairs(history):
        outcome = p.type
        _add(total, outcome)
        _add(by_f[p.invoke.f], outcome)
        region = p.invoke.region if p.invoke.region is not None else "unknown"
        _add(by_region[region][p.invoke.f], outcome)
    valid: bool | str = True if total["ok"] > 0 else "unknown"
    result: dict[str, Any] = {
        "valid": valid,
        "total": _with_rates(total),
        "by_f": {f: _with_rates(c) for f, c in sorted(by_f.items())},
        "by_region": {r: {f: _with_rates(c) for f, c in sorted(fs.items())}
                      for r, fs in sorted(by_region.items())},
        "nemesis": {f: dict(c) for f, c in sorted(nemesis.items())},
    }
    if valid == "unknown":
        result["error"] = "no client operation succeeded"
    return result


class Stats:
    """The stats checker as a `checkers.core.Checker` object."""

    name = "stats"

    def check(self, test, history, opts):
        return check(test, history, opts)


stats = Stats()
