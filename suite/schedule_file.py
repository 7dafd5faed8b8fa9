"""A fixed nemesis schedule from a file: `gtcheck run --nemesis-schedule F`.

Random fault schedules find failures; a fixed one replays them. The file holds the fault
operations of a run's main phase with their times, as a JSON list (or one JSON object a
line) of `{"at": SECONDS, "f": ACTION, "value": TARGET}` -- the nemesis ops of
docs/CONVENTIONS.md, e.g. `{"at": 2.5, "f": "isolate", "value": {"region": "us-east-2"}}`,
`{"at": 5, "f": "heal"}`. Every run writes its own as `nemesis-schedule.json` (from the
history: when each fault operation was invoked), so a failing run's faults can be
replayed exactly with the same seed. The schedule is validated before anything starts
(BadInput names the file and the entry), recorded in test.json, and run by one
`FaultNemesis` that handles every action, at the given times since the run started; the
final phase heals as usual.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from results.history import END_ACTIONS, FAULT_ACTIONS, HEAL, NEMESIS, Op
from suite.errors import BadInput
from suite.generator import seconds_to_ns

ACTIONS = tuple(sorted(FAULT_ACTIONS | set(END_ACTIONS) | {HEAL}))
FILE_NAME = "nemesis-schedule.json"
ENTRIES_MAX = 100_000


def parse_schedule(text: str, source: str = "schedule") -> tuple[dict, ...]:
    """The schedule's entries, sorted by time; BadInput naming `source` and the entry."""
    text = text.strip()
    try:
        if text.startswith("["):
            raw = json.loads(text)
        else:
            raw = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise BadInput(f"{source}: not JSON ({e.msg} at line {e.lineno})") from None
    if not raw:
        raise BadInput(f"{source}: the schedule is empty")
    if len(raw) > ENTRIES_MAX:
        raise BadInput(f"{source}: more than {ENTRIES_MAX} entries")
    entries = []
    for n, e in enumerate(raw, start=1):
        if not isinstance(e, Mapping):
            raise BadInput(f"{source}: entry {n} is not an object: {e!r}")
        at, f, value = e.get("at"), e.get("f"), e.get("value")
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) \
                or at < 0:
            raise BadInput(f"{source}: entry {n}: \"at\" must be seconds >= 0, got {at!r}")
        if f not in ACTIONS:
            raise BadInput(f"{source}: entry {n}: unknown action {f!r} "
                           f"(known: {', '.join(ACTIONS)})")
        if value is not None and not isinstance(value, Mapping):
            raise BadInput(f"{source}: entry {n}: \"value\" must be an object or null")
        entries.append({"at": float(at), "f": f, "value": dict(value) if value else None})
    return tuple(sorted(entries, key=lambda e: e["at"]))


def read_schedule(path: str | os.PathLike) -> tuple[dict, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise BadInput(f"--nemesis-schedule {path}: cannot read it ({e.strerror})") from None
    return parse_schedule(text, f"--nemesis-schedule {path}")


def schedule_ops(entries: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The schedule as nemesis operations at fixed times (a generator: plain data)."""
    return [{"f": e["f"], "value": e["value"], "time": seconds_to_ns(e["at"])}
            for e in entries]


def schedule_of(history: Iterable[Op], until_s: float | None = None) -> list[dict]:
    """A run's own schedule: when each main-phase fault operation was invoked."""
    out = []
    for op in history:
        if op.process == NEMESIS and op.type == "invoke" and op.f in ACTIONS:
            at = op.time / 1e9
            if until_s is None or at <= until_s:
                out.append({"at": round(at, 6), "f": op.f, "value": op.value})
    return out


def package(test: Any, target: Any):
    """The NemesisPackage that runs `test.nemesis_schedule` against `target`."""
    from nemesis.core import FaultNemesis
    from suite.protocols import NemesisPackage
    fs = [a for a in ACTIONS]
    return NemesisPackage(FaultNemesis(fs, target), schedule_ops(test.nemesis_schedule),
                          [{"f": HEAL}], name="schedule")
