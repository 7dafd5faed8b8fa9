"""The talk's demo tables, rebuilt from a recorded history (value and latency per region
per step).

The two live demos of DAT440 (SEMANTICS.md A14, A15, M16) are shown as tables: for the
single writer, each row is one iteration, with the value the writer region's increment
produced and the values the other regions' SC and EC reads returned, each with its latency;
for the multi-writer, each row is one increment step, with the value every region's
increment produced, its latency, and how many attempts it took (an MRSC increment that met
ReplicatedWriteConflictException is retried, and its latency counts every attempt, which is
why the talk saw some half-second increments). The last row holds the final SC read of
every region, after the run.

These functions only read the history (the record-first rule: the demo workload records,
this module shows), so a stored run's tables can be printed again with `gtcheck analyze`.
Demo operations carry `extra["step"]` (the increment step or read iteration, from 1) and
`extra["attempt"]` (from 1); final reads carry `extra["final"] = True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from results.history import Op, pair


@dataclass(frozen=True)
class Cell:
    """One table cell: a value (None if no answer) and its latency, attempts included."""

    value: Any
    latency_ms: float | None
    attempts: int = 1
    outcome: str = "ok"

    def render(self) -> str:
        if self.outcome != "ok":
            return f"{self.outcome}" + (f" ({self.latency_ms:.0f} ms)" if self.latency_ms else "")
        v = "-" if self.value is None else str(self.value)
        lat = "" if self.latency_ms is None else f" ({self.latency_ms:.0f} ms)"
        tries = f" x{self.attempts}" if self.attempts > 1 else ""
        return f"{v}{lat}{tries}"

    def to_dict(self) -> dict:
        return {"value": self.value, "latency_ms": self.latency_ms,
                "attempts": self.attempts, "outcome": self.outcome}


def _steps(history: Sequence[Op]):
    """Pairs of demo (non-final) client ops, grouped by (region, f, consistent, step)."""
    groups: dict[tuple, list] = {}
    for p in pair(op for op in history if op.is_client):
        inv = p.invoke
        if inv.extra.get("final") or "step" not in inv.extra:
            continue
        k = (inv.region, inv.f, inv.consistent, inv.extra["step"])
        groups.setdefault(k, []).append(p)
    return groups


def _cell(pairs) -> Cell:
    """Attempts of one step: the value of the last attempt, the latency of them all."""
    pairs = sorted(pairs, key=lambda p: p.invoke.time)
    last = pairs[-1]
    end = last.complete.time if last.complete is not None else None
    latency = None if end is None else (end - pairs[0].invoke.time) / 1e6
    if last.type != "ok":
        return Cell(None, latency, len(pairs), last.complete.error if last.complete and
                    last.complete.error else last.type)
    value = last.complete.extra.get("after", last.complete.value) if last.invoke.f == "add" \
        else last.complete.value
    return Cell(value, latency, len(pairs))


def final_values(history: Sequence[Op]) -> dict[str, Any]:
    """The final SC read of every region: {region: value} (the last ok one per region)."""
    out: dict[str, Any] = {}
    for p in pair(op for op in history if op.is_client):
        if p.invoke.extra.get("final") and p.invoke.consistent and p.type == "ok":
            out[p.invoke.region] = p.complete.value
    return out


def multi_writer_table(history: Sequence[Op], regions: Sequence[str]) -> dict:
    """{columns, rows: [{step, cells: {region: Cell}}], final: {region: value}}."""
    groups = _steps(history)
    steps = sorted({k[3] for k in groups if k[1] == "add"})
    rows = []
    for s in steps:
        cells = {r: _cell(groups[(r, "add", None, s)]) for r in regions
                 if (r, "add", None, s) in groups}
        rows.append({"step": s, "cells": cells})
    return {"kind": "multi-writer", "regions": list(regions), "rows": rows,
            "final": final_values(history)}


def single_writer_table(history: Sequence[Op], writer: str, readers: Sequence[str]) -> dict:
    """{rows: [{step, write: Cell, reads: {region: {"sc": Cell, "ec": Cell}}}], final}."""
    groups = _steps(history)
    steps = sorted({k[3] for k in groups})
    rows = []
    for s in steps:
        write = groups.get((writer, "add", None, s))
        reads = {}
        for r in readers:
            sc, ec = groups.get((r, "read", True, s)), groups.get((r, "read", False, s))
            reads[r] = {"sc": _cell(sc) if sc else None, "ec": _cell(ec) if ec else None}
        rows.append({"step": s, "write": _cell(write) if write else None, "reads": reads})
    return {"kind": "single-writer", "writer": writer, "readers": list(readers),
            "rows": rows, "final": final_values(history)}


def _grid(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def grid(table: dict) -> dict:
    """The table as the talk shows it: {"header": [...], "rows": [[...], ...]} of text
    cells, one row per step plus the final row (the report draws it as an HTML table)."""
    final = table["final"]
    if table["kind"] == "multi-writer":
        regions = table["regions"]
        header = ["step", *regions]
        body = [[str(row["step"]), *[row["cells"][r].render() if r in row["cells"] else ""
                                     for r in regions]] for row in table["rows"]]
        body.append(["final", *[str(final.get(r, "?")) for r in regions]])
        return {"header": header, "rows": body}
    writer, readers = table["writer"], table["readers"]
    header = ["step", f"{writer} write"]
    for r in readers:
        header += [f"{r} SC", f"{r} EC"]
    body = []
    for row in table["rows"]:
        cells = [str(row["step"]), row["write"].render() if row["write"] else ""]
        for r in readers:
            sc, ec = row["reads"][r]["sc"], row["reads"][r]["ec"]
            cells += [sc.render() if sc else "", ec.render() if ec else ""]
        body.append(cells)
    body.append(["final", str(final.get(writer, "?"))] +
                [c for r in readers for c in (str(final.get(r, "?")), "")])
    return {"header": header, "rows": body}


def render(table: dict) -> str:
    """The table as the talk shows it, plain text, one line per step plus the final row."""
    g = grid(table)
    return _grid(g["header"], g["rows"])


def to_data(table: dict) -> dict:
    """The table as JSON-able data (Cells as dicts), for results.json and the report."""
    def conv(x: Any) -> Any:
        if isinstance(x, Cell):
            return x.to_dict()
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items()}
        if isinstance(x, list):
            return [conv(v) for v in x]
        return x
    return conv(table)
