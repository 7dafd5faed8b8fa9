"""The history: gtcheck's one record of what happened in a run.

A history is a sequence of `Op` records, written as JSON Lines (`history.jsonl`), one
object a line, appended and flushed per operation so that a run killed at any moment keeps
everything it recorded (ARCHITECTURE.md, "History operations"). The runner records, the
checkers judge, the report shows; all three speak `Op`. This module owns the record, the
writer, the validating reader, and `pair`, which matches every invocation with its
completion (the shape almost every checker wants).

Validation rules, each violation reported with the line number it was found on:
- `type` is one of invoke / ok / fail / info;
- a process has at most one operation in flight; its completion has the same `f`;
- no completion without an invocation;
- a process that got `info` never invokes again (it is retired, its thread continues
  under a fresh process id);
- nemesis operations (process "nemesis") follow the same pairing rules.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, IO, Iterable, Iterator, Mapping, Sequence

from suite.errors import BadInput

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
TYPES = frozenset((INVOKE, OK, FAIL, INFO))
NEMESIS = "nemesis"

_FIELDS = ("index", "time", "type", "process", "f", "key", "value", "region",
           "consistent", "error")


@dataclass(frozen=True, slots=True)
class Op:
    """One history record: an invocation or a completion.

    `time` is monotonic nanoseconds since the run started. `process` is an int for
    clients and "nemesis" for faults. `extra` holds any further fields (a remote worker's
    clock error bound, an attempt number, ...) and is round-tripped untouched.
    """

    index: int
    time: int
    type: str
    process: int | str
    f: str
    key: Any = None
    value: Any = None
    region: str | None = None
    consistent: bool | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_invoke(self) -> bool:
        return self.type == INVOKE

    @property
    def is_client(self) -> bool:
        return self.process != NEMESIS

    def replace(self, **changes: Any) -> "Op":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"index": self.index, "time": self.time, "type": self.type,
                             "process": self.process, "f": self.f}
        if self.key is not None:
            d["key"] = self.key
        if self.value is not None:
            d["value"] = self.value
        if self.region is not None:
            d["region"] = self.region
        if self.consistent is not None:
            d["consistent"] = self.consistent
        if self.error is not None:
            d["error"] = self.error
        for k, v in self.extra.items():
            d.setdefault(k, v)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Op":
        """Build an Op from a decoded JSON object; raises BadInput on a wrong shape."""
        if not isinstance(d, Mapping):
            raise BadInput("expected a JSON object")
        missing = [k for k in ("type", "process", "f") if k not in d]
        if missing:
            raise BadInput(f"missing field(s) {', '.join(missing)}")
        if d["type"] not in TYPES:
            raise BadInput(f"unknown type {d['type']!r} (expected invoke, ok, fail or info)")
        process = d["process"]
        if not (isinstance(process, int) and not isinstance(process, bool)) and process != NEMESIS:
            raise BadInput(f"process must be an integer or \"nemesis\", got {process!r}")
        if not isinstance(d["f"], str):
            raise BadInput(f"f must be a string, got {d['f']!r}")
        index, time = d.get("index", -1), d.get("time", 0)
        for name, v in (("index", index), ("time", time)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise BadInput(f"{name} must be an integer, got {v!r}")
        extra = {k: v for k, v in d.items() if k not in _FIELDS}
        return cls(index=index, time=time, type=d["type"], process=process, f=d["f"],
                   key=d.get("key"), value=d.get("value"), region=d.get("region"),
                   consistent=d.get("consistent"), error=d.get("error"), extra=extra)


def to_json_line(op: Op) -> str:
    return json.dumps(op.to_dict(), separators=(",", ":"), sort_keys=False) + "\n"


class HistoryWriter:
    """Appends ops to a JSONL file, flushing each one; thread-safe.

    `record` assigns the next index, so callers pass ops with any index. A process killed
    at any moment leaves a file whose every complete line is a recorded operation (a torn
    last line is the only possible damage, and the reader reports it).
    """

    def __init__(self, path: str | os.PathLike, *, start_index: int = 0):
        self.path = os.fspath(path)
        self._fh: IO[str] = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._next = start_index
        self.ops: list[Op] = []

    def record(self, op: Op) -> Op:
        with self._lock:
            op = op.replace(index=self._next)
            self._next += 1
            self._fh.write(to_json_line(op))
            self._fh.flush()
            self.ops.append(op)
            return op

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()

    def __enter__(self) -> "HistoryWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(path: str | os.PathLike, ops: Iterable[Op]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for op in ops:
            fh.write(to_json_line(op))


def parse_jsonl(lines: Iterable[str], *, source: str = "<history>",
                check: bool = True) -> list[Op]:
    """Decode JSON Lines into ops and (by default) validate them.

    BadInput names the source and line of the first problem, never a traceback.
    """
    ops: list[Op] = []
    linenos: list[int] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadInput(f"{source}:{lineno}: not valid JSON ({e.msg})") from None
        try:
            op = Op.from_dict(d)
        except BadInput as e:
            raise BadInput(f"{source}:{lineno}: {e}") from None
        if op.index < 0:
            op = op.replace(index=len(ops))
        ops.append(op)
        linenos.append(lineno)
    if check:
        validate(ops, source=source, lines=linenos)
    return ops


def validate(ops: Sequence[Op], *, source: str = "<history>",
             lines: Sequence[int] | None = None) -> None:
    """Check the pairing rules of the module docstring; BadInput names the first bad line."""
    def where(i: int) -> str:
        n = lines[i] if lines is not None else i + 1
        return f"{source}:{n}"

    open_ops: dict[Any, Op] = {}
    retired: set[Any] = set()
    for i, op in enumerate(ops):
        p = op.process
        if op.type == INVOKE:
            if p in retired:
                raise BadInput(f"{where(i)}: process {p} invokes after an info completion "
                               "(a crashed process must not be reused)")
            if p in open_ops:
                raise BadInput(f"{where(i)}: process {p} invokes {op.f!r} while its "
                               f"{open_ops[p].f!r} is still in flight (double invoke)")
            open_ops[p] = op
        else:
            inv = open_ops.pop(p, None)
            if inv is None:
                raise BadInput(f"{where(i)}: {op.type} completion of {op.f!r} by process {p} "
                               "without an invocation")
            if inv.f != op.f:
                raise BadInput(f"{where(i)}: completion f {op.f!r} does not match the "
                               f"invocation's {inv.f!r} (process {p})")
            if op.type == INFO and p != NEMESIS:
                retired.add(p)


def read_jsonl(path: str | os.PathLike, *, check: bool = True) -> list[Op]:
    """Read and (by default) validate a history.jsonl; BadInput names the bad line."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    return parse_jsonl(text.splitlines(), source=path, check=check)


@dataclass(frozen=True, slots=True)
class Pair:
    """An invocation and its completion (None if the history ended with it in flight)."""

    invoke: Op
    complete: Op | None

    @property
    def type(self) -> str:
        """ok / fail / info; an operation never completed counts as info."""
        return self.complete.type if self.complete is not None else INFO

    @property
    def start(self) -> int:
        return self.invoke.time

    @property
    def end(self) -> int | None:
        """Completion time, or None when the outcome is unknown (info / never completed)."""
        if self.complete is None or self.complete.type == INFO:
            return None
        return self.complete.time

    @property
    def value(self) -> Any:
        """The completion's value when it has one (a read's result), else the invocation's."""
        if self.complete is not None and self.complete.value is not None:
            return self.complete.value
        return self.invoke.value


def pair(ops: Iterable[Op]) -> list[Pair]:
    """Match invocations with completions, in invocation order. Assumes a valid history."""
    out: list[Pair | None] = []
    slot: dict[Any, int] = {}
    for op in ops:
        if op.type == INVOKE:
            slot[op.process] = len(out)
            out.append(Pair(op, None))
        else:
            i = slot.pop(op.process, None)
            if i is not None:
                out[i] = Pair(out[i].invoke, op)  # type: ignore[union-attr]
    return [p for p in out if p is not None]


def client_ops(ops: Iterable[Op]) -> Iterator[Op]:
    return (op for op in ops if op.process != NEMESIS)


# --- Fault periods -------------------------------------------------------------------
# Nemesis operations name the fault action in `f` and its target in `value`. These begin
# a fault; "heal" ends every open fault; the END_ACTIONS end the matching begun fault.
FAULT_ACTIONS = frozenset(("isolate", "cut", "cut-oneway", "delay", "pause-replication",
                           "stop", "skew-clock", "slow", "pause"))
END_ACTIONS = {"resume-replication": "pause-replication", "start": "stop", "resume": "pause"}
HEAL = "heal"


@dataclass(frozen=True, slots=True)
class FaultPeriod:
    """A fault that was in force from `start` to `end` (ns; end None = until the end)."""

    f: str
    value: Any
    start: int
    end: int | None

    def covers(self, t: int) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def describe(self) -> str:
        if isinstance(self.value, Mapping):
            target = ", ".join(f"{k}={v}" for k, v in self.value.items())
        else:
            target = "" if self.value is None else str(self.value)
        return f"{self.f} {target}".strip()


def _target_region(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get("region", value.get("regions"))
    return value


def fault_periods(ops: Iterable[Op]) -> list[FaultPeriod]:
    """The fault periods of a history, from its nemesis operations, in start order.

    A fault begins when its nemesis operation completes ok (a failed or crashed fault
    injection is not assumed to have taken effect) and ends at the invocation of the
    "heal" or matching end action that removes it.
    """
    open_: list[tuple[str, Any, int]] = []
    done: list[FaultPeriod] = []
    invoked_at: dict[Any, int] = {}
    for op in ops:
        if op.process != NEMESIS:
            continue
        if op.type == INVOKE:
            invoked_at[op.f] = op.time
            if op.f == HEAL:
                done.extend(FaultPeriod(f, v, s, op.time) for f, v, s in open_)
                open_.clear()
            elif op.f in END_ACTIONS:
                begun = END_ACTIONS[op.f]
                keep = []
                for f, v, s in open_:
                    if f == begun and (_target_region(op.value) in (None, _target_region(v))):
                        done.append(FaultPeriod(f, v, s, op.time))
                    else:
                        keep.append((f, v, s))
                open_ = keep
        elif op.type == OK and op.f in FAULT_ACTIONS:
            open_.append((op.f, op.value, op.time))
    done.extend(FaultPeriod(f, v, s, None) for f, v, s in open_)
    return sorted(done, key=lambda p: p.start)
