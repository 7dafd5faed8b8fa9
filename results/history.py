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
- nemesis operations (process "nemesis") follow the same pairing rules;
- when read from a file: `index` values rise strictly in file order (a file without
  them is numbered by line order), `time` is never negative, and no completion is
  earlier than its invocation; a file none of whose lines has a time (or every time 0)
  takes each op's index as its time (`_index_stands_for_time`). Invocations and completions are always paired by their
  position in the file, per process, never by sorting on index or time: a file whose
  indices repeat or run backwards is rejected (naming the line) rather than re-sorted,
  because a re-sort pairs an invocation with another operation's completion and gives a
  wrong verdict.

Reading is streamed in batches (about 1 MB of lines) with a fast path for the common
record shape, so a million-operation history is read, validated and paired in seconds
and without holding its text in memory: a batch holding long value lists has its lines
decoded by one C-level `map` of the JSON scanner, any other batch, or one with a line that
is not one JSON value alone, line by line, which names the first bad line (ops without
extra fields share one empty `extra` mapping; equal elements of a completion's list of
ints or strings, and equal such lists, are one object each, since a set run's reads
repeat every element added before them; a long value list is decoded once per distinct
text, `_ListTexts`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import json.scanner
import os
import threading
from collections import deque
from itertools import islice, repeat
from operator import itemgetter
from time import monotonic as _monotonic
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, IO, Iterable, Iterator, Mapping, Sequence

from gtcheck.errors import BadInput

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
TYPES = frozenset((INVOKE, OK, FAIL, INFO))
NEMESIS = "nemesis"

_FIELDS = ("index", "time", "type", "process", "f", "key", "value", "region",
           "consistent", "error")
_FIELD_SET = frozenset(_FIELDS)
_LONG = 2 ** 63  # index and time are 64-bit, as Jepsen's (Java longs)
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})  # shared by every op without extras


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
        if type(d["type"]) is not str or d["type"] not in TYPES:
            raise BadInput(f"unknown type {d['type']!r} (expected invoke, ok, fail or info)")
        process = d["process"]
        if not (isinstance(process, int) and not isinstance(process, bool)) and process != NEMESIS:
            raise BadInput(f"process must be an integer or \"nemesis\", got {process!r}")
        if not isinstance(d["f"], str):
            raise BadInput(f"f must be a string, got {d['f']!r}")
        index, time = d.get("index", -1), d.get("time", 0)
        for name, v in (("index", index), ("time", time)):
            if not isinstance(v, int) or isinstance(v, bool) or not -_LONG <= v < _LONG:
                raise BadInput(f"{name} must be an integer below 2**63, got "
                               f"{v!r:.40}")
        key = d.get("key")
        if not (key is None or isinstance(key, str) or type(key) is int):
            raise BadInput(f"key must be a string or an integer, got {type(key).__name__}")
        if d.get("consistent") not in (None, True, False) or type(d.get("consistent")) \
                not in (type(None), bool):
            raise BadInput(f"consistent must be true, false or null, got "
                           f"{d.get('consistent')!r:.40}")
        extra = ({k: v for k, v in d.items() if k not in _FIELD_SET}
                 if len(d) > 5 and not _FIELD_SET.issuperset(d) else _NO_EXTRA)
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

    `on_record`, when set, is handed each op as written -- numbered, at its final time, in
    file order (it is called under the writer's lock, so it must be quick: e.g. a queue's
    `put`). It is how the checking while a run goes (checkers/online.py) sees exactly the
    history the offline check will read, whatever sits between the runner and the writer
    (a remote run's clock mapping holds and reorders operations: suite.remote.fleet).
    """

    def __init__(self, path: str | os.PathLike, *, start_index: int = 0,
                 on_record: Callable[[Op], None] | None = None,
                 sync: Callable[[str], None] | None = None):
        self.path = os.fspath(path)
        self._sync = sync  # close() hands the file to it instead of fsyncing (results.durable)
        self._fh: IO[str] = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._next = start_index
        self.ops: list[Op] = []
        self.on_record = on_record

    def record(self, op: Op) -> Op:
        with self._lock:
            op = op.replace(index=self._next)
            self._next += 1
            self._fh.write(to_json_line(op))
            self._fh.flush()
            self.ops.append(op)
            if self.on_record is not None:
                self.on_record(op)
            return op

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                if self._sync is None:
                    os.fsync(self._fh.fileno())
                self._fh.close()
                if self._sync is not None:
                    self._sync(self.path)

    def __enter__(self) -> "HistoryWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(path: str | os.PathLike, ops: Iterable[Op]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for op in ops:
            fh.write(to_json_line(op))


_decode = json.JSONDecoder().decode
_new = object.__new__
# the slots' own setters: what the frozen dataclass's __init__ does, minus its overhead
(_set_index, _set_time, _set_type, _set_process, _set_f, _set_key, _set_value, _set_region,
 _set_consistent, _set_error, _set_extra) = (Op.__dict__[n].__set__
                                              for n in _FIELDS + ("extra",))


def make_op(index: int, time: int, type: str, process: int | str, f: str, key: Any,
            value: Any, region: str | None, consistent: bool | None, error: str | None
            ) -> Op:
    """Op(...) without extras, for readers that checked the fields themselves: the
    same value, built faster than the frozen dataclass's own __init__."""
    op = _new(Op)
    _set_index(op, index)
    _set_time(op, time)
    _set_type(op, type)
    _set_process(op, process)
    _set_f(op, f)
    _set_key(op, key)
    _set_value(op, value)
    _set_region(op, region)
    _set_consistent(op, consistent)
    _set_error(op, error)
    _set_extra(op, _NO_EXTRA)
    return op



def make_ops(index: Iterable[int], time: Iterable[int], type: Sequence[str],
             process: Iterable[int | str], f: Iterable[str], key: Iterable[Any],
             value: Iterable[Any], error: Iterable[str | None]) -> list[Op]:
    """`make_op` over columns, one Op per element of `type` (the others may be longer,
    e.g. `itertools.repeat(None)`): for readers that checked whole columns, built by
    C-level calls, a slot at a time, with no Python call per operation."""
    ops = list(map(_new, repeat(Op, len(type))))
    for set_slot, column in ((_set_index, index), (_set_time, time), (_set_type, type),
                             (_set_process, process), (_set_f, f), (_set_key, key),
                             (_set_value, value), (_set_region, repeat(None)),
                             (_set_consistent, repeat(None)), (_set_error, error),
                             (_set_extra, repeat(_NO_EXTRA))):
        deque(map(set_slot, ops, column), maxlen=0)
    return ops

_SHARE_MIN = 8  # shorter lists are not worth the look
_INT_OR_STR = frozenset((int, str))


def _shared_elements(value: list, share: Callable[[Any, Any], Any]) -> list:
    """A read's list of ints / strings (a set read holds every element added before it)
    with each element the one object of its value in the file: JSON makes a fresh int
    per occurrence, 32 bytes each, and the sets of a long run repeat the same elements
    in read after read (issue 23: 148M read elements took 12 GB). Lists holding anything
    else (a bool, a float, a nested value) are left as they are: `1 == True == 1.0`, so
    sharing by equality could change an element's type. A list equal to one read before
    (half of a set run's reads: nothing was added to the key in between) is that list."""
    if not set(map(type, value)) <= _INT_OR_STR:
        return value
    first = share((len(value), hash(tuple(value))), value)  # a tuple: no str or int key
    if first is not value and first == value:
        return first  # its elements are shared already: no per-element look-up
    value[:] = map(share, value, value)
    return value


def _op_of(d: Any, default_index: int, share: Callable[[str, str], str]) -> Op:
    """An Op from a decoded line: the common shape checked inline, the rest by from_dict.
    `share` maps equal strings to one object (dict.setdefault of a per-file table)."""
    if type(d) is dict and _FIELD_SET.issuperset(d):
        get = d.get
        typ, process, f = get("type"), get("process"), get("f")
        index, time = get("index", default_index), get("time", 0)
        key, consistent = get("key"), get("consistent")
        if type(typ) is str and typ in TYPES and type(f) is str and type(index) is int \
                and type(time) is int and -_LONG <= time < _LONG and -_LONG <= index < _LONG \
                and (type(process) is int or process == NEMESIS) \
                and (key is None or type(key) is str or type(key) is int) \
                and (consistent is None or type(consistent) is bool):
            region = get("region")
            op = _new(Op)
            _set_index(op, index)
            _set_time(op, time)
            _set_type(op, share(typ, typ))
            _set_process(op, process)
            _set_f(op, share(f, f))
            _set_key(op, share(key, key) if type(key) is str else key)
            value = get("value")
            if type(value) is list and len(value) > _SHARE_MIN and typ != INVOKE:
                value = _shared_elements(value, share)
            _set_value(op, value)
            _set_region(op, share(region, region) if type(region) is str else region)
            _set_consistent(op, consistent)
            _set_error(op, get("error"))
            _set_extra(op, _NO_EXTRA)
            return op
    op = Op.from_dict(d)  # raises the precise BadInput
    return op if "index" in d else op.replace(index=default_index)


class _Checker:
    """The validation rules, fed one op at a time (so a file is checked as it is read,
    with no second pass and no list of line numbers kept)."""

    __slots__ = ("source", "order", "open_ops", "retired", "last_index", "lines")

    def __init__(self, source: str, order: bool, lines: Sequence[int] | None = None):
        self.source, self.order = source, order
        # `feed`'s second argument is a line number, or with `lines` a position in it
        # (looked up only for an error message: LineNumbers counts lines on demand)
        self.lines = lines
        self.open_ops: dict[Any, Op] = {}
        self.retired: set[Any] = set()
        self.last_index: int | None = None

    def where(self, line: int) -> str:
        return f"{self.source}:{line if self.lines is None else self.lines[line]}"

    def feed(self, op: Op, line: int) -> None:
        p = op.process
        if self.order:
            last = self.last_index
            if last is not None and op.index <= last:
                raise BadInput(
                    f"{self.where(line)}: index {op.index} does not rise (the line "
                    f"before had {last}); gtcheck pairs operations by their order in the "
                    "file and will not re-sort them: renumber the indices in file order, "
                    "or drop the index fields to number the operations by line order")
            self.last_index = op.index
            if op.time < 0:
                raise BadInput(f"{self.where(line)}: time {op.time} is negative (times "
                               "are nanoseconds since the run started)")
        if op.type == INVOKE:
            if p in self.open_ops:
                raise BadInput(f"{self.where(line)}: process {p} invokes {op.f!r} while "
                               f"its {self.open_ops[p].f!r} is still in flight "
                               "(double invoke)")
            if p in self.retired:
                raise BadInput(f"{self.where(line)}: process {p} invokes after an info "
                               "completion (a crashed process must not be reused)")
            self.open_ops[p] = op
            return
        inv = self.open_ops.pop(p, None)
        if inv is None:
            raise BadInput(f"{self.where(line)}: {op.type} completion of {op.f!r} by "
                           f"process {p} without an invocation")
        if inv.f != op.f:
            raise BadInput(f"{self.where(line)}: completion f {op.f!r} does not match "
                           f"the invocation's {inv.f!r} (process {p})")
        if self.order and op.time < inv.time:
            raise BadInput(f"{self.where(line)}: completion time {op.time} is earlier "
                           f"than its invocation's {inv.time} (index {inv.index}, "
                           f"process {p})")
        if op.type == INFO and p != NEMESIS:
            self.retired.add(p)



_BATCH_LINES = 4096  # lines decoded and checked together (and the deadline's period),
_BATCH_CHARS = 1 << 20  # or, from a file, about this many characters of lines
_scan_value = json.scanner.c_make_scanner(json.JSONDecoder())  # what _decode calls, bare
_JSON_BLANKS = " \t\n\r"  # JSON's whitespace (str.rstrip() alone would take more)
_LIST_TEXT_MIN = 64  # shorter list texts are not worth a digest
_first, _second = itemgetter(0), itemgetter(1)


class _ListTexts:
    """Set reads by their text: a read's list of ints / strings is decoded once per
    distinct text of it in the file, and every read with that text is the same list
    object (with its elements shared, as `_shared_elements` does). A set run's reads
    repeat: a key's read is the previous one again whenever nothing was added in
    between, and each read holds every element added before it, so decoding each list
    anew was most of the reading (issue 23: 30 of the 60 s of a 1M-operation strong set
    check). A text is known by its SHA-256 digest (never by Python's 64-bit `hash`,
    which a chosen file can collide): two different texts with one digest are not
    found in practice, as git names objects by theirs. Only a top-level `"value":[...]`
    is cut out (`cut`); everything else about the line is decoded and checked as
    always."""

    __slots__ = ("by_digest", "share", "sha256")

    def __init__(self, strings: dict) -> None:
        from hashlib import sha256  # here, not at the top: its OpenSSL start costs every
        # `gtcheck` start 2-3 ms of CPU, and only a JSONL history's set reads need it
        self.by_digest: dict[bytes, list] = {}
        self.share = strings.setdefault
        self.sha256 = sha256

    def cut(self, line: str) -> tuple[str, list] | None:
        """(the line with its value list replaced by null, the list), or None when the
        line is not plainly `{..."value":[ints or strings]...}` with "value" once and
        nothing nested before it (then the line is decoded whole)."""
        a = line.find('"value"')
        if a < 0 or not line.startswith(":[", a + 7):
            return None
        b = line.find("]", a + 9) + 1  # the first "]": a list of strings holding one
        # fails to decode below, and a nested list too (only ints and strings pass)
        if b - a < _LIST_TEXT_MIN or not line.startswith("{") \
                or line.find("{", 1, a) >= 0 or line.find("[", 0, a) >= 0 \
                or line.find('"value"', b) >= 0:
            return None
        text = line[a + 8:b]
        digest = self.sha256(text.encode()).digest()
        value = self.by_digest.get(digest)
        if value is None:
            try:
                value = _decode(text)
            except (ValueError, RecursionError):
                return None
            if type(value) is not list or not set(map(type, value)) <= _INT_OR_STR:
                return None
            value[:] = map(self.share, value, value)
            self.by_digest[digest] = value
        return line[:a + 8] + "null" + line[b:], value


def _read_batch(batch: list[str], last_index: int, lists: _ListTexts,
                share: Callable[[Any, Any], Any], checker: "_Checker | None",
                first_line: int) -> list[Op] | None:
    """The ops of `batch` (lines numbered from `first_line`) when some of its value
    lists are long enough to cut out (`lists`: a set run's reads), its lines then
    decoded by one C-level `map` of the JSON scanner; None, with nothing fed to the
    checker, when no list was cut, or a line is not one JSON value alone (a blank line,
    bad JSON) or not an op: the caller then reads the batch line by line, which names
    the first bad line as always."""
    texts = batch
    cut_values: list[tuple[int, list]] = []
    cut = lists.cut
    for i, line in enumerate(batch):
        if '"value":[' in line:
            got = cut(line)
            if got is not None:
                if texts is batch:
                    texts = list(batch)
                texts[i], value = got
                cut_values.append((i, value))
    if not cut_values:  # measured: without lists to cut, line by line is faster (a
        return None     # 1M-operation register file 9.5-9.9 CPU s, in batches 11.9-12.2)
    try:  # a line that is not one JSON value (leading blanks too) ends the map early
        scanned = list(map(_scan_value, texts, repeat(0)))
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    if len(scanned) != len(batch) or list(map(_second, scanned)) != list(
            map(len, map(str.rstrip, texts, repeat(_JSON_BLANKS)))):
        return None  # (something after the value)
    ds = list(map(_first, scanned))
    del scanned, texts
    for i, _ in cut_values:  # the list cut out was the line's own "value"
        d = ds[i]
        if type(d) is not dict or "value" not in d or d["value"] is not None:
            return None
    ops: list[Op] = []
    add = ops.append
    for d in ds:
        try:
            op = _op_of(d, last_index + 1, share)
        except BadInput:
            return None
        last_index = op.index
        add(op)
    for i, value in cut_values:  # an invocation's list is its own, as line by line
        _set_value(ops[i], value if ops[i].type != INVOKE else list(value))
    if checker is not None:
        feed = checker.feed
        for i, op in enumerate(ops, start=first_line):
            feed(op, i)
    return ops


class ReadTimedOut(Exception):
    """Reading a history passed its deadline (`parse_jsonl(..., deadline=)`)."""


def parse_jsonl(lines: Iterable[str], *, source: str = "<history>",
                check: bool = True, deadline: float | None = None) -> list[Op]:
    """Decode JSON Lines into ops and (by default) validate them, including the file
    rules on `index` and `time` (see the module docstring).

    BadInput names the source and line of the first problem, never a traceback.
    `deadline` (time.monotonic()) raises ReadTimedOut once passed (checked every batch:
    4,096 lines, or about 1 MB of a file), for a caller whose time budget includes
    reading.
    """
    ops: list[Op] = []
    checker = _Checker(source, order=True) if check else None
    strings: dict[str, str] = {t: t for t in TYPES}  # one str per distinct key/region/f
    lists = _ListTexts(strings)
    last_index = -1
    lineno = 0
    # a file: about 1 MB of lines at a time (a set run's late reads are tens of KB each:
    # 4,096 of them held at once would be hundreds of MB); other iterables by count
    it = iter(lines)
    readlines = getattr(lines, "readlines", None)
    next_batch = ((lambda: readlines(_BATCH_CHARS)) if readlines is not None
                  else (lambda: list(islice(it, _BATCH_LINES))))
    # Nothing read here makes a reference cycle; the collector's passes over the growing
    # heap would otherwise cost about as much as the reading itself.
    collecting = gc.isenabled()
    gc.disable()
    try:
        while True:
            batch = next_batch()
            if not batch:
                break
            got = _read_batch(batch, last_index, lists, strings.setdefault, checker,
                              lineno + 1)
            if got is None:  # not the common shape: line by line, with the exact errors
                got = _read_lines(batch, lineno + 1, last_index, strings.setdefault,
                                  checker, source)
            lineno += len(batch)
            if got:
                last_index = got[-1].index
                ops += got
            if deadline is not None and _monotonic() > deadline:
                raise ReadTimedOut(f"{source}: reading passed the deadline at line {lineno}")
    finally:
        if collecting:
            gc.enable()
    if len(ops) > 1 and all(op.time == 0 for op in ops):
        _index_stands_for_time(ops)
    return ops


def _index_stands_for_time(ops: Sequence[Op]) -> None:
    """A file with no times (every `time` absent or 0): its order is its real-time order,
    as in Jepsen's and Knossos's histories (a history is a sequence; `:time` is optional,
    and an operation that completed before another was invoked comes first in it), so
    each op's index stands for its time. Read as time 0 throughout, every operation would
    be concurrent with every other and real-time order lost: a non-linearizable register
    history would be VALID (the same rule `checkers.elle.txn.load` applies to
    transactions; found by the transactional differential test)."""
    for op in ops:
        _set_time(op, op.index)


def _read_lines(lines: Sequence[str], first_line: int, last_index: int,
                share: Callable[[Any, Any], Any], checker: "_Checker | None",
                source: str) -> list[Op]:
    """`lines` (numbered from `first_line`) one at a time: each line decoded, shaped and
    fed to the checker in turn, so the first problem is the one reported, by line."""
    ops: list[Op] = []
    add = ops.append
    feed = checker.feed if checker is not None else None
    decode = _decode
    for lineno, line in enumerate(lines, start=first_line):
        try:
            d = decode(line)
        except json.JSONDecodeError as e:
            if not line or line.isspace():
                continue
            raise BadInput(f"{source}:{lineno}: not valid JSON ({e.msg})") from None
        except RecursionError:
            raise BadInput(f"{source}:{lineno}: not valid JSON (nested too deeply)"
                           ) from None
        except ValueError as e:  # Python's int-string limit (a 5,000-digit number)
            raise BadInput(f"{source}:{lineno}: not valid JSON ({str(e)[:60]})"
                           ) from None
        try:
            op = _op_of(d, last_index + 1, share)
        except BadInput as e:
            raise BadInput(f"{source}:{lineno}: {e}") from None
        last_index = op.index
        if feed is not None:
            feed(op, lineno)
        add(op)
    return ops


def validate(ops: Sequence[Op], *, source: str = "<history>",
             lines: Sequence[int] | None = None, order: bool = False) -> None:
    """Check the pairing rules of the module docstring; BadInput names the first bad line.

    With `order` (what the file readers ask for) also the file rules: indices rise
    strictly, times are not negative, no completion precedes its invocation."""
    feed = _Checker(source, order, lines).feed
    for i, op in enumerate(ops):
        feed(op, i if lines is not None else i + 1)


def read_jsonl(path: str | os.PathLike, *, check: bool = True,
               deadline: float | None = None) -> list[Op]:
    """Read and (by default) validate a history.jsonl; BadInput names the bad line."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as raw:  # /dev/zero would be one endless line: say so
            nul = raw.read(1 << 16).find(b"\0")
        if nul >= 0:
            raise BadInput(f"{path}: not a text file (a NUL byte at offset {nul})")
        with open(path, encoding="utf-8") as fh:
            return parse_jsonl(fh, source=path, check=check, deadline=deadline)
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None


@dataclass(frozen=True, slots=True)
class Pair:
    """An invocation and its completion (None if the history ended with it in flight).

    `type`, `start` and `end` are derived from the two ops when the pair is made and
    kept as plain fields (not properties): the checkers read them tens of millions of
    times on a million-operation history (issue 23)."""

    invoke: Op
    complete: Op | None
    # ok / fail / info; an operation never completed counts as info
    type: str = field(init=False, compare=False, repr=False)
    start: int = field(init=False, compare=False, repr=False)  # the invocation's time
    # completion time, or None when the outcome is unknown (info / never completed)
    end: int | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        _derive(self, self.invoke, self.complete)

    @property
    def value(self) -> Any:
        """The completion's value when it has one (a read's result), else the invocation's."""
        if self.complete is not None and self.complete.value is not None:
            return self.complete.value
        return self.invoke.value


_set_invoke, _set_complete, _set_ptype, _set_start, _set_end = (
    Pair.__dict__[n].__set__ for n in ("invoke", "complete", "type", "start", "end"))


def _derive(p: Pair, invoke: Op, complete: Op | None) -> None:
    _set_start(p, invoke.time)
    if complete is None:
        _set_ptype(p, INFO)
        _set_end(p, None)
    else:
        t = complete.type
        _set_ptype(p, t)
        _set_end(p, None if t == INFO else complete.time)


def _make_pair(invoke: Op, complete: Op | None) -> Pair:
    """Pair(invoke, complete), built without the frozen dataclass's __init__."""
    p = _new(Pair)
    _set_invoke(p, invoke)
    _set_complete(p, complete)
    _derive(p, invoke, complete)
    return p


def pair(ops: Iterable[Op]) -> list[Pair]:
    """Match invocations with completions, in invocation order: by position, per
    process (never by index or time). Assumes a valid history."""
    invokes: list[Op] = []
    completes: list[Op | None] = []
    slot: dict[Any, int] = {}
    pop = slot.pop
    for op in ops:
        if op.type == INVOKE:
            slot[op.process] = len(invokes)
            invokes.append(op)
            completes.append(None)
        else:
            i = pop(op.process, None)
            if i is not None:
                completes[i] = op
    return list(map(_make_pair, invokes, completes))


def client_ops(ops: Iterable[Op]) -> Iterator[Op]:
    return (op for op in ops if op.process != NEMESIS)


# --- Fault periods -------------------------------------------------------------------
# Nemesis operations name the fault action in `f` and its target in `value`. These begin
# a fault; "heal" ends every open fault; the END_ACTIONS end the matching begun fault.
FAULT_ACTIONS = frozenset(("isolate", "cut", "cut-oneway", "delay", "delay-oneway",
                           "pause-replication",
                           "stop", "skew-clock", "slow", "lag-copy", "pause",
                           "fis-pause-replication",
                           "client-partition", "client-latency", "client-timeout"))
# Faults of a remote run's client hosts (suite.remote.faults; value {"host", "region"}):
# they hit that region's clients, not the table.
CLIENT_HOST_FAULTS = frozenset(("cut-host", "kill-worker", "pause-worker",
                                "skew-host-clock", "delay-host"))
FAULT_ACTIONS = FAULT_ACTIONS | CLIENT_HOST_FAULTS
END_ACTIONS = {"resume-replication": "pause-replication", "start": "stop", "resume": "pause",
               "unlag-copy": "lag-copy",
               "fis-resume-replication": "fis-pause-replication",
               "restart-worker": "kill-worker", "resume-worker": "pause-worker",
               "unskew-host-clock": "skew-host-clock"}
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


def fault_periods(ops: Iterable[Op], *, possible: bool = False) -> list[FaultPeriod]:
    """The fault periods of a history, from its nemesis operations, in start order.

    A fault begins when its nemesis operation completes ok (a failed or crashed fault
    injection is not assumed to have taken effect) and ends at the invocation of the
    "heal" or matching end action that removes it. With `possible`, a fault whose
    injection completed `info` (unknown: it may have taken effect at any time after its
    invocation, as Knossos reads :info) is in force from its invocation too -- for the
    judgements that must not blame the system for what such a fault may have caused
    (a quiet round's agreement, availability); never for those that need a fault
    certainly in force to call something a violation. With `possible` every fault is
    also counted from its injection's invocation (it took effect at some moment before
    the `ok`: a stop answered 0.3 s late on a loaded machine refused connections long
    before), and until its heal or end action was answered (it may stay in force until
    then).
    """
    open_: list[tuple[str, Any, int]] = []
    done: list[FaultPeriod] = []
    invoked_at: dict[Any, int] = {}
    closing: list[tuple[str, str, Any, int]] = []  # possible: (closer, f, value, start)
    for op in ops:
        if op.process != NEMESIS:
            continue
        if op.type == INVOKE:
            invoked_at[op.f] = op.time
            if op.f == HEAL:
                ended, open_ = open_, []
            elif op.f in END_ACTIONS:
                begun = END_ACTIONS[op.f]
                ended = [(f, v, s) for f, v, s in open_ if f == begun and
                         _target_region(op.value) in (None, _target_region(v))]
                open_ = [x for x in open_ if x not in ended]
            else:
                continue
            if possible:
                closing.extend((op.f, f, v, s) for f, v, s in ended)
            else:
                done.extend(FaultPeriod(f, v, s, op.time) for f, v, s in ended)
            continue
        if possible and (op.f == HEAL or op.f in END_ACTIONS):
            done.extend(FaultPeriod(f, v, s, op.time) for c, f, v, s in closing if c == op.f)
            closing = [x for x in closing if x[0] != op.f]
        if op.type == OK and op.f in FAULT_ACTIONS:
            start = invoked_at.get(op.f, op.time) if possible else op.time
            open_.append((op.f, op.value, start))
        elif possible and op.type == INFO and op.f in FAULT_ACTIONS:
            open_.append((op.f, op.value, invoked_at.get(op.f, op.time)))
    done.extend(FaultPeriod(f, v, s, None) for f, v, s in open_)
    done.extend(FaultPeriod(f, v, s, None) for _, f, v, s in closing)
    return sorted(done, key=lambda p: p.start)
