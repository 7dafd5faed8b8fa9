"""Plain-English explanations of anomalies, made from the data (as Elle's explainers do:
"T1 < T2 because T2 observed T1's append of 3 to key 5").

Every sentence names the transactions by their history index (T<index>), the keys and
the values involved, so a reader can find them in the history file.
"""

from __future__ import annotations

from typing import Any


def _t(x: Any) -> str:
    return x.describe() if hasattr(x, "describe") else str(x)


def _v(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + " ".join(map(str, v)) + "]"
    if v is None or v == ("nil",):
        return "nil"
    return str(v)


def describe_step(a: Any, b: Any, ex: dict) -> str:
    kind = ex.get("type")
    k = ex.get("key")
    after = ex.get("value'")
    if kind == "ww":
        return (f"{_t(b)} wrote {_v(after)} to key {k} right after {_t(a)} "
                f"wrote {_v(ex['value'])} (ww: {_t(a)} < {_t(b)})")
    if kind == "wr":
        return (f"{_t(b)} read {_t(a)}'s write of {_v(ex['value'])} to key {k} "
                f"(wr: {_t(a)} < {_t(b)})")
    if kind == "rw":
        seen = "the initial empty state" if ex["value"] in ("init", None) \
            else f"the version ending in {_v(ex['value'])}"
        return (f"{_t(a)} read {seen} of key {k}, which {_t(b)} overwrote by writing "
                f"{_v(after)} (rw: {_t(a)} < {_t(b)})")
    if kind == "realtime":
        return f"{_t(a)} completed before {_t(b)} began (realtime: {_t(a)} < {_t(b)})"
    if kind == "process":
        return (f"{_t(a)} and then {_t(b)} ran on the same process "
                f"(process: {_t(a)} < {_t(b)})")
    return f"{_t(a)} < {_t(b)}"


def describe_cycle(case: dict) -> str:
    cyc, steps = case["cycle"], case["steps"]
    parts = [describe_step(cyc[i], cyc[i + 1], s) for i, s in enumerate(steps)]
    return (f"{case['type']}: " + "; ".join(parts) + f". So {_t(cyc[0])} must come "
            f"both before and after itself: no serial order exists.")


# Anomalies about one read: "<kind>: T read V from key K, <this>".
_READ_SENTENCES = {
    "G1a": "including {element}, written by {writer}, which failed (aborted read).",
    "G1b": "ending in {element}, which {writer} followed with another write to the same "
           "key in the same transaction (intermediate read).",
    "internal": "but its own earlier reads and writes say it should have seen {expected}.",
    "future-read": "including {element}, which it only appends later in the same "
                   "transaction.",
    "duplicate-elements": "which holds {duplicates} more than once, though every appended "
                          "value is unique.",
    "garbage-read": "holding {elements}, which no transaction of the history wrote there "
                    "(a value from nowhere).",
}


def describe_anomaly(kind: str, case: Any) -> str:
    if not isinstance(case, dict):
        return f"{kind}: the transaction graph has no edges, so nothing was tested."
    if "cycle" in case:
        return describe_cycle(case)
    if kind == "cycle-search-timeout":
        return (f"cycle-search-timeout: the search for a {case['anomaly_spec_type']} cycle "
                f"among {case['scc_size']} interdependent transactions ran out of budget.")
    if kind.endswith("-cycle-exists"):
        return (f"{kind}: transactions {case['scc']} depend on each other in a cycle of "
                f"{', '.join(case['subgraph'])} edges, which {case['not']} forbids.")
    op, mop = case.get("op"), case.get("mop")
    if mop is not None and kind in _READ_SENTENCES:
        expected = case.get("expected")
        if isinstance(expected, list):
            expected = tuple(expected)
        tail = _READ_SENTENCES[kind].format(
            element=case.get("element"), writer=_t(case.get("writer")),
            expected=_v(expected), duplicates=case.get("duplicates"),
            elements=case.get("elements"))
        return f"{kind}: {_t(op)} read {_v(mop[2])} from key {mop[1]}, {tail}"
    if kind == "incompatible-order":
        a, b = case["values"]
        return (f"incompatible-order: key {case['key']} was read as {_v(tuple(a))} and "
                f"as {_v(tuple(b))}; neither is a prefix of the other, so the reads "
                f"come from two different timelines.")
    if kind == "reordered-appends":
        a, b = case["values"]
        return (f"reordered-appends: {_t(case['op'])} appended {_v(a)} and then {_v(b)} to "
                f"key {case['key']}, but the reads put {_v(b)} first ({_v(tuple(case['order']))}): "
                f"a transaction's own writes cannot take effect out of its order.")
    if kind == "dirty-update":
        return (f"dirty-update: on key {case['key']}, the versions {case['values']} "
                f"build on an append by a failed transaction and end in a committed one.")
    if kind == "lost-update":
        ts = ", ".join(_t(t) for t in case["txns"])
        return (f"lost-update: {ts} all read the same version {_v(case['value'])} of key "
                f"{case['key']} and all wrote it; one update must have been lost.")
    if kind == "cyclic-versions":
        return (f"cyclic-versions: the version order of key {case['key']} inferred from "
                f"{', '.join(case['sources'])} has a cycle among {case['scc']}.")
    return f"{kind}: {case}"
