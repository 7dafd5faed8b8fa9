"""Fidelity probe for A10 (no relay): did a write reach a region through a third one?

Async replicators ship a region's own writes over the direct link only (SEMANTICS.md
A10), so while the link A-B is cut, a write that A accepted after the cut began cannot be
in B until the link heals. A relayed write breaks no consistency promise -- last writer
wins keeps its stamp wherever it travels -- so the consistency checkers rightly say
nothing; this is a check of the emulator's (or a service's) fidelity to the documented
behaviour, which `gtcheck validate` uses to judge the `relay` bug switch.

`relayed_writes(history)` returns one finding per read that shows it: a successful read
in B, completed before the cut A-B ended, of a value whose only write was made in A and
invoked after the cut began (register values are unique per run, so a value names its
write). Pure function of the history.
"""

from __future__ import annotations

from typing import Any, Sequence

from results.history import OK, Op, fault_periods, pair


def _pair_regions(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "a" in value and "b" in value:
        return value["a"], value["b"]
    return None


def _region(p) -> str | None:
    return p.invoke.region or (p.complete.region if p.complete is not None else None)


def relayed_writes(history: Sequence[Op]) -> list[dict]:
    """Reads that show a write crossing a cut link (module docstring), as anomalies."""
    cuts = []
    for fp in fault_periods(history):
        if fp.f == "cut" and _pair_regions(fp.value):
            cuts.append((fp.start, fp.end, *_pair_regions(fp.value)))
    if not cuts:
        return []
    pairs = [p for p in pair(list(history)) if p.invoke.process != "nemesis"]
    writes: dict[Any, list] = {}
    for p in pairs:
        if p.invoke.f in ("write", "cas") and p.type == OK:
            value = p.invoke.value[1] if p.invoke.f == "cas" else p.invoke.value
            writes.setdefault((p.invoke.key, value), []).append(p)
    found = []
    for p in pairs:
        if p.invoke.f != "read" or p.type != OK or p.complete is None:
            continue
        ws = writes.get((p.invoke.key, p.complete.value))
        if not ws or len(ws) != 1:
            continue
        w = ws[0]
        for start, end, a, b in cuts:
            for src, dst in ((a, b), (b, a)):
                if (_region(w) == src and _region(p) == dst and w.invoke.time >= start
                        and (end is None or p.complete.time < end)):
                    found.append({
                        "kind": "relayed-write", "expected": False, "key": p.invoke.key,
                        "region": dst, "ops": [w.invoke.index, p.invoke.index],
                        "explanation": (
                            f"{dst} read {p.complete.value!r} of {p.invoke.key} (op "
                            f"{p.invoke.index}), written in {src} (op {w.invoke.index}) "
                            f"after the link {src}-{dst} was cut and before it healed: "
                            "the write was relayed through a third region (A10)")})
    return found
